#include "common/shutdown_signals.h"

#include <pthread.h>
#include <unistd.h>

#include <thread>

#include <catch2/catch.hpp>

namespace skydeck {
namespace {

// Restores the thread's signal mask when the test ends.
class MaskRestorer {
 public:
  MaskRestorer() { pthread_sigmask(SIG_SETMASK, nullptr, &saved_); }
  ~MaskRestorer() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

 private:
  sigset_t saved_;
};

TEST_CASE("a blocked SIGTERM or SIGINT is taken by Wait, not by a thread", "[common]") {
  MaskRestorer restore;
  ShutdownSignals signals = BlockShutdownSignals();
  // A thread started afterwards inherits the mask: the signal, sent to the
  // whole process, stays pending for Wait instead of killing it.
  sigset_t in_thread;
  std::thread([&] { pthread_sigmask(SIG_SETMASK, nullptr, &in_thread); }).join();
  CHECK(sigismember(&in_thread, SIGTERM) == 1);
  CHECK(sigismember(&in_thread, SIGINT) == 1);

  REQUIRE(kill(getpid(), SIGTERM) == 0);
  CHECK(signals.Wait() == SIGTERM);
  REQUIRE(kill(getpid(), SIGINT) == 0);
  CHECK(signals.Wait() == SIGINT);
}

TEST_CASE("shutdown signals have names for the log", "[common]") {
  CHECK(std::string(ShutdownSignalName(SIGTERM)) == "SIGTERM");
  CHECK(std::string(ShutdownSignalName(SIGINT)) == "SIGINT");
  CHECK(std::string(ShutdownSignalName(SIGHUP)) == "another signal");
}

}  // namespace
}  // namespace skydeck
