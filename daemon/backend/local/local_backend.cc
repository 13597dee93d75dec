#include "daemon/backend/local/local_backend.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "common/log.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "daemon/backend/local/job_state.h"
#include "daemon/backend/local/local_task.h"
#include "daemon/backend/local/log_stream.h"
#include "daemon/backend/local/monitor_protocol.h"
#include "daemon/backend/local/process_launcher.h"

extern char** environ;

namespace skydeck::backend {
namespace fs = std::filesystem;
using local::JobDir;

namespace {

constexpr int kMaxNodes = 256;

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

absl::Status ErrnoUnavailable(absl::string_view what, const fs::path& path) {
  return absl::UnavailableError(absl::StrCat(what, " ", path.string(), ": ", std::strerror(errno)));
}

absl::Status ValidateSpec(const JobSpec& spec) {
  if (!local::IsSafeJobName(spec.name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "job name \"", absl::CHexEscape(spec.name),
        "\" is not a safe file name: use letters, digits, '.', '_' and '-' (no \"..\"), at "
        "most 200 characters"));
  }
  if (spec.nodes < 1 || spec.nodes > kMaxNodes) {
    return absl::InvalidArgumentError(
        absl::StrCat("nodes must be between 1 and ", kMaxNodes, ", not ", spec.nodes));
  }
  if (spec.gpus_per_node < 0) {
    return absl::InvalidArgumentError("gpus_per_node must not be negative");
  }
  if (spec.command.empty() || spec.command.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("the command must be non-empty and contain no NUL byte");
  }
  for (const auto* vars : {&spec.env, &spec.secrets}) {
    for (const auto& [key, value] : *vars) {
      if (key.empty() || key.find_first_of(std::string("=\0", 2)) != std::string::npos ||
          value.find('\0') != std::string::npos) {
        // Never the value: it may be a secret's.
        return absl::InvalidArgumentError(
            absl::StrCat("environment variable \"", absl::CHexEscape(key),
                         "\": names must be non-empty without '=' or NUL, values without NUL"));
      }
    }
  }
  if (spec.setup.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("the setup must contain no NUL byte");
  }
  return local::LocalWorkdir(spec).status();
}

std::vector<std::string> DaemonEnvironment() {
  std::vector<std::string> out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    out.emplace_back(*entry);
  }
  return out;
}

local::NodeState ReadNodeState(const JobDir& dir, int rank) {
  local::NodeState node;
  node.result = dir.ReadNodeResult(rank);
  if (node.result) return node;
  std::optional<local::NodeProcess> p = dir.ReadNodeProcess(rank);
  node.live = p && (local::IsSameLiveProcess(p->monitor_pid, p->monitor_start) ||
                    local::IsSameLiveProcess(p->job_pid, p->job_start));
  // The monitor writes the result before it exits: if it was gone just now,
  // a result it wrote meanwhile is there to read.
  if (!node.live) node.result = dir.ReadNodeResult(rank);
  return node;
}

}  // namespace

LocalBackend::LocalBackend(LocalBackendOptions options)
    : options_(std::move(options)),
      jobs_root_(fs::path(options_.data_dir) / "jobs"),
      monitor_path_(options_.monitor_path.empty() ? local::DefaultMonitorPath()
                                                  : options_.monitor_path) {
  std::error_code ec;
  fs::create_directories(jobs_root_, ec);  // Probe reports a failure
  kill_timer_ = std::thread([this] { KillTimerLoop(); });
}

LocalBackend::~LocalBackend() {
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
    kill_timer_wakeup_.Signal();
  }
  kill_timer_.join();
}

JobDir LocalBackend::DirOf(const std::string& id) const { return JobDir(jobs_root_ / id); }

absl::StatusOr<std::string> LocalBackend::RenderTask(const JobSpec& spec) {
  RETURN_IF_ERROR(ValidateSpec(spec));
  return local::RenderLocalTask(spec);
}

