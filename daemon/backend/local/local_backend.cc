#include "daemon/backend/local/local_backend.h"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/time_util.h"
#include "daemon/backend/local/process_launcher.h"

extern char** environ;

namespace skydeck::backend {
namespace fs = std::filesystem;
using local::LaunchNode;
using local::ProcessStartTime;

namespace {

constexpr char kLog[] = "run.log";

bool IsSafeName(const std::string& name) {
  if (name.empty() || name.size() > 200 || name == "." || name == "..") return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool WriteFile(const fs::path& path, const std::string& content) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp);
    out << content;
    if (!out) return false;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  return !ec;
}

int64_t ReadInt(const fs::path& path, int64_t fallback) {
  std::ifstream in(path);
  int64_t v;
  return (in >> v) ? v : fallback;
}

int64_t FileTimeMs(const fs::path& path) {
  std::error_code ec;
  auto t = fs::last_write_time(path, ec);
  if (ec) return 0;
  auto sys = std::chrono::file_clock::to_sys(t);
  return std::chrono::duration_cast<std::chrono::milliseconds>(sys.time_since_epoch()).count();
}

struct NodeState {
  bool ended = false;
  int exit_code = 0;
  bool alive = false;  // monitor still running
  pid_t job_pid = 0;
  uint64_t job_start = 0;
};

NodeState ReadNode(const fs::path& dir, int rank) {
  NodeState node;
  fs::path exit_path = dir / absl::StrCat("node-", rank, ".exit");
  if (fs::exists(exit_path)) {
    node.ended = true;
    node.exit_code = static_cast<int>(ReadInt(exit_path, 255));
    return node;
  }
  std::ifstream pid_file(dir / absl::StrCat("node-", rank, ".pid"));
  pid_t monitor = 0;
  uint64_t monitor_start = 0;
  pid_file >> monitor >> monitor_start >> node.job_pid >> node.job_start;
  // The monitor is the truth: it writes the result right after the job
  // ends. Same pid and same start time, or it is someone else's process.
  node.alive = monitor > 0 && monitor_start != 0 && ProcessStartTime(monitor) == monitor_start;
  return node;
}

}  // namespace

LocalBackend::LocalBackend(LocalBackendOptions options)
    : options_(std::move(options)), jobs_dir_(fs::path(options_.data_dir) / "jobs") {
  std::error_code ec;
  fs::create_directories(jobs_dir_, ec);
  killer_ = std::thread([this] { KillerLoop(); });
}

LocalBackend::~LocalBackend() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  killer_.join();
}

fs::path LocalBackend::JobDir(const std::string& id) const { return jobs_dir_ / id; }

absl::StatusOr<std::string> LocalBackend::Launch(const JobSpec& spec) {
  if (!IsSafeName(spec.name)) {
    return absl::InvalidArgumentError(absl::StrCat("job name \"", spec.name,
                                                   "\": only letters, digits, '-', '_', '.'"));
  }
  fs::path dir = JobDir(spec.name);
  std::error_code ec;
  fs::create_directories(jobs_dir_, ec);
  if (!fs::create_directory(dir, ec)) {
    if (ec) return absl::UnavailableError(absl::StrCat("creating ", dir.string(), ": ", ec.message()));
    return absl::FailedPreconditionError(
        absl::StrCat("a job named ", spec.name, " was already launched"));
  }
  int nodes = std::max(1, spec.nodes);
  WriteFile(dir / "nodes", absl::StrCat(nodes, "\n"));
  WriteFile(dir / "started", absl::StrCat(NowMillis(), "\n"));

  std::map<std::string, std::string> base_env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string::npos) base_env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : spec.env) base_env[k] = v;
  std::vector<std::string> ips(nodes, "127.0.0.1");
  base_env["SKYPILOT_NUM_NODES"] = std::to_string(nodes);
  base_env["SKYPILOT_NODE_IPS"] = absl::StrJoin(ips, "\n");
  base_env["SKYPILOT_NUM_GPUS_PER_NODE"] = std::to_string(spec.gpus_per_node);
  base_env["SKYPILOT_TASK_ID"] = spec.name;

  for (int rank = 0; rank < nodes; ++rank) {
    local::NodeLaunch launch;
    launch.command = spec.command;
    launch.working_dir = dir.string();
    launch.log_path = (dir / kLog).string();
    launch.exit_path = (dir / absl::StrCat("node-", rank, ".exit")).string();
    launch.env = base_env;
    launch.env["SKYPILOT_NODE_RANK"] = std::to_string(rank);
    absl::StatusOr<local::LaunchedNode> node = LaunchNode(launch);
    if (!node.ok()) {
      // Earlier nodes are running: stop them, and record this node as failed
      // so the job reads as FAILED rather than half-alive.
      WriteFile(launch.exit_path, "127\n");
      SignalJob(spec.name, SIGKILL);
      return node.status();
    }
    WriteFile(dir / absl::StrCat("node-", rank, ".pid"),
              absl::StrCat(node->monitor_pid, " ", ProcessStartTime(node->monitor_pid), " ",
                           node->job_pid, " ", ProcessStartTime(node->job_pid), "\n"));
  }
  return spec.name;
}

