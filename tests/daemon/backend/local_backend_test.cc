#include "daemon/backend/local/local_backend.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>
#include <sys/wait.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#include "daemon/backend/local/job_dir.h"
#include "daemon/backend/local/job_state.h"
#include "daemon/backend/local/local_task.h"
#include "daemon/backend/local/process_launcher.h"

namespace skydeck::backend {
namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using local::IsSameLiveProcess;
using local::NodeProcess;

constexpr auto kPollStep = std::chrono::milliseconds(10);

// Every wait of a test shares one deadline, so even a failing test ends
// within 10 s: 7 s for its body, then 3 s for the fixture's cleanup.
Clock::time_point g_wait_deadline = Clock::now() + std::chrono::seconds(7);

// Polls `done` until true or the test's deadline; returns its last value.
bool Await(const std::function<bool()>& done) {
  Clock::time_point deadline = g_wait_deadline;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollStep);
  }
  return true;
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Children of this process, zombies included.
int ChildProcesses() {
  int n = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string line;
    std::getline(std::ifstream(entry.path() / "stat"), line);
    size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(line.substr(close + 2));
    std::string state;
    int ppid = 0;
    fields >> state >> ppid;
    if (ppid == getpid()) ++n;
  }
  return n;
}

// Live (not zombie) processes in process group `pgid`.
int LiveInGroup(pid_t pgid) {
  int n = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string line;
    std::getline(std::ifstream(entry.path() / "stat"), line);
    size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(line.substr(close + 2));
    std::string state;
    int ppid = 0, pgrp = 0;
    fields >> state >> ppid >> pgrp;
    if (pgrp == pgid && state != "Z" && state != "X") ++n;
  }
  return n;
}

std::vector<std::string> FdTargets(pid_t pid) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(absl::StrCat("/proc/", pid, "/fd"), ec)) {
    out.push_back(fs::read_symlink(entry.path(), ec).string());
  }
  return out;
}

// The backend's options, with the skydeck-monitor built beside skydeckd.
LocalBackendOptions Options(const fs::path& root, absl::Duration grace) {
  return LocalBackendOptions{root.string(), grace, SKYDECK_MONITOR};
}

class LocalFixture {
 public:
  LocalFixture() {
    g_wait_deadline = Clock::now() + std::chrono::seconds(7);
    Restart();
  }

  ~LocalFixture() {
    // Nothing a test started may outlive it.
    g_wait_deadline = Clock::now() + std::chrono::seconds(3);
    if (!backend) Restart();
    for (const std::string& id : launched) backend->Cancel(id).IgnoreError();
    bool all_gone = Await([&] {
      auto seen = backend->Query(launched);
      for (const JobObservation& obs : *seen) {
        if (!IsTerminal(obs.status)) return false;
      }
      for (const std::string& id : launched) {
        for (int rank = 0; rank < 8; ++rank) {
          std::optional<NodeProcess> p = local::JobDir(JobPath(id)).ReadNodeProcess(rank);
          if (p && (IsSameLiveProcess(p->monitor_pid, p->monitor_start) ||
                    IsSameLiveProcess(p->job_pid, p->job_start))) {
            return false;
          }
        }
      }
      return true;
    });
    CHECK(all_gone);
    backend.reset();
    fs::remove_all(root);
  }

  void Restart(absl::Duration grace = absl::Milliseconds(200)) {
    backend.reset();
    backend = std::make_unique<LocalBackend>(Options(root, grace));
  }

  static JobSpec Spec(const std::string& name, const std::string& command, int nodes = 1) {
    JobSpec spec;
    spec.name = name;
    spec.command = command;
    spec.nodes = nodes;
    spec.gpus_per_node = 2;
    return spec;
  }

  std::string Launch(const JobSpec& spec) {
    absl::StatusOr<std::string> id = backend->Launch(spec);
    REQUIRE(id.ok());
    CHECK(*id == spec.name);
    launched.push_back(*id);
    return *id;
  }
  std::string Launch(const std::string& name, const std::string& command, int nodes = 1) {
    return Launch(Spec(name, command, nodes));
  }

  JobObservation Observe(const std::string& id) {
    absl::StatusOr<std::vector<JobObservation>> obs = backend->Query({id});
    REQUIRE(obs.ok());
    REQUIRE(obs->size() == 1);
    return obs->front();
  }

  JobObservation WaitFor(const std::string& id, const std::function<bool(JobStatus)>& pred) {
    JobObservation last;
    bool reached = Await([&] {
      last = Observe(id);
      return pred(last.status);
    });
    INFO("last status " << Name(last.status));
    REQUIRE(reached);
    return last;
  }
  JobObservation WaitTerminal(const std::string& id) {
    return WaitFor(id, [](JobStatus s) { return IsTerminal(s); });
  }
  JobObservation WaitRunning(const std::string& id) {
    return WaitFor(id, [](JobStatus s) { return s == JobStatus::kRunning; });
  }

  std::string Log(const std::string& id, LogTail tail = {}) {
    std::string out;
    REQUIRE(backend
                ->StreamLogs(
                    id, false, tail,
                    [&](absl::string_view s) {
                      out.append(s.data(), s.size());
                      return true;
                    },
                    [] { return false; })
                .ok());
    return out;
  }
  void WaitForLog(const std::string& id, const std::string& text) {
    REQUIRE(Await([&] { return Log(id).find(text) != std::string::npos; }));
  }

