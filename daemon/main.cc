// skydeckd: parses its options, starts the Daemon (daemon.h) and runs until
// SIGTERM or SIGINT, then shuts down cleanly.
#include "common/log.h"
#include "common/shutdown_signals.h"
#include "daemon/daemon.h"
#include "daemon/daemon_options.h"
#include "daemon/malloc_policy.h"

namespace skydeck {
namespace {

int Run(const DaemonOptions& options) {
  SetLogLevel(options.log_level);
  ShutdownSignals signals = BlockShutdownSignals();
  Daemon daemon(options);
  absl::Status started = daemon.Start();
  if (!started.ok()) {
    LogError("skydeckd cannot start", {{"error", std::string(started.message())}});
    return DaemonExitCode(started);
  }
  // Free heap pages back to the kernel now and then (malloc_policy.h).
  MallocTrimmer trimmer(absl::Seconds(30));
  int sig = signals.Wait();
  LogInfo("shutting down", {{"signal", ShutdownSignalName(sig)}});
  daemon.Stop();
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