JobObservation LocalBackend::Observe(const std::string& id) const {
  fs::path dir = JobDir(id);
  JobObservation obs;
  obs.backend_job_id = id;
  obs.name = id;
  obs.start_ms = ReadInt(dir / "started", 0);
  bool cancelled = fs::exists(dir / "cancelled");
  int nodes = static_cast<int>(ReadInt(dir / "nodes", 1));
  bool all_ended = true, any_alive = false;
  int failed_rank = -1, failed_code = 0;
  int64_t end_ms = 0;
  for (int rank = 0; rank < nodes; ++rank) {
    NodeState node = ReadNode(dir, rank);
    if (node.ended) {
      end_ms = std::max(end_ms, FileTimeMs(dir / absl::StrCat("node-", rank, ".exit")));
      if (node.exit_code != 0 && failed_rank < 0) {
        failed_rank = rank;
        failed_code = node.exit_code;
      }
    } else {
      all_ended = false;
      any_alive = any_alive || node.alive;
    }
  }
  if (!all_ended && any_alive) {
    obs.status = cancelled ? JobStatus::kCancelling : JobStatus::kRunning;
  } else if (!all_ended) {
    obs.status = JobStatus::kLost;
    obs.failure_reason = "process vanished without recording an exit code";
    obs.end_ms = NowMillis();
  } else {
    obs.end_ms = end_ms;
    obs.exit_code = failed_rank < 0 ? 0 : failed_code;
    if (cancelled) {
      obs.status = JobStatus::kCancelled;
    } else if (failed_rank < 0) {
      obs.status = JobStatus::kSucceeded;
    } else {
      obs.status = JobStatus::kFailed;
      obs.failure_reason = nodes > 1 ? absl::StrCat("node ", failed_rank, " exited with code ",
                                                    failed_code)
                                     : absl::StrCat("exited with code ", failed_code);
    }
  }
  obs.raw_status = std::string(Name(obs.status));
  return obs;
}

absl::StatusOr<std::vector<JobObservation>> LocalBackend::Query(
    const std::vector<std::string>& ids) {
  std::vector<JobObservation> out;
  for (const std::string& id : ids) {
    std::error_code ec;
    if (IsSafeName(id) && fs::is_directory(JobDir(id), ec)) out.push_back(Observe(id));
  }
  return out;
}

absl::StatusOr<std::vector<JobObservation>> LocalBackend::Find(const std::string& name) {
  return Query({name});
}

void LocalBackend::SignalJob(const std::string& id, int sig) const {
  fs::path dir = JobDir(id);
  int nodes = static_cast<int>(ReadInt(dir / "nodes", 1));
  for (int rank = 0; rank < nodes; ++rank) {
    NodeState node = ReadNode(dir, rank);
    // Only a process group whose leader is still the job we started.
    if (node.ended || !node.alive || node.job_pid <= 0) continue;
    if (node.job_start != 0 && ProcessStartTime(node.job_pid) != node.job_start &&
        ProcessStartTime(node.job_pid) != 0) {
      continue;
    }
    kill(-node.job_pid, sig);
  }
}

