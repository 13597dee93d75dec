// skydeckd: opens the store, starts the gRPC API (with health checking and
// reflection), and shuts down cleanly on SIGTERM/SIGINT.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/time_util.h"
#include "daemon/daemon_options.h"
#include "daemon/service/skydeck_service.h"
#include "daemon/service/watch_hub.h"
#include "daemon/store/store.h"

namespace skydeck {
namespace {

constexpr int kMaxMessageBytes = 8 * 1024 * 1024;

// Blocks SIGTERM/SIGINT in every thread; a dedicated thread waits for them.
sigset_t BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

bool WriteReadyFile(const std::string& path, const std::string& address) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << address << "\n";
    if (!out) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);  // atomic: readers never see half
  return !ec;
}

int Run(const DaemonOptions& o) {
  SetLogLevel(o.log_level);
  sigset_t signals = BlockShutdownSignals();

  std::error_code ec;
  std::filesystem::create_directories(o.data_dir, ec);
  if (ec) {
    LogError("cannot create data directory", {{"path", o.data_dir}, {"error", ec.message()}});
    return 1;
  }
  auto store = store::Store::Open(o.db_path);
  if (!store.ok()) {
    LogError("cannot open database", {{"path", o.db_path},
                                      {"error", std::string(store.status().message())}});
    return 1;
  }
  auto revision = (*store)->LatestRevision();
  service::WatchHub hub(revision.ok() ? *revision : 0);
  (*store)->SetCommitListener([&hub](int64_t rev) { hub.Publish(rev); });

  service::SkyDeckService api(store->get(), &hub, /*control=*/nullptr, SKYDECK_VERSION,
                              NowMillis());
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  std::string listen = absl::StrCat(o.host.find(':') != std::string::npos ? "[" : "", o.host,
                                    o.host.find(':') != std::string::npos ? "]" : "", ":",
                                    o.port);
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.RegisterService(&api);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    LogError("cannot listen", {{"addr", listen}});
    return 1;
  }
  std::string address = absl::StrCat(o.host, ":", port);
  LogInfo("skydeckd started", {{"version", SKYDECK_VERSION}, {"grpc", address},
                               {"db", o.db_path}, {"data_dir", o.data_dir}});
  if (!o.ready_file.empty() && !WriteReadyFile(o.ready_file, address)) {
    LogError("cannot write ready file", {{"path", o.ready_file}});
  }

  int sig = 0;
  sigwait(&signals, &sig);
  LogInfo("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  hub.Close();  // ends Watch streams
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server->Wait();
  store->reset();  // closes the database after the last write
  LogInfo("stopped");
  return 0;
}

}  // namespace
}  // namespace skydeck

int main(int argc, char** argv) {
  auto parsed = skydeck::ParseDaemonOptions(argc, argv, SKYDECK_VERSION);
  if (parsed.exit_now) return parsed.exit_code;
  return skydeck::Run(parsed.options);
}
