#include "daemon/backend/local/local_backend.h"

#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace skydeck::backend {
namespace {
namespace fs = std::filesystem;

// Live (non-zombie) processes in process group `pgid`.
int LiveInGroup(int pgid) {
  int n = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::ifstream in(entry.path() / "stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(line.substr(close + 2));
    std::string state;
    int ppid, pgrp;
    fields >> state >> ppid >> pgrp;
    if (pgrp == pgid && state != "Z" && state != "X") ++n;
  }
  return n;
}

struct LocalFixture {
  fs::path dir = fs::temp_directory_path() / ("skydeck-local-" + std::to_string(getpid()) + "-" +
                                              std::to_string(counter++));
  std::unique_ptr<LocalBackend> backend;
  static inline int counter = 0;

  LocalFixture() { Restart(); }
  ~LocalFixture() {
    // Nothing may outlive the test.
    for (const std::string& id : launched) backend->Cancel(id).IgnoreError();
    for (const std::string& id : launched) WaitTerminal(id);
    backend.reset();
    fs::remove_all(dir);
  }
  void Restart() {
    backend.reset();
    backend = std::make_unique<LocalBackend>(
        LocalBackendOptions{dir.string(), absl::Milliseconds(300)});
  }

  std::string Launch(const std::string& name, const std::string& command, int nodes = 1) {
    JobSpec spec;
    spec.name = name;
    spec.command = command;
    spec.nodes = nodes;
    spec.gpus_per_node = 2;
    spec.env = {{"SKYDECK_EXPERIMENT", "exp; $(touch pwned)"}};
    auto id = backend->Launch(spec);
    REQUIRE(id.ok());
    launched.push_back(*id);
    return *id;
  }

  JobObservation Observe(const std::string& id) {
    auto obs = backend->Query({id});
    REQUIRE(obs.ok());
    REQUIRE(obs->size() == 1);
    return obs->front();
  }

