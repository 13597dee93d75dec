// skydeckd: opens the store, starts the reconciler and the backend, serves
// the gRPC API (with health checking and reflection) and the HTTP/JSON
// bridge, and shuts down cleanly on SIGTERM/SIGINT.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/loopback.h"
#include "common/time_util.h"
#include "daemon/backend_factory.h"
#include "daemon/daemon_options.h"
#include "daemon/malloc_policy.h"
#include "daemon/metrics/daemon_metrics.h"
#include "daemon/metrics/grpc_metrics_interceptor.h"
#include "daemon/metrics/metered_backend.h"
#include "daemon/reconcile/controller.h"
#include "daemon/service/skydeck_service.h"
#include "daemon/service/watch_hub.h"
#include "daemon/store/store.h"
#include "web/bridge/http_bridge.h"

namespace skydeck {
namespace {

constexpr int kMaxMessageBytes = 8 * 1024 * 1024;

// Blocks SIGTERM/SIGINT in every thread; main waits for them with sigwait.
sigset_t BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

bool WriteReadyFile(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << content;
    if (!out) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);  // atomic: readers never see half
  return !ec;
}

std::string HostPort(const std::string& host, int port) {
  bool v6 = host.find(':') != std::string::npos && host.front() != '[';
  return absl::StrCat(v6 ? "[" : "", host, v6 ? "]" : "", ":", port);
}

// Binding beyond loopback exposes the API to the network: only with a token.
bool CheckExposure(const DaemonOptions& o) {
  bool exposed = !IsLoopbackHost(o.host) || (o.http && !IsLoopbackHost(o.http_host));
  if (exposed && o.auth_token.empty()) {
    LogError("refusing to listen on a non-loopback address without a token; set "
             "--auth-token-file or SKYDECK_AUTH_TOKEN",
             {{"grpc_host", o.host}, {"http_host", o.http_host}});
    return false;
  }
  return true;
}

int Run(const DaemonOptions& o) {
  SetLogLevel(o.log_level);
  sigset_t signals = BlockShutdownSignals();
  if (!CheckExposure(o)) return 2;

  std::error_code ec;
  std::filesystem::create_directories(o.data_dir, ec);
  if (ec) {
    LogError("cannot create data directory", {{"path", o.data_dir}, {"error", ec.message()}});
    return 1;
  }
  auto store = store::Store::Open(o.db_path);
  if (!store.ok()) {
    LogError("cannot open database", {{"path", o.db_path}, {"error", store.status().ToString()}});
    return 1;
  }
  auto revision = (*store)->LatestRevision();
  auto installation = (*store)->InstallationId();
  if (!revision.ok() || !installation.ok()) {
    LogError("cannot read database", {{"path", o.db_path}});
    return 1;
  }
  // Free heap pages back to the kernel now and then (malloc_policy.h).
  MallocTrimmer trimmer(absl::Seconds(30));
  service::WatchHub hub(*revision);
  (*store)->SetCommitListener([&hub](int64_t rev) { hub.Publish(rev); });

  auto selected = MakeBackend(o, *installation, **store);
  if (!selected.ok()) {
    LogError("cannot start backend", {{"backend", o.backend}, {"error", selected.status().ToString()}});
    return 1;
  }
  LogInfo("backend selected",
          {{"backend", selected->backend->name()}, {"reason", selected->reason}});
  // Every backend call is timed for /metrics, whichever component makes it.
  metrics::BackendCallMetrics backend_calls;
  absl::StatusOr<std::unique_ptr<backend::Backend>> backend = std::unique_ptr<backend::Backend>(
      std::make_unique<metrics::MeteredBackend>(std::move(selected->backend), &backend_calls));
  reconcile::ControllerOptions copts;
  copts.backend_reason = selected->reason;
  copts.workers = o.max_concurrent_launches;
  copts.poll_interval = o.poll_interval > absl::ZeroDuration()
                            ? o.poll_interval
                            : absl::Milliseconds((*backend)->DefaultPollIntervalMs());
  copts.resync_interval = o.reconcile_interval;
  reconcile::Controller controller(store->get(), backend->get(), *installation, copts);
  controller.Start();

  service::SkyDeckService api(store->get(), &hub, &controller, SKYDECK_VERSION, NowMillis(),
                              o.auth_token);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  metrics::GrpcServerMetrics grpc_metrics;  // outlives the server
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(HostPort(o.host, o.port), grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.RegisterService(&api);
  // Counts every call on the server: CLI, Python, the bridge's in-process channel.
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  // The API's methods by descriptor (a generated message ties them in).
  metrics::ServedMethods served = metrics::MethodsOf(
      *skydeck::v1::GetHealthRequest::descriptor()->file()->FindServiceByName("SkyDeck"));
  served.merge(metrics::GrpcInfrastructureMethods());
  interceptors.push_back(metrics::NewMetricsInterceptorFactory(&grpc_metrics, std::move(served)));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    LogError("cannot listen", {{"addr", HostPort(o.host, o.port)}});
    controller.Stop();
    return 1;
  }
  std::string grpc_address = HostPort(o.host, port);

  std::unique_ptr<web::HttpBridge> bridge;
  std::string http_address;
  if (o.http) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kMaxMessageBytes);
    web::BridgeOptions bopts;
    bopts.host = o.http_host;
    bopts.port = o.http_port;
    bopts.token = o.auth_token;
    for (const std::string& h : o.http_allowed_hosts) {
      bopts.allowed_hosts.push_back(absl::AsciiStrToLower(h));
    }
    bopts.web_root = o.web_root;
    bopts.embedded_files = web::EmbeddedDashboardFiles();
    bopts.keepalive = absl::ToChronoMilliseconds(o.sse_keepalive);
    bopts.extra_metrics = [&] {
      return metrics::DaemonMetrics({.store = store->get(),
                                     .controller = &controller,
                                     .backend_name = (*backend)->name(),
                                     .grpc = &grpc_metrics,
                                     .backend_calls = &backend_calls});
    };
    bridge = std::make_unique<web::HttpBridge>(server->InProcessChannel(args), bopts);
    auto http_port = bridge->Start();
    if (!http_port.ok()) {
      LogError("cannot start HTTP", {{"error", http_port.status().ToString()}});
      server->Shutdown();
      controller.Stop();
      return 1;
    }
    http_address = HostPort(o.http_host, *http_port);
  }
  LogInfo("skydeckd started",
          {{"version", SKYDECK_VERSION}, {"grpc", grpc_address},
           {"http", o.http ? http_address : "off"}, {"backend", (*backend)->name()},
           {"db", o.db_path}, {"data_dir", o.data_dir},
           {"dashboard", o.web_root.empty() ? (web::EmbeddedDashboardFiles().empty() ? "not built" : "embedded") : o.web_root},
           {"auth", o.auth_token.empty() ? "off" : "token"}});
  if (!o.ready_file.empty() &&
      !WriteReadyFile(o.ready_file, absl::StrCat(grpc_address, "\n", http_address, "\n"))) {
    LogError("cannot write ready file", {{"path", o.ready_file}});
  }

  int sig = 0;
  sigwait(&signals, &sig);
  LogInfo("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  hub.Close();                  // ends Watch and log streams (and their SSE clients)
  if (bridge) bridge->Stop();   // no new HTTP requests
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  controller.Stop();            // finishes in-flight reconciles
  server->Wait();
  store->reset();               // closes the database after the last write
  LogInfo("stopped");
  return 0;
}

}  // namespace
}  // namespace skydeck

int main(int argc, char** argv) {
  // Before any thread exists: fewer malloc arenas bound the RSS that
  // freed memory holds (malloc_policy.h).
  skydeck::LimitMallocArenas(skydeck::kDaemonMallocArenas);
  auto parsed = skydeck::ParseDaemonOptions(argc, argv, SKYDECK_VERSION);
  if (parsed.exit_now) return parsed.exit_code;
  return skydeck::Run(parsed.options);
}