  fs::path JobPath(const std::string& id) const { return root / "jobs" / id; }
  NodeProcess Process(const std::string& id, int rank = 0) const {
    std::optional<NodeProcess> p = local::JobDir(JobPath(id)).ReadNodeProcess(rank);
    REQUIRE(p.has_value());
    return *p;
  }

  fs::path root =
      fs::temp_directory_path() / absl::StrCat("skydeck-local-", getpid(), "-", counter_++);
  std::unique_ptr<LocalBackend> backend;
  std::vector<std::string> launched;

 private:
  static inline int counter_ = 0;
};

// A command that runs until the file `go` appears in its job directory.
std::string Gated(const std::string& then) {
  return "while [ ! -e go ]; do sleep 0.02; done; " + then;
}
void OpenGate(const LocalFixture& f, const std::string& id) {
  std::ofstream(f.JobPath(id) / "go") << "";
}

TEST_CASE_METHOD(LocalFixture, "a job runs in its directory, logs and succeeds", "[local]") {
  std::string id = Launch("ok-1", "echo hello; echo to-stderr >&2; pwd; cat; echo done");
  JobObservation obs = WaitTerminal(id);
  CHECK(obs.status == JobStatus::kSucceeded);
  CHECK(obs.raw_status == "SUCCEEDED");
  CHECK(obs.exit_code == 0);
  CHECK(obs.failure_reason.empty());
  CHECK(obs.start_ms > 0);
  CHECK(obs.end_ms >= obs.start_ms);
  CHECK(obs.name == "ok-1");
  // stdin is /dev/null (cat ends at once), stdout and stderr both land in
  // run.log, the working directory is the job directory.
  CHECK(Log(id) ==
        absl::StrCat("hello\nto-stderr\n", fs::canonical(JobPath(id)).string(), "\ndone\n"));
  CHECK(ReadAll(JobPath(id) / "run.log") == Log(id));
}

TEST_CASE_METHOD(LocalFixture, "a failing job reports its exit code", "[local]") {
  JobObservation obs = WaitTerminal(Launch("fail-1", "echo oops; exit 7"));
  CHECK(obs.status == JobStatus::kFailed);
  CHECK(obs.exit_code == 7);
  CHECK(obs.failure_reason == "exited with code 7");
}

TEST_CASE_METHOD(LocalFixture, "each node gets SkyPilot's environment", "[local]") {
  std::string id = Launch("multi-1",
                          "echo \"rank=$SKYPILOT_NODE_RANK nodes=$SKYPILOT_NUM_NODES "
                          "gpus=$SKYPILOT_NUM_GPUS_PER_NODE task=$SKYPILOT_TASK_ID "
                          "ips=$(printf '%s' \"$SKYPILOT_NODE_IPS\" | tr '\\n' ,)\"",
                          3);
  CHECK(WaitTerminal(id).status == JobStatus::kSucceeded);
  std::string log = Log(id);
  for (int rank = 0; rank < 3; ++rank) {
    INFO(log);
    CHECK(log.find(absl::StrCat("rank=", rank,
                                " nodes=3 gpus=2 task=multi-1 "
                                "ips=127.0.0.1,127.0.0.1,127.0.0.1\n")) != std::string::npos);
  }
}

// Issue 17: the nodes of a multi-node job wrote into one log, unlabelled,
// and a line a node wrote in pieces could be cut by another node's.
TEST_CASE_METHOD(LocalFixture, "a multi-node log labels every whole line with its node",
                 "[local]") {
  constexpr int kLines = 300;
  // Three writes per line: nodes sharing the log directly would interleave
  // inside lines. The last line has no newline.
  std::string id = Launch("lines-2",
                          absl::StrCat("i=0; while [ $i -lt ", kLines,
                                       " ]; do printf 'node%s-' \"$SKYPILOT_NODE_RANK\"; "
                                       "printf 'line%s-' $i >&2; echo end; i=$((i+1)); done; "
                                       "printf 'last%s' \"$SKYPILOT_NODE_RANK\""),
                          2);
  // Once the job is seen finished, its log is complete.
  REQUIRE(WaitTerminal(id).status == JobStatus::kSucceeded);
  const std::string labels[2] = {
      absl::StrCat("(head, rank=0, pid=", Process(id, 0).job_pid, ") "),
      absl::StrCat("(worker1, rank=1, pid=", Process(id, 1).job_pid, ", ip=127.0.0.1) ")};
  std::string log = Log(id);
  REQUIRE(!log.empty());
  CHECK(log.back() == '\n');
  int next[2] = {0, 0};
  int lines = 0;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(log).substr(0, log.size() - 1), '\n')) {
    ++lines;
    INFO("line " << lines << ": " << line);
    int rank = absl::StartsWith(line, labels[0]) ? 0 : absl::StartsWith(line, labels[1]) ? 1 : -1;
    REQUIRE(rank >= 0);
    line.remove_prefix(labels[rank].size());
    // Whole and in the node's own order.
    if (next[rank] < kLines) {
      CHECK(line == absl::StrCat("node", rank, "-line", next[rank], "-end"));
    } else {
      CHECK(line == absl::StrCat("last", rank));
    }
    ++next[rank];
  }
  CHECK(next[0] == kLines + 1);
  CHECK(next[1] == kLines + 1);
}

