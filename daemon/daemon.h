// File: daemon/daemon.h
//
// skydeckd's components wired together. Start() brings them up in
// dependency order, one short step each (data directory, the instance
// locks, a restore when asked, store, backend, secrets, controller, notifier, gRPC server,
// HTTP bridge); every step that started something
// registers how to stop it, and Stop() (or the destructor) runs those in
// reverse order. A step that fails leaves only the earlier ones running,
// and they are stopped the same way, so no error path tears anything down
// by hand.
//
//   Daemon daemon(options);
//   absl::Status started = daemon.Start();
//   if (!started.ok()) return DaemonExitCode(started);
//   WaitForShutdownSignal();
//   daemon.Stop();
//
// Thread-safety: Start and Stop from one thread (main's); the components
// serve requests on their own threads in between.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"

#include "daemon/backend/backend.h"
#include "daemon/daemon_options.h"
#include "daemon/instance_lock.h"
#include "daemon/prices_and_links.h"
#include "daemon/metrics/grpc_server_metrics.h"
#include "daemon/metrics/metered_backend.h"
#include "daemon/notify/notifier.h"
#include "daemon/reconcile/controller.h"
#include "daemon/service/skydeck_service.h"
#include "daemon/service/watch_hub.h"
#include "daemon/snapshots/snapshot_collector.h"
#include "daemon/snapshots/snapshot_store.h"
#include "daemon/store/state_counts.h"
#include "daemon/store/store.h"
#include "daemon/workload/secret_source.h"

namespace grpc {
class Server;
}
namespace skydeck::web {
class HttpBridge;
}

namespace skydeck {

// skydeckd's exit statuses besides 0 and kExitUsage (daemon_options.h).
// Scripts and service managers branch on them, so they never change.
inline constexpr int kExitStartFailed = 1;
// Another skydeckd holds this data directory or database (instance_lock.h).
inline constexpr int kExitInUse = 3;
// The database failed its integrity check: restore it from a backup.
inline constexpr int kExitDatabaseDamaged = 4;

// The exit status a failed Start() asks for: the one attached with
// WithExitCode, else kExitStartFailed.
int DaemonExitCode(const absl::Status& status);
// `status` carrying the exit status skydeckd should end with.
absl::Status WithExitCode(absl::Status status, int exit_code);

class Daemon {
 public:
  explicit Daemon(DaemonOptions options);
  // Stops whatever is still running.
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Daemon::Start()
  //
  // Starts every component and, once both listeners are up, logs
  // "skydeckd started" and writes the ready file. On error, the components
  // already started are stopped again and the error says what failed; its
  // DaemonExitCode is the exit status to use.
  // REQUIRES: called once.
  absl::Status Start();

  // Daemon::Stop()
  //
  // Ends Watch and log streams, then stops the components in reverse order
  // of start: no new HTTP requests, gRPC calls finish (cancelled after 5 s),
  // in-flight reconciles finish, the database is closed after the last
  // write. Idempotent.
  void Stop();

  // "host:port" of the listeners; "" before Start (http: when HTTP is off).
  const std::string& grpc_address() const { return grpc_address_; }
  const std::string& http_address() const { return http_address_; }

 private:
  // The start steps, in order.
  absl::Status CheckExposure() const;
  absl::Status LoadPricesAndLinks();
  absl::Status CreateDataDir() const;
  absl::Status AcquireLocks();
  absl::Status RestoreDatabase() const;
  absl::Status OpenStore();
  absl::Status OpenSnapshots();
  absl::Status StartBackend();
  absl::Status OpenSecrets();
  absl::Status StartController();
  absl::Status StartNotifier();
  absl::Status StartGrpc();
  absl::Status StartHttp();
  void AnnounceReady();

  // Registers how to undo a step that succeeded; Stop() runs these last
  // first.
  void OnStop(std::function<void()> stop) { stops_.push_back(std::move(stop)); }

  const DaemonOptions options_;
  PriceTable prices_;
  std::vector<LinkTemplate> link_templates_;
  std::vector<std::function<void()>> stops_;

  // Components, in start order (destroyed in reverse).
  std::unique_ptr<InstanceLock> data_dir_lock_;
  std::unique_ptr<InstanceLock> db_lock_;  // null when it is the same file
  std::unique_ptr<store::Store> store_;
  std::string installation_id_;
  std::unique_ptr<service::WatchHub> hub_;
  std::unique_ptr<snapshots::SnapshotStore> snapshots_;
  std::unique_ptr<snapshots::SnapshotCollector> snapshot_collector_;
  metrics::BackendCallMetrics backend_calls_;  // outlives the backend
  std::unique_ptr<backend::Backend> backend_;
  std::string backend_reason_;
  // The poll interval in effect (the flag, else the backend's default).
  absl::Duration poll_interval_;
  std::unique_ptr<workload::SecretSource> secrets_;
  std::unique_ptr<reconcile::Controller> controller_;
  std::unique_ptr<notify::Notifier> notifier_;  // null without --notify
  std::unique_ptr<store::StateCounts> state_counts_;
  std::unique_ptr<service::SkyDeckService> api_;
  metrics::GrpcServerMetrics grpc_metrics_;  // outlives the server
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<web::HttpBridge> bridge_;

  std::string grpc_address_;
  std::string http_address_;
};

}  // namespace skydeck
