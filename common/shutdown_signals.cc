#include "common/shutdown_signals.h"

#include <pthread.h>

#include <cerrno>

namespace skydeck {

ShutdownSignals BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return ShutdownSignals(set);
}

int ShutdownSignals::Wait() const {
  int sig = 0;
  while (sigwait(&set_, &sig) != 0) {
    // sigwait fails only for an invalid set; retry rather than return a
    // signal nobody sent.
  }
  return sig;
}

const char* ShutdownSignalName(int sig) {
  switch (sig) {
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    default:
      return "another signal";
  }
}

}  // namespace skydeck