absl::StatusOr<std::string> LocalBackend::Launch(const JobSpec& spec) {
  RETURN_IF_ERROR(ValidateSpec(spec));
  ASSIGN_OR_RETURN(std::string workdir, local::LocalWorkdir(spec));
  if (std::error_code ec; !workdir.empty() && !fs::is_directory(workdir, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("workdir ", workdir, " is not a directory on this machine",
                     ec ? absl::StrCat(" (", ec.message(), ")") : std::string()));
  }
  {
    absl::MutexLock lock(&mu_);
    if (!launching_.insert(spec.name).second) {
      return absl::FailedPreconditionError(
          absl::StrCat("job ", spec.name, " is already being launched"));
    }
  }
  absl::Cleanup unclaim = [&] {
    absl::MutexLock lock(&mu_);
    launching_.erase(spec.name);
  };
  std::error_code ec;
  fs::create_directories(jobs_root_, ec);
  JobDir dir = DirOf(spec.name);
  if (!fs::create_directory(dir.path(), ec)) {
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("creating ", dir.path().string(), ": ", ec.message()));
    }
    if (dir.LaunchedMs()) {
      return absl::FailedPreconditionError(
          absl::StrCat("a job named ", spec.name, " was already launched; names are not reused"));
    }
    // A crash interrupted an earlier launch of this name before any node
    // ran the command: nothing to duplicate.
    MoveAside(dir);
    if (!fs::create_directory(dir.path(), ec)) {
      return absl::UnavailableError(absl::StrCat("could not free the name ", spec.name));
    }
  }
  absl::Status started = StartNodes(spec, dir);
  if (!started.ok()) {
    MoveAside(dir);
    return absl::Status(started.code(),
                        absl::StrCat("launching local job ", spec.name, ": ", started.message()));
  }
  LogInfo("local job launched", {{"job", spec.name}, {"nodes", absl::StrCat(spec.nodes)}});
  return spec.name;
}

