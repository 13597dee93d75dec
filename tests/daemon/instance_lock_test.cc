// One skydeckd per database and data directory: the lock is exclusive
// between processes, names its holder, and dies with the holder.
#include "daemon/instance_lock.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include <sys/wait.h>

#include "absl/strings/str_cat.h"

namespace skydeck {
namespace {

namespace fs = std::filesystem;

struct LockFile {
  std::string path;
  LockFile() {
    static int n = 0;
    path = (fs::temp_directory_path() / absl::StrCat("skydeck-lock-", getpid(), "-", n++)).string();
    fs::remove(path);
  }
  ~LockFile() { fs::remove(path); }
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Record locks are per process: another process must try.
int InChild(const std::function<int()>& body) {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) _exit(body());
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

TEST_CASE("a second process is refused with the holder's pid and addresses", "[daemon][lock]") {
  LockFile file;
  auto held = InstanceLock::Acquire(file.path, "database /x/skydeck.db");
  REQUIRE(held.ok());
  // Read in another process: closing any descriptor of the file here would
  // drop this process's record lock (which is why nothing in skydeckd opens
  // its lock files).
  pid_t holder = getpid();
  CHECK(InChild([&] { return Slurp(file.path) == absl::StrCat("pid=", holder, "\n") ? 0 : 1; }) ==
        0);
  REQUIRE((*held)->RecordAddresses("127.0.0.1:50051", "127.0.0.1:8000").ok());

  int code = InChild([&] {
    auto second = InstanceLock::Acquire(file.path, "database /x/skydeck.db");
    if (second.ok()) return 1;
    if (!absl::IsAlreadyExists(second.status())) return 2;
    std::string message(second.status().message());
    for (const std::string& part :
         {absl::StrCat("pid ", getppid()), std::string("gRPC 127.0.0.1:50051"),
          std::string("HTTP 127.0.0.1:8000"), std::string("database /x/skydeck.db")}) {
      if (message.find(part) == std::string::npos) return 3;
    }
    return 0;
  });
  CHECK(code == 0);
}

TEST_CASE("the lock is free again once its holder is killed", "[daemon][lock]") {
  LockFile file;
  int ready[2];
  REQUIRE(pipe(ready) == 0);
  pid_t holder = fork();
  REQUIRE(holder >= 0);
  if (holder == 0) {
    auto held = InstanceLock::Acquire(file.path, "data directory /x");
    char c = held.ok() ? 'y' : 'n';
    (void)!write(ready[1], &c, 1);
    pause();  // until SIGKILL: no destructor, no clean-up
    _exit(0);
  }
  char c = 0;
  REQUIRE(read(ready[0], &c, 1) == 1);
  REQUIRE(c == 'y');
  CHECK(absl::IsAlreadyExists(InstanceLock::Acquire(file.path, "data directory /x").status()));
  kill(holder, SIGKILL);
  REQUIRE(waitpid(holder, nullptr, 0) == holder);
  close(ready[0]);
  close(ready[1]);
  // The dead holder's pid is still in the file: the kernel's lock decides.
  auto next = InstanceLock::Acquire(file.path, "data directory /x");
  CHECK(next.ok());
}

TEST_CASE("a fork of the holder does not hold the lock", "[daemon][lock]") {
  // The local backend's job monitors are forks that outlive the daemon.
  LockFile file;
  auto held = InstanceLock::Acquire(file.path, "data directory /x");
  REQUIRE(held.ok());
  int code = InChild([&] {
    // This child is a fork of the holder, like a job monitor: it must not
    // be able to keep the lock after the parent is gone. Record locks are
    // not inherited, so from here the file is simply held by someone else.
    auto again = InstanceLock::Acquire(file.path, "data directory /x");
    return absl::IsAlreadyExists(again.status()) ? 0 : 1;
  });
  CHECK(code == 0);
  held->reset();
  CHECK(Slurp(file.path).empty());  // no stale pid for a reader to trust
}

TEST_CASE("lock file content parses and describes its holder", "[daemon][lock]") {
  LockHolder h = ParseLockHolder("pid=42\ngrpc=[::1]:50051\nhttp=127.0.0.1:8000\nextra=1\n");
  CHECK(h.pid == 42);
  CHECK(h.grpc == "[::1]:50051");
  CHECK(h.http == "127.0.0.1:8000");
  CHECK(DescribeLockHolder(h) == "pid 42, gRPC [::1]:50051, HTTP 127.0.0.1:8000");
  CHECK(DescribeLockHolder(ParseLockHolder("pid=7\n")) == "pid 7, not listening yet");
  CHECK(DescribeLockHolder(ParseLockHolder("garbage")) == "pid unknown, not listening yet");
  CHECK(ParseLockHolder("pid=-3").pid == 0);
}

}  // namespace
}  // namespace skydeck
