// File: common/shutdown_signals.h
//
// How skydeckd and skydeck-web wait to be stopped: SIGTERM and SIGINT are
// blocked in every thread and the main thread takes them with sigwait, so
// no thread is interrupted mid-call and shutdown runs as ordinary code
// (no async-signal-safety rules).
//
//   int main() {
//     ShutdownSignals signals = BlockShutdownSignals();  // before any thread
//     ... start servers ...
//     int sig = signals.Wait();                           // SIGTERM or SIGINT
//     ... stop servers ...
//   }
#pragma once

#include <signal.h>

namespace skydeck {

class ShutdownSignals {
 public:
  explicit ShutdownSignals(const sigset_t& set) : set_(set) {}

  // Waits for SIGTERM or SIGINT (one already pending returns at once) and
  // returns it. REQUIRES: called from the thread that blocked them.
  int Wait() const;

 private:
  sigset_t set_;
};

// BlockShutdownSignals()
//
// Blocks SIGTERM and SIGINT in the calling thread, and so in every thread
// it starts afterwards. REQUIRES: called before any other thread exists
// (a thread started earlier would still take them and die).
ShutdownSignals BlockShutdownSignals();

// "SIGTERM", "SIGINT", else "another signal": for the shutdown log line.
const char* ShutdownSignalName(int sig);

}  // namespace skydeck