absl::Status LocalBackend::StartNodes(const JobSpec& spec, const JobDir& dir) {
  RETURN_IF_ERROR(dir.WriteSpec(spec));
  UniqueFd dir_fd(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0) return ErrnoUnavailable("opening", dir.path());
  ASSIGN_OR_RETURN(std::string workdir, local::LocalWorkdir(spec));
  UniqueFd work_fd(workdir.empty() ? -1
                                   : open(workdir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!workdir.empty() && work_fd.get() < 0) {
    // The same spec can never run: not a retry.
    return absl::InvalidArgumentError(
        absl::StrCat("workdir ", workdir, ": ", std::strerror(errno)));
  }
  UniqueFd log_fd(open(dir.LogPath().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (log_fd.get() < 0) return ErrnoUnavailable("opening", dir.LogPath());

  std::vector<std::string> env = local::NodeEnvironment(spec, DaemonEnvironment());
  std::vector<local::PendingNode> nodes;
  nodes.reserve(static_cast<size_t>(spec.nodes));
  for (int rank = 0; rank < spec.nodes; ++rank) {
    // A single node's output is the log itself; several nodes' lines are
    // labelled with their rank, as SkyPilot does.
    local::NodeCommand command{.argv = local::NodeArgv(spec),
                               .env = env,
                               .dir_fd = dir_fd.get(),
                               .work_fd = work_fd.get(),
                               .log_fd = log_fd.get(),
                               .label_rank = spec.nodes > 1 ? rank : -1,
                               .result_name = JobDir::NodeResultName(rank)};
    command.env.push_back(absl::StrCat("SKYPILOT_NODE_RANK=", rank));
    ASSIGN_OR_RETURN(local::PendingNode node, local::SpawnNode(command, monitor_path_));
    // Both processes are certainly alive here: the shell waits for Release.
    local::NodeProcess process{node.monitor_pid(), local::ProcessStartTime(node.monitor_pid()),
                               node.job_pid(), local::ProcessStartTime(node.job_pid())};
    if (process.monitor_start == 0 || process.job_start == 0) {
      return absl::UnavailableError(absl::StrCat("node ", rank, " ended before it started"));
    }
    RETURN_IF_ERROR(dir.WriteNodeProcess(rank, process));
    nodes.push_back(std::move(node));
  }
  // From here on a node may run the command, so the job counts as launched
  // even if this process dies before releasing every node.
  RETURN_IF_ERROR(dir.MarkLaunched(NowMillis()));
  for (size_t rank = 0; rank < nodes.size(); ++rank) {
    absl::Status released = nodes[rank].Release();
    if (!released.ok()) {
      // Its monitor records how it ended; the job fails like any other.
      LogWarn("local job node did not start",
              {{"job", spec.name}, {"node", absl::StrCat(rank)}, {"error", released.ToString()}});
    }
  }
  return absl::OkStatus();
}

void LocalBackend::MoveAside(const JobDir& dir) {
  fs::path aside_root = fs::path(options_.data_dir) / "launch-failed";
  std::error_code ec;
  fs::create_directories(aside_root, ec);
  std::string base = absl::StrCat(dir.path().filename().string(), ".", NowMillis());
  fs::path target = aside_root / base;
  for (int n = 1; fs::exists(target, ec); ++n) target = aside_root / absl::StrCat(base, ".", n);
  fs::rename(dir.path(), target, ec);
  if (ec) {
    LogError("could not move a failed launch aside",
             {{"dir", dir.path().string()}, {"error", ec.message()}});
  }
}

std::optional<JobObservation> LocalBackend::Observe(const std::string& id) {
  if (!local::IsSafeJobName(id)) return std::nullopt;
  JobDir dir = DirOf(id);
  if (!dir.Exists()) return std::nullopt;
  JobObservation obs;
  obs.backend_job_id = id;
  obs.name = id;
  std::optional<int64_t> launched = dir.LaunchedMs();
  if (!launched) {
    absl::MutexLock lock(&mu_);
    if (launching_.count(id) == 0) return std::nullopt;  // interrupted: never ran
    obs.status = JobStatus::kLaunching;
    obs.raw_status = std::string(Name(obs.status));
    return obs;
  }
  int nodes = dir.Nodes();
  std::vector<local::NodeState> states;
  states.reserve(static_cast<size_t>(nodes));
  for (int rank = 0; rank < nodes; ++rank) states.push_back(ReadNodeState(dir, rank));
  local::JobState state = local::SummarizeNodes(states, dir.CancelRequestedMs(), NowMillis());
  obs.status = state.status;
  obs.raw_status = std::string(Name(state.status));
  obs.start_ms = *launched;
  obs.end_ms = state.end_ms;
  obs.exit_code = state.exit_code;
  obs.failure_reason = state.failure_reason;
  if (state.stop_remaining) {
    EnsureStopping(id, state.stop_since_ms);
  } else if (IsTerminal(state.status)) {
    absl::MutexLock lock(&mu_);
    terminated_.erase(id);
    kill_at_.erase(id);
  }
  return obs;
}

absl::StatusOr<std::vector<JobObservation>> LocalBackend::Query(
    const std::vector<std::string>& ids) {
  std::vector<JobObservation> out;
  for (const std::string& id : ids) {
    std::optional<JobObservation> obs = Observe(id);
    if (obs) out.push_back(std::move(*obs));
  }
  return out;
}

absl::StatusOr<std::vector<JobObservation>> LocalBackend::Find(const std::string& name) {
  return Query({name});
}

absl::Status LocalBackend::Cancel(const std::string& id) {
  std::optional<JobObservation> obs = Observe(id);
  if (!obs || IsTerminal(obs->status)) return absl::OkStatus();
  JobDir dir = DirOf(id);
  RETURN_IF_ERROR(dir.MarkCancelRequested(NowMillis()));
  EnsureStopping(id, dir.CancelRequestedMs().value_or(NowMillis()));
  return absl::OkStatus();
}

void LocalBackend::EnsureStopping(const std::string& id, int64_t since_ms) {
  bool send_term;
  {
    absl::MutexLock lock(&mu_);
    send_term = terminated_.insert(id).second;
    absl::Time deadline = absl::FromUnixMillis(since_ms) + options_.cancel_grace;
    auto [it, added] = kill_at_.emplace(id, deadline);
    if (added || deadline < it->second) it->second = deadline;
    kill_timer_wakeup_.Signal();
  }
  if (send_term && SignalNodes(DirOf(id), SIGTERM) == 0) {
    // Nothing was running yet (a launch in progress): try again next time.
    absl::MutexLock lock(&mu_);
    terminated_.erase(id);
  }
}

int LocalBackend::SignalNodes(const JobDir& dir, int sig) const {
  int signalled = 0;
  int nodes = dir.Nodes();
  for (int rank = 0; rank < nodes; ++rank) {
    if (dir.ReadNodeResult(rank)) continue;
    std::optional<local::NodeProcess> p = dir.ReadNodeProcess(rank);
    // Only while the group's leader is still the shell we started: a
    // reused pid must never be signalled.
    if (p && local::IsSameLiveProcess(p->job_pid, p->job_start) && kill(-p->job_pid, sig) == 0) {
      ++signalled;
    }
  }
  return signalled;
}

void LocalBackend::KillTimerLoop() {
  absl::MutexLock lock(&mu_);
  while (!shutting_down_) {
    absl::Time next = absl::InfiniteFuture();
    for (const auto& [id, when] : kill_at_) next = std::min(next, when);
    if (next > absl::Now()) {
      kill_timer_wakeup_.WaitWithDeadline(&mu_, next);
      continue;
    }
    std::vector<std::string> due;
    absl::Time now = absl::Now();
    for (auto it = kill_at_.begin(); it != kill_at_.end();) {
      if (it->second <= now) {
        due.push_back(it->first);
        it = kill_at_.erase(it);
      } else {
        ++it;
      }
    }
    mu_.Unlock();
    for (const std::string& id : due) {
      if (SignalNodes(DirOf(id), SIGKILL) > 0) {
        LogInfo("local job killed after the grace period", {{"job", id}});
      }
    }
    mu_.Lock();
  }
}

absl::Status LocalBackend::Teardown(const std::string& id) {
  if (!local::IsSafeJobName(id) || !DirOf(id).Exists()) return absl::OkStatus();
  std::optional<JobObservation> obs = Observe(id);
  if (obs && !IsTerminal(obs->status)) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", id, " is ", Name(obs->status), "; cancel it before teardown"));
  }
  return DirOf(id).RemoveScratch();
}

absl::Status LocalBackend::StreamLogs(const std::string& id, bool follow, const LogTail& tail,
                                      const std::function<bool(absl::string_view)>& sink,
                                      const std::function<bool()>& cancelled) {
  if (!local::IsSafeJobName(id) || !DirOf(id).Exists()) {
    return absl::NotFoundError(absl::StrCat("no local job ", id));
  }
  auto job_finished = [&] {
    if (!follow) return true;
    std::optional<JobObservation> obs = Observe(id);
    return !obs || IsTerminal(obs->status);
  };
  return local::StreamFile(DirOf(id).LogPath(), tail, job_finished, sink, cancelled);
}

BackendInfo LocalBackend::Probe() {
  BackendInfo info;
  info.name = "local";
  info.version = "local";
  std::error_code ec;
  fs::create_directories(jobs_root_, ec);
  if (ec || access(jobs_root_.c_str(), W_OK) != 0) {
    info.error = absl::StrCat(jobs_root_.string(), " is not writable",
                              ec ? absl::StrCat(": ", ec.message()) : std::string());
    return info;
  }
  if (monitor_path_.empty() || access(monitor_path_.c_str(), X_OK) != 0) {
    // Every launch would fail: say so before one is tried.
    const char* why = monitor_path_.empty() ? "no path" : std::strerror(errno);
    info.error =
        absl::StrCat("cannot run ", local::monitor::kExecutableName, " at \"", monitor_path_,
                     "\": ", why, " (it is built and installed next to skydeckd)");
    return info;
  }
  info.reachable = true;
  return info;
}

}  // namespace skydeck::backend