TEST_CASE_METHOD(LocalFixture, "a single node's log is its output as written", "[local]") {
  std::string id = Launch("lines-1", "echo one; printf 'tw'; printf 'o\\n' >&2; printf last");
  REQUIRE(WaitTerminal(id).status == JobStatus::kSucceeded);
  CHECK(Log(id) == "one\ntwo\nlast");
}

TEST_CASE_METHOD(LocalFixture, "a multi-node job cancels and fails as before", "[local]") {
  std::string id = Launch("lines-cancel", "echo started; exec sleep 30", 2);
  WaitRunning(id);
  WaitForLog(id, "(worker1, rank=1, pid=");
  WaitForLog(id, "(head, rank=0, pid=");
  REQUIRE(backend->Cancel(id).ok());
  JobObservation obs = WaitTerminal(id);
  CHECK(obs.status == JobStatus::kCancelled);
  CHECK(obs.exit_code == 128 + SIGTERM);
  std::string log = Log(id);
  CHECK(log.find(absl::StrCat("(head, rank=0, pid=", Process(id, 0).job_pid, ") started\n")) !=
        std::string::npos);
  CHECK(log.find(absl::StrCat("(worker1, rank=1, pid=", Process(id, 1).job_pid,
                              ", ip=127.0.0.1) started\n")) != std::string::npos);
}

TEST_CASE_METHOD(LocalFixture, "environment values are data, never shell syntax", "[local]") {
  const std::string hostile = "exp; $(touch pwned) `touch pwned2` \"'\\ \n$HOME";
  JobSpec spec = Spec("env-1", "printf '%s|' \"$SKYDECK_EXPERIMENT\"");
  spec.env = {{"SKYDECK_EXPERIMENT", hostile}, {"SKYPILOT_NODE_RANK", "99"}};
  std::string id = Launch(spec);
  CHECK(WaitTerminal(id).status == JobStatus::kSucceeded);
  CHECK(Log(id) == hostile + "|");
  CHECK_FALSE(fs::exists(JobPath(id) / "pwned"));
  CHECK_FALSE(fs::exists(JobPath(id) / "pwned2"));

  // SkyPilot's variables win over the spec's.
  JobSpec rank = Spec("env-2", "echo $SKYPILOT_NODE_RANK");
  rank.env = {{"SKYPILOT_NODE_RANK", "99"}};
  std::string rank_id = Launch(rank);
  WaitTerminal(rank_id);
  CHECK(Log(rank_id) == "0\n");
}

// Issue 14, item 7: a job used the daemon's token to call its API.
TEST_CASE_METHOD(LocalFixture, "a job's environment is an allow-list, never the daemon's",
                 "[local]") {
  setenv("SKYDECK_AUTH_TOKEN", "daemon-token-123", 1);
  setenv("SKYPILOT_SERVICE_ACCOUNT_TOKEN", "sky-token-456", 1);
  setenv("SOME_DAEMON_SETTING", "x", 1);
  setenv("LC_TIME", "C", 1);
  JobSpec spec = Spec("env-clean", "env | sort");
  spec.env = {{"WANDB_PROJECT", "llm"}};
  spec.secrets = {{"WANDB_API_KEY", "s3cr3t-value"}};
  std::string id = Launch(spec);
  unsetenv("SKYDECK_AUTH_TOKEN");
  unsetenv("SKYPILOT_SERVICE_ACCOUNT_TOKEN");
  unsetenv("SOME_DAEMON_SETTING");
  CHECK(WaitTerminal(id).status == JobStatus::kSucceeded);
  std::string log = Log(id);
  INFO(log);
  CHECK(log.find("daemon-token-123") == std::string::npos);
  CHECK(log.find("sky-token-456") == std::string::npos);
  CHECK(log.find("SOME_DAEMON_SETTING") == std::string::npos);
  CHECK(log.find("\nWANDB_PROJECT=llm\n") != std::string::npos);
  CHECK(log.find("\nWANDB_API_KEY=s3cr3t-value\n") != std::string::npos);
  CHECK(log.find("\nLC_TIME=C\n") != std::string::npos);
  CHECK(log.find(absl::StrCat("\nPATH=", getenv("PATH"), "\n")) != std::string::npos);
  // The job directory's record names the secret, never its value.
  std::string record = ReadAll(JobPath(id) / "spec");
  CHECK(record.find("secret.WANDB_API_KEY") != std::string::npos);
  CHECK(record.find("s3cr3t-value") == std::string::npos);
}

