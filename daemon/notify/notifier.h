// File: daemon/notify/notifier.h
//
// Delivers notifications to the sinks of `skydeckd --notify FILE`.
//
// The outbox is the events table: every change writes its events in the
// same transaction as the change itself (store.h), so an event that
// happened is there, crash or not. Each sink keeps a durable cursor
// (notify_cursors: the newest event id it has dealt with) and a thread of
// its own that reads the events after it, oldest first; an event the sink
// does not want (kind, label selector) just moves the cursor, one it
// wants is POSTed and the cursor moves once the receiver answered 2xx.
// A failure keeps the cursor and retries the same event after a backoff
// (delivery_backoff.h), so order is kept and nothing is skipped. A crash
// between a delivery and its cursor write sends that event again after
// restart, with the same idempotency key (webhook_payload.h): delivery is
// at least once, and exactly once for a receiver that drops repeated keys.
//
// Nothing here runs on a reconcile or an API call's thread, except
// SendTest, which is that call's purpose. The backend's health is sampled
// once a second for the backend_unreachable / backend_reachable events,
// recorded like every other event (backend_watch.h).
//
// Thread-safety: every public method is safe to call concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

#include "common/prometheus_text.h"
#include "daemon/notify/delivery_backoff.h"
#include "daemon/notify/notify_config.h"
#include "daemon/reconcile/control_plane.h"
#include "daemon/store/store.h"

namespace skydeck::notify {

// Sends `body` to `sink` with that idempotency key (PostWebhook; tests
// inject their own).
using PostFunction = std::function<absl::Status(const SinkConfig& sink, const std::string& body,
                                                const std::string& idempotency_key)>;

struct NotifierOptions {
  NotifyConfig config;
  std::string installation_id;
  BackoffPolicy backoff;
  // The newest committed event id (the watch hub's): sinks look for new
  // events when it moves, and at least every `idle_check`.
  std::function<int64_t()> revision;
  absl::Duration idle_check = absl::Seconds(1);
  // The backend's health; null: no backend events.
  std::function<reconcile::BackendHealth()> backend_health;
  absl::Duration backend_check = absl::Seconds(1);
  PostFunction post;  // default: PostWebhook
  int batch = 100;
};

// One sink as health and /metrics show it. Never holds the URL itself.
struct SinkStatus {
  std::string name;
  std::string url;  // redacted: scheme://host[:port]/…
  std::string format;
  std::vector<std::string> events;
  std::string selector;
  int64_t delivered = 0;  // since start
  int64_t failed = 0;     // attempts, since start
  int consecutive_failures = 0;
  bool failing = false;  // consecutive_failures >= kFailingAfter
  std::string last_error;
  int64_t last_delivery_ms = 0;
  int64_t last_failure_ms = 0;
  int64_t next_attempt_ms = 0;  // 0: not waiting out a backoff
  int64_t cursor = 0;           // newest event id dealt with
};

struct TestResult {
  std::string sink;
  std::string url;  // redacted
  absl::Status status;
  int64_t duration_ms = 0;
};

class Notifier {
 public:
  Notifier(store::Store* store, NotifierOptions options);
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Notifier::Start()
  //
  // Loads each sink's cursor (a new sink starts at the newest event) and
  // starts the threads. Errors: the store's. REQUIRES: called once.
  absl::Status Start();
  // Ends the threads; an attempt in flight ends within its timeout.
  // Idempotent.
  void Stop();

  std::vector<SinkStatus> Status() const;

  // Notifier::SendTest()
  //
  // POSTs a test message to every sink, or to the one named `only`, all at
  // once, and waits for their answers. Cursors and counters are untouched.
  // Errors: NOT_FOUND for an unknown `only`.
  absl::StatusOr<std::vector<TestResult>> SendTest(const std::string& only);

  // skydeck_notify_* families (daemon_metrics.h lists them).
  void RenderMetrics(PrometheusText* out) const;

 private:
  class SinkWorker;

  void WatchBackend();

  store::Store* const store_;
  const NotifierOptions options_;
  std::vector<std::unique_ptr<SinkWorker>> workers_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread backend_thread_;
};

}  // namespace skydeck::notify
