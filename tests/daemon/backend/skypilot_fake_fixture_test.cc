// The SkyPilot fake fixture's own contract: a test process that dies
// without running the fixture's destructor leaves no fake server behind.
#include "daemon/backend/skypilot_fake_fixture.h"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <sys/wait.h>

namespace skydeck::testing {
namespace {

// True while `pid` exists and is not a zombie.
bool Alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z';
}

TEST_CASE("a fake server dies with the test process that started it", "[skypilot][fixture]") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t test_process = fork();
  REQUIRE(test_process >= 0);
  if (test_process == 0) {
    // Stands in for a test that crashes: starts a fake, then exits without
    // unwinding, so the destructor never runs.
    close(fds[0]);
    try {
      auto* fake = new SkyPilotFake();
      pid_t pid = fake->pid();
      (void)!write(fds[1], &pid, sizeof pid);
    } catch (...) {
    }
    _exit(0);
  }
  close(fds[1]);
  pid_t fake_pid = 0;
  ssize_t n = read(fds[0], &fake_pid, sizeof fake_pid);
  close(fds[0]);
  int status = 0;
  REQUIRE(waitpid(test_process, &status, 0) == test_process);
  REQUIRE(n == sizeof fake_pid);
  REQUIRE(fake_pid > 0);

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Alive(fake_pid) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  bool survived = Alive(fake_pid);
  if (survived) kill(fake_pid, SIGKILL);  // do not leave it running either way
  CHECK_FALSE(survived);
}

}  // namespace
}  // namespace skydeck::testing