TEST_CASE("the inherited environment is the documented list", "[local]") {
  JobSpec spec;
  spec.name = "n";
  spec.nodes = 2;
  spec.env = {{"A", "from-spec"}, {"HOME", "/spec-home"}};
  spec.secrets = {{"A", "secret-wins"}};
  std::vector<std::string> env = local::NodeEnvironment(
      spec, {"PATH=/bin", "HOME=/home/d", "LC_ALL=C", "LANG=C.UTF-8", "TZ=UTC", "TMPDIR=/t",
             "SHELL=/bin/sh", "USER=d", "LOGNAME=d", "LANGUAGE=en", "SKYDECK_AUTH_TOKEN=t",
             "AWS_SECRET_ACCESS_KEY=k", "SKYPILOT_NODE_RANK=7", "NOEQUALS"});
  CHECK(env == std::vector<std::string>{"A=secret-wins", "HOME=/spec-home", "LANG=C.UTF-8",
                                        "LANGUAGE=en", "LC_ALL=C", "LOGNAME=d", "PATH=/bin",
                                        "SHELL=/bin/sh", "SKYPILOT_NODE_IPS=127.0.0.1\n127.0.0.1",
                                        "SKYPILOT_NUM_GPUS_PER_NODE=0", "SKYPILOT_NUM_NODES=2",
                                        "SKYPILOT_TASK_ID=n", "TMPDIR=/t", "TZ=UTC", "USER=d"});
}

TEST_CASE_METHOD(LocalFixture, "a job runs in its workdir; its directory keeps log and state",
                 "[local]") {
  fs::path work = root / "code";
  fs::create_directories(work);
  std::ofstream(work / "train.sh") << "echo trained in $(pwd)\n";
  JobSpec spec = Spec("wd-1", "sh train.sh; echo out > result.txt");
  spec.workdir = {Workdir::Kind::kLocal, work.string(), "", ""};
  std::string id = Launch(spec);
  CHECK(WaitTerminal(id).status == JobStatus::kSucceeded);
  CHECK(Log(id) == absl::StrCat("trained in ", fs::canonical(work).string(), "\n"));
  CHECK(fs::exists(work / "result.txt"));
  CHECK(fs::exists(JobPath(id) / "run.log"));
  CHECK(fs::exists(JobPath(id) / "node-0.exit"));

  JobSpec missing = Spec("wd-2", "true");
  missing.workdir = {Workdir::Kind::kLocal, (root / "nope").string(), "", ""};
  absl::StatusOr<std::string> refused = backend->Launch(missing);
  CHECK(absl::IsInvalidArgument(refused.status()));
  CHECK_FALSE(fs::exists(JobPath("wd-2")));

  JobSpec git = Spec("wd-3", "true");
  git.workdir = {Workdir::Kind::kGit, "", "https://github.com/org/repo.git", "main"};
  CHECK(absl::IsInvalidArgument(backend->Launch(git).status()));
  CHECK(absl::IsInvalidArgument(backend->RenderTask(git).status()));
}

TEST_CASE_METHOD(LocalFixture, "setup runs before the command; a failing setup fails the node",
                 "[local]") {
  JobSpec spec = Spec("setup-1", "echo run; cat marker");
  spec.setup = "echo setup; echo made > marker; exit 0";
  std::string id = Launch(spec);
  CHECK(WaitTerminal(id).status == JobStatus::kSucceeded);
  CHECK(Log(id) == "setup\nrun\nmade\n");

  JobSpec failing = Spec("setup-2", "echo never");
  failing.setup = "echo broken; exit 3";
  std::string bad = Launch(failing);
  JobObservation obs = WaitTerminal(bad);
  CHECK(obs.status == JobStatus::kFailed);
  CHECK(obs.exit_code == 3);
  CHECK(Log(bad) == "broken\n");
}

TEST_CASE("the local task shows what runs, secrets redacted", "[local]") {
  JobSpec spec;
  spec.name = "skydeck-a-1-1";
  spec.command = "python train.py 'lr=1'";
  spec.nodes = 2;
  spec.env = {{"WANDB_PROJECT", "yes"}};
  spec.secrets = {{"WANDB_API_KEY", "s3cr3t"}};
  spec.setup = "pip install x";
  spec.workdir = {Workdir::Kind::kLocal, "/home/me/p", "", ""};
  absl::StatusOr<std::string> task = local::RenderLocalTask(spec);
  REQUIRE(task.ok());
  CHECK(*task ==
        "name: \"skydeck-a-1-1\"\nnum_nodes: 2\nworkdir: \"/home/me/p\"\nenvs:\n  WANDB_PROJECT: "
        "\"yes\"\nsecrets:\n  WANDB_API_KEY: \"<redacted>\"\nsetup: \"pip install x\"\nrun: "
        "\"python train.py 'lr=1'\"\n");
}

TEST_CASE_METHOD(LocalFixture, "a failing node fails the job and stops its peers", "[local]") {
  std::string id =
      Launch("multi-fail", "if [ \"$SKYPILOT_NODE_RANK\" = 1 ]; then exit 4; fi; exec sleep 30", 2);
  JobObservation obs = WaitTerminal(id);
  CHECK(obs.status == JobStatus::kFailed);
  CHECK(obs.exit_code == 4);
  CHECK(obs.failure_reason == "node 1 exited with code 4");
  CHECK_FALSE(IsSameLiveProcess(Process(id, 0).job_pid, Process(id, 0).job_start));
}

