#include "daemon/backend/local/process_launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <sys/socket.h>
#include <sys/wait.h>

#include "absl/strings/str_cat.h"

#include "daemon/backend/local/monitor_protocol.h"

namespace skydeck::backend::local {
namespace {

constexpr int kReportTimeoutMs = 10'000;

// A descriptor that closes itself.
class OwnedFd {
 public:
  explicit OwnedFd(int fd = -1) : fd_(fd) {}
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  ~OwnedFd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

// `fd` itself when >= 3, else a close-on-exec duplicate >= 3 held in
// `holder`: the monitor's 0, 1 and 2 become /dev/null, which would replace
// a descriptor of ours sitting there (a daemon started with closed stdio).
int AboveStdio(int fd, OwnedFd* holder) {
  if (fd < 0 || fd >= 3) return fd;
  holder->reset(fcntl(fd, F_DUPFD_CLOEXEC, 3));
  return holder->get();
}

// posix_spawn's attributes and file actions, released on scope exit.
class SpawnSetup {
 public:
  SpawnSetup() {
    posix_spawnattr_init(&attr_);
    posix_spawn_file_actions_init(&actions_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
  }
  posix_spawnattr_t* attr() { return &attr_; }
  posix_spawn_file_actions_t* actions() { return &actions_; }

 private:
  posix_spawnattr_t attr_;
  posix_spawn_file_actions_t actions_;
};

// Dispositions set to SIG_IGN and the blocked mask survive exec: the
// monitor starts with defaults and nothing blocked, whatever the daemon set
// (it blocks SIGTERM and SIGINT in every thread).
void ResetSignals(posix_spawnattr_t* attr) {
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(attr, &none);
  posix_spawnattr_setsigdefault(attr, &all);
  posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

// Keeps `fds` open across the exec (dup2 onto itself clears close-on-exec
// in the child only) and makes the monitor's stdio /dev/null. Every other
// descriptor of the daemon is close-on-exec.
void PassDescriptors(posix_spawn_file_actions_t* actions, const std::vector<int>& fds) {
  for (int fd : fds) posix_spawn_file_actions_adddup2(actions, fd, fd);
  posix_spawn_file_actions_addopen(actions, 0, "/dev/null", O_RDWR, 0);
  posix_spawn_file_actions_adddup2(actions, 0, 1);
  posix_spawn_file_actions_adddup2(actions, 0, 2);
}

std::vector<std::string> MonitorArgv(const std::string& monitor_path, int control_fd, int dir_fd,
                                     int work_fd, int log_fd, const NodeCommand& node) {
  std::vector<std::string> argv = {monitor_path,
                                   absl::StrCat(monitor::kProtocolFlag, monitor::kProtocolVersion),
                                   absl::StrCat(monitor::kControlFdFlag, control_fd),
                                   absl::StrCat(monitor::kDirFdFlag, dir_fd),
                                   absl::StrCat(monitor::kWorkFdFlag, work_fd),
                                   absl::StrCat(monitor::kLogFdFlag, log_fd),
                                   absl::StrCat(monitor::kLabelRankFlag, node.label_rank),
                                   absl::StrCat(monitor::kResultFlag, node.result_name),
                                   "--"};
  argv.insert(argv.end(), node.argv.begin(), node.argv.end());
  return argv;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Why the spawned process ended without a report, from its exit status.
absl::Status NoReport(int status, const std::string& monitor_path) {
  if (WIFEXITED(status)) {
    switch (WEXITSTATUS(status)) {
      case monitor::kExitForkFailed:
        return absl::UnavailableError("fork failed in skydeck-monitor");
      case monitor::kExitUsage:
      case monitor::kExitWrongProtocol:
        return absl::UnavailableError(
            absl::StrCat(monitor_path, " is not the skydeck-monitor of this skydeckd (exit code ",
                         WEXITSTATUS(status), "): install the one built with it"));
      default:
        break;
    }
  }
  return absl::UnavailableError("the node's monitor did not report its processes");
}

// Reads the monitor's report, waiting at most kReportTimeoutMs. The shell
// holds its end of the socket until released, so EOF cannot tell us that
// the monitor died: the wait is bounded instead.
std::optional<monitor::Report> ReadReport(int fd) {
  monitor::Report report{0, 0};
  size_t got = 0;
  int64_t waited_ms = 0;
  while (got < sizeof(report) && waited_ms < kReportTimeoutMs) {
    struct pollfd pfd {
      fd, POLLIN, 0
    };
    int ready = poll(&pfd, 1, 100);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) {
      waited_ms += 100;
      continue;
    }
    ssize_t n = recv(fd, reinterpret_cast<char*>(&report) + got, sizeof(report) - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  if (got != sizeof(report) || report.monitor_pid <= 0 || report.job_pid <= 0) return std::nullopt;
  return report;
}

}  // namespace

PendingNode::PendingNode(PendingNode&& other) noexcept
    : monitor_pid_(other.monitor_pid_), job_pid_(other.job_pid_), control_fd_(other.control_fd_) {
  other.control_fd_ = -1;
}

PendingNode::~PendingNode() {
  // Closing without the go byte makes the shell exit without running the
  // command.
  if (control_fd_ >= 0) close(control_fd_);
}

absl::Status PendingNode::Release() {
  if (control_fd_ < 0) return absl::FailedPreconditionError("node already released");
  ssize_t n;
  while ((n = send(control_fd_, &monitor::kGo, 1, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
  }
  int err = errno;
  close(control_fd_);
  control_fd_ = -1;
  if (n != 1) {
    return absl::UnavailableError(
        absl::StrCat("node process ", job_pid_, " is gone: ", std::strerror(err)));
  }
  return absl::OkStatus();
}

std::string DefaultMonitorPath() {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec || self.empty()) return "";
  return (self.parent_path() / monitor::kExecutableName).string();
}

absl::StatusOr<PendingNode> SpawnNode(const NodeCommand& node, const std::string& monitor_path) {
  if (node.argv.empty()) return absl::InvalidArgumentError("a node needs a command to run");
  if (monitor_path.empty() || access(monitor_path.c_str(), X_OK) != 0) {
    const char* why = monitor_path.empty() ? "no path" : std::strerror(errno);
    return absl::UnavailableError(absl::StrCat("cannot run ", monitor::kExecutableName, " at \"",
                                               monitor_path, "\": ", why,
                                               " (it is built and installed next to skydeckd)"));
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return absl::UnavailableError(absl::StrCat("socketpair: ", std::strerror(errno)));
  }
  OwnedFd ours(sv[0]);
  OwnedFd theirs(sv[1]);
  OwnedFd held[4];
  int control_fd = AboveStdio(theirs.get(), &held[0]);
  int dir_fd = AboveStdio(node.dir_fd, &held[1]);
  int log_fd = AboveStdio(node.log_fd, &held[2]);
  int work_fd = AboveStdio(node.work_fd, &held[3]);
  if (control_fd < 0 || dir_fd < 0 || log_fd < 0 || (node.work_fd >= 0 && work_fd < 0)) {
    return absl::UnavailableError(absl::StrCat("fcntl: ", std::strerror(errno)));
  }

  std::vector<std::string> args =
      MonitorArgv(monitor_path, control_fd, dir_fd, work_fd, log_fd, node);
  std::vector<char*> argv = Pointers(args);
  std::vector<std::string> env = node.env;
  std::vector<char*> envp = Pointers(env);
  SpawnSetup setup;
  ResetSignals(setup.attr());
  std::vector<int> pass = {control_fd, dir_fd, log_fd};
  if (work_fd >= 0) pass.push_back(work_fd);
  PassDescriptors(setup.actions(), pass);

  pid_t spawned = 0;
  int err = posix_spawn(&spawned, monitor_path.c_str(), setup.actions(), setup.attr(), argv.data(),
                        envp.data());
  if (err != 0) {
    return absl::UnavailableError(
        absl::StrCat("starting ", monitor_path, ": ", std::strerror(err)));
  }
  // Only the monitor's copies of its end remain.
  theirs.reset();
  held[0].reset();
  int status = 0;
  while (waitpid(spawned, &status, 0) < 0 && errno == EINTR) {
  }
  std::optional<monitor::Report> report = ReadReport(ours.get());
  if (!report) return NoReport(status, monitor_path);
  return PendingNode(report->monitor_pid, report->job_pid, ours.release());
}

uint64_t ProcessStartTime(pid_t pid) {
  if (pid <= 0) return 0;
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(in, line)) return 0;
  // The command name (field 2) may hold spaces and parentheses: parse after
  // the last ')'.
  size_t close_paren = line.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 > line.size()) return 0;
  std::istringstream fields(line.substr(close_paren + 2));
  std::string state;
  fields >> state;  // field 3
  if (state == "Z" || state == "X" || state == "x") return 0;
  std::string skip;
  for (int field = 4; field <= 21; ++field) fields >> skip;
  uint64_t start = 0;
  fields >> start;  // field 22
  return start;
}

bool IsSameLiveProcess(pid_t pid, uint64_t start_time) {
  return pid > 0 && start_time != 0 && ProcessStartTime(pid) == start_time;
}

}  // namespace skydeck::backend::local
