// skydeckd: parses its options, starts the Daemon (daemon.h) and runs until
// SIGTERM or SIGINT, then shuts down cleanly.
#include <signal.h>

#include "common/log.h"
#include "daemon/daemon.h"
#include "daemon/daemon_options.h"
#include "daemon/malloc_policy.h"

namespace skydeck {
namespace {

// Blocks SIGTERM/SIGINT in every thread (so it must run before any thread
// starts); main waits for them with sigwait.
sigset_t BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int Run(const DaemonOptions& options) {
  SetLogLevel(options.log_level);
  sigset_t signals = BlockShutdownSignals();
  Daemon daemon(options);
  absl::Status started = daemon.Start();
  if (!started.ok()) {
    LogError("skydeckd cannot start", {{"error", std::string(started.message())}});
    return DaemonExitCode(started);
  }
  // Free heap pages back to the kernel now and then (malloc_policy.h).
  MallocTrimmer trimmer(absl::Seconds(30));
  int sig = 0;
  sigwait(&signals, &sig);
  LogInfo("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
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