TEST_CASE_METHOD(LocalFixture, "cancel stops the whole process group", "[local]") {
  std::string id = Launch("cancel-1", "sleep 30 & sleep 30; wait");
  WaitRunning(id);
  pid_t pid = Process(id).job_pid;
  REQUIRE(kill(pid, 0) == 0);
  REQUIRE(backend->Cancel(id).ok());
  JobObservation obs = WaitTerminal(id);
  CHECK(obs.status == JobStatus::kCancelled);
  CHECK(obs.exit_code == 128 + SIGTERM);
  // The shell is reaped, and what it left in its group was SIGKILLed.
  CHECK(kill(pid, 0) == -1);
  CHECK(Await([&] { return LiveInGroup(pid) == 0; }));
  CHECK(backend->Cancel(id).ok());  // idempotent
  CHECK(WaitTerminal(id).status == JobStatus::kCancelled);
  CHECK(backend->Cancel("never-launched").ok());
  CHECK(backend->Cancel("../etc").ok());
}

TEST_CASE_METHOD(LocalFixture, "what a node leaves behind dies with it", "[local]") {
  std::string id = Launch("bg-1", "sleep 30 & echo $! > bg.pid; exit 0");
  CHECK(WaitTerminal(id).status == JobStatus::kSucceeded);
  pid_t background = 0;
  std::ifstream(JobPath(id) / "bg.pid") >> background;
  REQUIRE(background > 0);
  CHECK(Await([&] { return local::ProcessStartTime(background) == 0; }));
}

TEST_CASE_METHOD(LocalFixture, "cancelling a finished job keeps its outcome", "[local]") {
  std::string id = Launch("done-1", "exit 0");
  WaitTerminal(id);
  REQUIRE(backend->Cancel(id).ok());
  JobObservation obs = Observe(id);
  CHECK(obs.status == JobStatus::kSucceeded);
  CHECK_FALSE(fs::exists(JobPath(id) / "cancel-requested"));
}

TEST_CASE_METHOD(LocalFixture, "a job that ignores SIGTERM is killed after the grace", "[local]") {
  Restart(absl::Seconds(1));
  std::string id = Launch("stubborn", "trap '' TERM; echo ready; sleep 30");
  WaitForLog(id, "ready");
  REQUIRE(backend->Cancel(id).ok());
  CHECK(Observe(id).status == JobStatus::kCancelling);  // alive through the grace
  JobObservation obs = WaitTerminal(id);
  CHECK(obs.status == JobStatus::kCancelled);
  CHECK(obs.exit_code == 128 + SIGKILL);
}

TEST_CASE_METHOD(LocalFixture, "a new backend instance finds running jobs again", "[local]") {
  std::string id = Launch("survivor", Gated("echo finishing; exit 3"));
  WaitRunning(id);
  Restart();  // nothing in memory carries over
  absl::StatusOr<std::vector<JobObservation>> found = backend->Find("survivor");
  REQUIRE(found.ok());
  REQUIRE(found->size() == 1);
  CHECK(found->front().status == JobStatus::kRunning);
  CHECK(found->front().backend_job_id == id);
  OpenGate(*this, id);
  JobObservation obs = WaitTerminal(id);
  CHECK(obs.status == JobStatus::kFailed);
  CHECK(obs.exit_code == 3);
  CHECK(backend->Find("nobody")->empty());
  CHECK(backend->Query({"nobody", "../etc", ""})->empty());
}

TEST_CASE_METHOD(LocalFixture, "jobs and exit codes survive a kill -9 of the daemon", "[local]") {
  backend.reset();  // single-threaded before fork
  int ready[2];
  REQUIRE(pipe(ready) == 0);
  pid_t daemon = fork();
  REQUIRE(daemon >= 0);
  if (daemon == 0) {
    close(ready[0]);
    LocalBackend doomed(Options(root, absl::Milliseconds(200)));
    bool ok = doomed.Launch(Spec("orphan", Gated("echo survived; exit 5"))).ok();
    if (write(ready[1], ok ? "y" : "n", 1) != 1) _exit(1);
    raise(SIGKILL);
  }
  close(ready[1]);
  char launched_ok = 0;
  REQUIRE(read(ready[0], &launched_ok, 1) == 1);
  close(ready[0]);
  int status = 0;
  REQUIRE(waitpid(daemon, &status, 0) == daemon);
  CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
  REQUIRE(launched_ok == 'y');
  launched.push_back("orphan");

  Restart();
  CHECK(WaitRunning("orphan").start_ms > 0);
  OpenGate(*this, "orphan");
  JobObservation obs = WaitTerminal("orphan");
  CHECK(obs.status == JobStatus::kFailed);
  CHECK(obs.exit_code == 5);
  CHECK(Log("orphan") == "survived\n");
}

TEST_CASE_METHOD(LocalFixture, "a node whose processes vanished without a result is LOST",
                 "[local]") {
  std::string id = Launch("lost-1", "sleep 30");
  WaitRunning(id);
  NodeProcess p = Process(id);
  // As if the machine rebooted: the monitor dies before it could record.
  REQUIRE(kill(p.monitor_pid, SIGKILL) == 0);
  REQUIRE(Await([&] { return !IsSameLiveProcess(p.monitor_pid, p.monitor_start); }));
  CHECK(Observe(id).status == JobStatus::kRunning);  // the shell still runs
  REQUIRE(kill(-p.job_pid, SIGKILL) == 0);
  JobObservation obs = WaitTerminal(id);
  CHECK(obs.status == JobStatus::kLost);
  CHECK(obs.failure_reason == "process vanished without recording an exit code");
  CHECK_FALSE(obs.exit_code.has_value());
}