absl::Status LocalBackend::Cancel(const std::string& id) {
  std::error_code ec;
  if (!IsSafeName(id) || !fs::is_directory(JobDir(id), ec)) return absl::OkStatus();
  if (!fs::exists(JobDir(id) / "cancelled")) {
    WriteFile(JobDir(id) / "cancelled", absl::StrCat(NowMillis(), "\n"));
  }
  SignalJob(id, SIGTERM);
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_kills_.emplace_back(absl::Now() + options_.cancel_grace, id);
  }
  cv_.notify_all();
  return absl::OkStatus();
}

void LocalBackend::KillerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    absl::Time next = absl::InfiniteFuture();
    for (const auto& [when, id] : pending_kills_) next = std::min(next, when);
    if (next == absl::InfiniteFuture()) {
      cv_.wait(lock);
    } else {
      cv_.wait_for(lock, absl::ToChronoMilliseconds(std::max(next - absl::Now(), absl::ZeroDuration())));
    }
    absl::Time now = absl::Now();
    std::vector<std::string> due;
    for (auto it = pending_kills_.begin(); it != pending_kills_.end();) {
      if (it->first <= now) {
        due.push_back(it->second);
        it = pending_kills_.erase(it);
      } else {
        ++it;
      }
    }
    lock.unlock();
    for (const std::string& id : due) SignalJob(id, SIGKILL);
    lock.lock();
  }
}

absl::Status LocalBackend::Teardown(const std::string& id) {
  std::error_code ec;
  if (!IsSafeName(id) || !fs::is_directory(JobDir(id), ec)) return absl::OkStatus();
  // Scratch files go; the log and the job's record stay.
  for (const auto& entry : fs::directory_iterator(JobDir(id), ec)) {
    std::string name = entry.path().filename().string();
    bool keep = name == kLog || name == "nodes" || name == "started" || name == "cancelled" ||
                absl::StartsWith(name, "node-");
    if (!keep) fs::remove_all(entry.path(), ec);
  }
  return absl::OkStatus();
}

absl::Status LocalBackend::StreamLogs(const std::string& id, bool follow, int64_t tail_bytes,
                                      const std::function<bool(absl::string_view)>& sink,
                                      const std::function<bool()>& cancelled) {
  std::error_code ec;
  if (!IsSafeName(id) || !fs::is_directory(JobDir(id), ec)) {
    return absl::NotFoundError(absl::StrCat("no local job ", id));
  }
  fs::path log = JobDir(id) / kLog;
  std::ifstream in;
  int64_t offset = 0;
  if (tail_bytes > 0) {
    int64_t size = static_cast<int64_t>(fs::file_size(log, ec));
    if (!ec) offset = std::max<int64_t>(0, size - tail_bytes);
  }
  std::vector<char> buf(64 * 1024);
  while (true) {
    bool done = follow ? IsTerminal(Observe(id).status) : true;  // read before draining
    if (!in.is_open()) {
      in.open(log, std::ios::binary);
      if (in.is_open()) in.seekg(offset);
    }
    if (in.is_open()) {
      while (true) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        std::streamsize n = in.gcount();
        if (n <= 0) break;
        offset += n;
        if (!sink(absl::string_view(buf.data(), static_cast<size_t>(n)))) return absl::OkStatus();
      }
      in.clear();  // at EOF: clear so later reads see appended data
    }
    if (done || cancelled()) return absl::OkStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

BackendInfo LocalBackend::Probe() {
  BackendInfo info{"local", true, "", "local", ""};
  if (access(jobs_dir_.c_str(), W_OK) != 0) {
    info.reachable = false;
    info.error = absl::StrCat(jobs_dir_.string(), " is not writable");
  }
  return info;
}

}  // namespace skydeck::backend