  JobObservation WaitFor(const std::string& id, const std::function<bool(JobStatus)>& pred) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (true) {
      JobObservation obs = Observe(id);
      if (pred(obs.status)) return obs;
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  JobObservation WaitTerminal(const std::string& id) {
    return WaitFor(id, [](JobStatus s) { return IsTerminal(s); });
  }

  std::string Log(const std::string& id) {
    std::string out;
    REQUIRE(backend->StreamLogs(id, false, 0, [&](absl::string_view s) {
                      out.append(s.data(), s.size());
                      return true;
                    }, [] { return false; }).ok());
    return out;
  }

  int JobPid(const std::string& id) {
    std::ifstream in(dir / "jobs" / id / "node-0.pid");
    int monitor, job;
    uint64_t ms, js;
    in >> monitor >> ms >> job >> js;
    return job;
  }

  std::vector<std::string> launched;
};

TEST_CASE_METHOD(LocalFixture, "a job runs, logs and succeeds", "[local]") {
  std::string id = Launch("ok-1", "echo hello; echo to-stderr >&2; pwd");
  JobObservation obs = WaitTerminal(id);
  CHECK(obs.status == JobStatus::kSucceeded);
  CHECK(obs.exit_code == 0);
  CHECK(obs.start_ms > 0);
  CHECK(obs.end_ms >= obs.start_ms);
  std::string log = Log(id);
  CHECK(log.find("hello\n") != std::string::npos);
  CHECK(log.find("to-stderr\n") != std::string::npos);
  CHECK(log.find((dir / "jobs" / id).string()) != std::string::npos);  // cwd = job dir
}

TEST_CASE_METHOD(LocalFixture, "a failing job reports its exit code", "[local]") {
  JobObservation obs = WaitTerminal(Launch("fail-1", "exit 7"));
  CHECK(obs.status == JobStatus::kFailed);
  CHECK(obs.exit_code == 7);
  CHECK(obs.failure_reason == "exited with code 7");
}

TEST_CASE_METHOD(LocalFixture, "each node gets SkyPilot's environment", "[local]") {
  std::string id = Launch("multi-1",
                          "echo \"rank=$SKYPILOT_NODE_RANK of=$SKYPILOT_NUM_NODES "
                          "gpus=$SKYPILOT_NUM_GPUS_PER_NODE task=$SKYPILOT_TASK_ID "
                          "exp=$SKYDECK_EXPERIMENT\"",
                          3);
  CHECK(WaitTerminal(id).status == JobStatus::kSucceeded);
  std::string log = Log(id);
  for (int r = 0; r < 3; ++r) {
    CHECK(log.find("rank=" + std::to_string(r) + " of=3 gpus=2 task=multi-1") !=
          std::string::npos);
  }
  // Environment values are data, never shell syntax.
  CHECK(log.find("exp=exp; $(touch pwned)") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "jobs" / id / "pwned"));
}

TEST_CASE_METHOD(LocalFixture, "a failing node fails the job", "[local]") {
  JobObservation obs =
      WaitTerminal(Launch("multi-fail", "[ \"$SKYPILOT_NODE_RANK\" = 1 ] && exit 4; exit 0", 2));
  CHECK(obs.status == JobStatus::kFailed);
  CHECK(obs.exit_code == 4);
  CHECK(obs.failure_reason == "node 1 exited with code 4");
}

TEST_CASE_METHOD(LocalFixture, "cancel stops the whole process group", "[local]") {
  std::string id = Launch("cancel-1", "sleep 30 & sleep 30; wait");
  WaitFor(id, [](JobStatus s) { return s == JobStatus::kRunning; });
  int pid = JobPid(id);
  REQUIRE(kill(pid, 0) == 0);
  REQUIRE(backend->Cancel(id).ok());
  JobObservation obs = WaitTerminal(id);
  CHECK(obs.status == JobStatus::kCancelled);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (LiveInGroup(pid) > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(LiveInGroup(pid) == 0);  // no process of the group is left
  CHECK(backend->Cancel(id).ok());  // idempotent
  CHECK(backend->Cancel("never-launched").ok());
}

TEST_CASE_METHOD(LocalFixture, "a job that ignores SIGTERM is killed after the grace",
                 "[local]") {
  std::string id = Launch("stubborn", "trap '' TERM; echo ready; while :; do sleep 0.05; done");
  WaitFor(id, [](JobStatus s) { return s == JobStatus::kRunning; });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (Log(id).find("ready") == std::string::npos) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(backend->Cancel(id).ok());
  CHECK(Observe(id).status == JobStatus::kCancelling);
  JobObservation obs = WaitTerminal(id);
  CHECK(obs.status == JobStatus::kCancelled);
  CHECK(obs.exit_code == 128 + SIGKILL);
}

TEST_CASE_METHOD(LocalFixture, "a restarted backend finds running jobs again", "[local]") {
  std::string id = Launch("survivor", "sleep 0.5; exit 3");
  WaitFor(id, [](JobStatus s) { return s == JobStatus::kRunning; });
  Restart();  // as after a daemon restart: nothing in memory
  auto found = backend->Find("survivor");
  REQUIRE(found.ok());
  REQUIRE(found->size() == 1);
  CHECK((IsTerminal(found->front().status) || found->front().status == JobStatus::kRunning));
  JobObservation obs = WaitTerminal(id);
  CHECK(obs.status == JobStatus::kFailed);
  CHECK(obs.exit_code == 3);
  CHECK(backend->Find("nobody")->empty());
  CHECK(backend->Query({"nobody", "../etc"})->empty());
}

TEST_CASE_METHOD(LocalFixture, "a vanished process without a result is LOST", "[local]") {
  std::string id = Launch("lost-1", "sleep 30");
  WaitFor(id, [](JobStatus s) { return s == JobStatus::kRunning; });
  // Pretend the machine rebooted: the recorded monitor is not running.
  fs::path pid_file = dir / "jobs" / id / "node-0.pid";
  int job_pid = JobPid(id);
  std::ofstream(pid_file) << "999999 12345 " << job_pid << " 1\n";
  JobObservation obs = Observe(id);
  CHECK(obs.status == JobStatus::kLost);
  CHECK(obs.failure_reason.find("vanished") != std::string::npos);
  kill(-job_pid, SIGKILL);
}

TEST_CASE_METHOD(LocalFixture, "one name launches once", "[local]") {
  Launch("once", "true");
  JobSpec spec;
  spec.name = "once";
  spec.command = "true";
  CHECK(absl::IsFailedPrecondition(backend->Launch(spec).status()));
  spec.name = "../escape";
  CHECK(absl::IsInvalidArgument(backend->Launch(spec).status()));
}

TEST_CASE_METHOD(LocalFixture, "logs tail and follow until the job ends", "[local]") {
  std::string id = Launch("logs-1", "for i in 1 2 3 4 5; do echo line-$i; sleep 0.05; done");
  std::string followed;
  REQUIRE(backend->StreamLogs(id, true, 0, [&](absl::string_view s) {
                    followed.append(s.data(), s.size());
                    return true;
                  }, [] { return false; }).ok());
  CHECK(followed == "line-1\nline-2\nline-3\nline-4\nline-5\n");
  std::string tail;
  REQUIRE(backend->StreamLogs(id, false, 7, [&](absl::string_view s) {
                    tail.append(s.data(), s.size());
                    return true;
                  }, [] { return false; }).ok());
  CHECK(tail == "line-5\n");
  CHECK(absl::IsNotFound(backend->StreamLogs("nobody", false, 0, [](absl::string_view) {
    return true;
  }, [] { return false; })));
}

TEST_CASE_METHOD(LocalFixture, "teardown keeps logs and results", "[local]") {
  std::string id = Launch("td-1", "echo kept; echo scratch > scratch.bin");
  WaitTerminal(id);
  REQUIRE(fs::exists(dir / "jobs" / id / "scratch.bin"));
  REQUIRE(backend->Teardown(id).ok());
  CHECK_FALSE(fs::exists(dir / "jobs" / id / "scratch.bin"));
  CHECK(Log(id) == "kept\n");
  CHECK(WaitTerminal(id).status == JobStatus::kSucceeded);
  CHECK(backend->Teardown(id).ok());
}

}  // namespace
}  // namespace skydeck::backend