TEST_CASE_METHOD(LocalFixture, "a reused pid is not mistaken for the job", "[local]") {
  std::string id = Launch("reused", "exit 0");
  WaitTerminal(id);
  // Rewrite the record as if the job were still unfinished and its pids
  // now belonged to another live process (this one).
  fs::remove(JobPath(id) / "node-0.exit");
  uint64_t our_start = local::ProcessStartTime(getpid());
  REQUIRE(local::JobDir(JobPath(id))
              .WriteNodeProcess(0, NodeProcess{getpid(), our_start + 1, getpid(), our_start + 1})
              .ok());
  CHECK(Observe(id).status == JobStatus::kLost);
  REQUIRE(backend->Cancel(id).ok());  // must not signal this process
  CHECK(Observe(id).status == JobStatus::kLost);
}

TEST_CASE_METHOD(LocalFixture, "one name launches once", "[local]") {
  Launch("once", "true");
  CHECK(absl::IsFailedPrecondition(backend->Launch(Spec("once", "true")).status()));
  WaitTerminal("once");
  CHECK(absl::IsFailedPrecondition(backend->Launch(Spec("once", "true")).status()));
  for (const char* bad : {"", "../escape", "a/b", "a..b", ".", "sp ace", "semi;colon"}) {
    INFO(bad);
    CHECK(absl::IsInvalidArgument(backend->Launch(Spec(bad, "true")).status()));
  }
  CHECK(absl::IsInvalidArgument(backend->Launch(Spec("zero-nodes", "true", 0)).status()));
  CHECK(absl::IsInvalidArgument(backend->Launch(Spec("no-command", "")).status()));
  JobSpec bad_env = Spec("bad-env", "true");
  bad_env.env = {{"A=B", "x"}};
  CHECK(absl::IsInvalidArgument(backend->Launch(bad_env).status()));
  CHECK_FALSE(fs::exists(JobPath("zero-nodes")));
}

TEST_CASE_METHOD(LocalFixture, "a launch interrupted before any node ran frees its name",
                 "[local]") {
  // What a crash between creating the directory and starting the nodes
  // leaves: no `launched` record.
  fs::create_directories(JobPath("half"));
  std::ofstream(JobPath("half") / "spec") << "nodes=1\n";
  CHECK(backend->Find("half")->empty());
  CHECK(backend->Query({"half"})->empty());
  std::string id = Launch("half", "echo second");
  CHECK(WaitTerminal(id).status == JobStatus::kSucceeded);
  CHECK(Log(id) == "second\n");
  CHECK(std::distance(fs::directory_iterator(root / "launch-failed"), fs::directory_iterator()) ==
        1);
}

TEST_CASE_METHOD(LocalFixture, "logs tail and follow until the job ends", "[local]") {
  std::string id = Launch("logs-1", "for i in 1 2 3 4 5; do echo line-$i; sleep 0.05; done");
  std::string followed;
  REQUIRE(backend
              ->StreamLogs(
                  id, true, LogTail{},
                  [&](absl::string_view s) {
                    followed.append(s.data(), s.size());
                    return true;
                  },
                  [] { return false; })
              .ok());
  CHECK(IsTerminal(Observe(id).status));
  CHECK(followed == "line-1\nline-2\nline-3\nline-4\nline-5\n");
  CHECK(Log(id, {.lines = 0, .bytes = 7}) == "line-5\n");
  CHECK(Log(id, {.lines = 0, .bytes = 1 << 20}) == followed);
  // --tail N counts lines, whatever their length.
  CHECK(Log(id, {.lines = 2, .bytes = 0}) == "line-4\nline-5\n");
  CHECK(Log(id, {.lines = 9, .bytes = 0}) == followed);
  CHECK(absl::IsNotFound(backend->StreamLogs(
      "nobody", false, LogTail{}, [](absl::string_view) { return true; }, [] { return false; })));
}

TEST_CASE_METHOD(LocalFixture, "following starts with the last lines", "[local]") {
  std::string id = Launch("logs-tail-follow", "printf 'a\\nb\\nc\\n'; " + Gated("echo d"));
  WaitForLog(id, "c\n");
  std::string followed;
  bool opened = false;
  REQUIRE(backend
              ->StreamLogs(
                  id, true, LogTail{.lines = 1, .bytes = 0},
                  [&](absl::string_view s) {
                    followed.append(s.data(), s.size());
                    if (!opened) {  // the tail is read: let the job go on
                      opened = true;
                      OpenGate(*this, id);
                    }
                    return true;
                  },
                  [] { return false; })
              .ok());
  CHECK(followed == "c\nd\n");
}

TEST_CASE_METHOD(LocalFixture, "following a live job stops when the caller says so", "[local]") {
  std::string id = Launch("logs-live", "echo first; " + Gated("echo never"));
  WaitForLog(id, "first");
  int polls = 0;
  std::string got;
  REQUIRE(backend
              ->StreamLogs(
                  id, true, LogTail{},
                  [&](absl::string_view s) {
                    got.append(s.data(), s.size());
                    return true;
                  },
                  [&] { return ++polls > 3; })
              .ok());
  CHECK(got == "first\n");
  CHECK(Observe(id).status == JobStatus::kRunning);
  // A sink returning false stops at once too.
  int chunks = 0;
  REQUIRE(backend
              ->StreamLogs(
                  id, true, LogTail{},
                  [&](absl::string_view) {
                    ++chunks;
                    return false;
                  },
                  [] { return false; })
              .ok());
  CHECK(chunks == 1);
}

TEST_CASE_METHOD(LocalFixture, "teardown removes scratch but keeps logs and results", "[local]") {
  std::string id = Launch("td-1", "echo kept; echo scratch > scratch.bin; mkdir -p ckpt/a");
  WaitTerminal(id);
  REQUIRE(fs::exists(JobPath(id) / "scratch.bin"));
  REQUIRE(backend->Teardown(id).ok());
  CHECK_FALSE(fs::exists(JobPath(id) / "scratch.bin"));
  CHECK_FALSE(fs::exists(JobPath(id) / "ckpt"));
  CHECK(Log(id) == "kept\n");
  CHECK(Observe(id).status == JobStatus::kSucceeded);
  CHECK(backend->Teardown(id).ok());  // idempotent
  CHECK(backend->Teardown("nobody").ok());

  std::string live = Launch("td-live", Gated("true"));
  WaitRunning(live);
  CHECK(absl::IsFailedPrecondition(backend->Teardown(live)));
  OpenGate(*this, live);
}

TEST_CASE_METHOD(LocalFixture, "the daemon keeps no children and leaks no descriptors", "[local]") {
  int leaked[2];
  REQUIRE(pipe(leaked) == 0);  // not close-on-exec, on purpose
  std::string leaked_target = fs::read_symlink(absl::StrCat("/proc/self/fd/", leaked[0])).string();
  std::string id = Launch("fds", Gated("true"), 2);
  WaitRunning(id);
  CHECK(ChildProcesses() == 0);  // launchers reaped, monitors re-parented
  for (int rank = 0; rank < 2; ++rank) {
    NodeProcess p = Process(id, rank);
    // The monitor closes the socket it reported through right after, then
    // opens the signalfd it waits on (before that, the socket makes 7 too).
    CHECK(Await([&] {
      std::vector<std::string> fds = FdTargets(p.monitor_pid);
      return std::count(fds.begin(), fds.end(), "anon_inode:[signalfd]") == 1;
    }));
    std::vector<std::string> monitor_fds = FdTargets(p.monitor_pid);
    INFO("monitor fds: " << absl::StrJoin(monitor_fds, " "));
    CHECK(std::count(monitor_fds.begin(), monitor_fds.end(), leaked_target) == 0);
    // /dev/null x3, the job directory, and (a multi-node job's lines are
    // relayed) run.log, the read end of the shell's output pipe and the
    // signalfd that says when the shell exits.
    CHECK(monitor_fds.size() == 7);
    CHECK(std::count(monitor_fds.begin(), monitor_fds.end(), "anon_inode:[signalfd]") == 1);
    CHECK(std::count(monitor_fds.begin(), monitor_fds.end(),
                     fs::canonical(JobPath(id) / "run.log").string()) == 1);
    // Released, the shell sets up its stdio (the pipe) and execs.
    std::string shell_out;
    CHECK(Await([&] {
      std::error_code ec;
      shell_out = fs::read_symlink(absl::StrCat("/proc/", p.job_pid, "/fd/1"), ec).string();
      return absl::StartsWith(shell_out, "pipe:");
    }));
    CHECK(std::count(monitor_fds.begin(), monitor_fds.end(), shell_out) == 1);
    std::vector<std::string> job_fds = FdTargets(p.job_pid);
    INFO("job fds: " << absl::StrJoin(job_fds, " "));
    CHECK(std::count(job_fds.begin(), job_fds.end(), leaked_target) == 0);
  }
  close(leaked[0]);
  close(leaked[1]);
  OpenGate(*this, id);
  CHECK(WaitTerminal(id).status == JobStatus::kSucceeded);
}

// Issue 19, goal 3: each launch forked the daemon twice, copying its page
// tables, and the API slowed to a third during a burst of launches.
TEST_CASE_METHOD(LocalFixture, "nodes are spawned from skydeck-monitor, not forks of the daemon",
                 "[local]") {
  std::string id = Launch("spawned", Gated("true"));
  WaitRunning(id);
  NodeProcess p = Process(id);
  std::error_code ec;
  CHECK(fs::read_symlink(absl::StrCat("/proc/", p.monitor_pid, "/exe"), ec) ==
        fs::canonical(SKYDECK_MONITOR));
  std::string stat = ReadAll(absl::StrCat("/proc/", p.job_pid, "/stat"));
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string state;
  pid_t parent = 0;
  fields >> state >> parent;
  CHECK(parent == p.monitor_pid);
  OpenGate(*this, id);
  CHECK(WaitTerminal(id).status == JobStatus::kSucceeded);
}

TEST_CASE_METHOD(LocalFixture, "without its monitor executable a launch fails and frees the name",
                 "[local]") {
  fs::path missing = root / "no-such-dir" / "skydeck-monitor";
  backend = std::make_unique<LocalBackend>(
      LocalBackendOptions{root.string(), absl::Milliseconds(200), missing.string()});
  absl::StatusOr<std::string> refused = backend->Launch(Spec("no-monitor", "true"));
  CHECK(absl::IsUnavailable(refused.status()));
  CHECK(refused.status().message().find(missing.string()) != std::string::npos);
  CHECK_FALSE(fs::exists(JobPath("no-monitor")));
  BackendInfo info = backend->Probe();
  CHECK_FALSE(info.reachable);
  CHECK(info.error.find(missing.string()) != std::string::npos);

  // Another build's monitor (or any other program) is refused, not misread.
  fs::path impostor = root / "impostor";
  std::ofstream(impostor) << "#!/bin/sh\nexit 3\n";
  fs::permissions(impostor, fs::perms::owner_all);
  backend = std::make_unique<LocalBackend>(
      LocalBackendOptions{root.string(), absl::Milliseconds(200), impostor.string()});
  absl::StatusOr<std::string> wrong = backend->Launch(Spec("no-monitor", "true"));
  CHECK(absl::IsUnavailable(wrong.status()));
  CHECK(wrong.status().message().find("not the skydeck-monitor of this skydeckd") !=
        std::string::npos);
  CHECK_FALSE(fs::exists(JobPath("no-monitor")));

  Restart();  // installed: the same name launches
  CHECK(WaitTerminal(Launch("no-monitor", "echo ran")).status == JobStatus::kSucceeded);
  CHECK(Log("no-monitor") == "ran\n");
}

TEST_CASE("the monitor is looked up next to the running executable", "[local]") {
  CHECK(local::DefaultMonitorPath() ==
        (fs::read_symlink("/proc/self/exe").parent_path() / "skydeck-monitor").string());
}

TEST_CASE_METHOD(LocalFixture, "probe and defaults", "[local]") {
  BackendInfo info = backend->Probe();
  CHECK(info.reachable);
  CHECK(info.name == "local");
  CHECK(info.version == "local");
  CHECK(backend->name() == "local");
  CHECK(backend->DefaultPollIntervalMs() == 1000);
}

// ---- Status rules, without processes (job_state.h). ----

local::NodeState Ended(int code, int64_t end_ms, int sig = 0) {
  return local::NodeState{local::NodeResult{code, sig, end_ms * 1'000'000}, false};
}
local::NodeState Live() { return local::NodeState{std::nullopt, true}; }
local::NodeState Vanished() { return local::NodeState{std::nullopt, false}; }

TEST_CASE("job status from node states", "[local]") {
  using local::SummarizeNodes;
  local::JobState ok = SummarizeNodes({Ended(0, 100), Ended(0, 120)}, std::nullopt, 500);
  CHECK(ok.status == JobStatus::kSucceeded);
  CHECK(ok.end_ms == 120);

  // The node that failed first is the cause, whatever its rank.
  local::JobState failed =
      SummarizeNodes({Ended(143, 200, SIGTERM), Ended(3, 150)}, std::nullopt, 500);
  CHECK(failed.status == JobStatus::kFailed);
  CHECK(failed.exit_code == 3);
  CHECK(failed.failure_reason == "node 1 exited with code 3");

  local::JobState killed = SummarizeNodes({Ended(137, 100, SIGKILL)}, std::nullopt, 500);
  CHECK(killed.failure_reason == "was killed by SIGKILL");
  CHECK(killed.exit_code == 137);

  // A failed node while a peer still runs: live, and the peer must stop.
  local::JobState stopping = SummarizeNodes({Live(), Ended(3, 150)}, std::nullopt, 500);
  CHECK(stopping.status == JobStatus::kRunning);
  CHECK(stopping.stop_remaining);
  CHECK(stopping.stop_since_ms == 150);
  CHECK_FALSE(SummarizeNodes({Live(), Ended(0, 150)}, std::nullopt, 500).stop_remaining);

  local::JobState cancelling = SummarizeNodes({Live()}, 300, 500);
  CHECK(cancelling.status == JobStatus::kCancelling);
  CHECK(cancelling.stop_since_ms == 300);
  CHECK(SummarizeNodes({Ended(143, 320, SIGTERM)}, 300, 500).status == JobStatus::kCancelled);
  // A cancel that came after the end does not rewrite the outcome.
  CHECK(SummarizeNodes({Ended(0, 250)}, 300, 500).status == JobStatus::kSucceeded);

  local::JobState lost = SummarizeNodes({Ended(0, 100), Vanished()}, std::nullopt, 500);
  CHECK(lost.status == JobStatus::kLost);
  CHECK(lost.failure_reason == "node 1: process vanished without recording an exit code");
  CHECK(SummarizeNodes({Live(), Vanished()}, std::nullopt, 500).stop_since_ms == 500);
}

TEST_CASE("job names must be safe file names", "[local]") {
  CHECK(local::IsSafeJobName("skydeck-ab12-42-3"));
  CHECK(local::IsSafeJobName("run_1.retry"));
  CHECK_FALSE(local::IsSafeJobName(""));
  CHECK_FALSE(local::IsSafeJobName(".."));
  CHECK_FALSE(local::IsSafeJobName("a..b"));
  CHECK_FALSE(local::IsSafeJobName("a/b"));
  CHECK_FALSE(local::IsSafeJobName(std::string(201, 'a')));
}

}  // namespace
}  // namespace skydeck::backend
