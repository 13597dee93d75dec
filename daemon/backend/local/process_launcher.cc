#include "daemon/backend/local/process_launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace skydeck::backend::local {
namespace {

// The monitor's report: its own pid and the shell's.
struct Report {
  pid_t monitor_pid;
  pid_t job_pid;
};

constexpr char kGo = 'g';
constexpr int kAbortedExitCode = 125;
constexpr int kReportTimeoutMs = 10'000;

// ---- Async-signal-safe helpers: used only between fork and exec/_exit. ----

void WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void WriteMessage(int fd, const char* text) { WriteAll(fd, text, strlen(text)); }

// Appends the decimal form of `value` to buf at *len, without allocating.
void AppendInt(char* buf, size_t* len, int64_t value) {
  char digits[24];
  size_t n = 0;
  uint64_t v = value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  if (value < 0) buf[(*len)++] = '-';
  while (n > 0) buf[(*len)++] = digits[--n];
}

void CloseFrom(unsigned lo, unsigned hi) {
  if (lo > hi) return;
  if (close_range(lo, hi, 0) == 0) return;
  // Kernels before 5.9: close one by one up to the descriptor limit.
  struct rlimit limit;
  unsigned max = 65536;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < max) {
    max = static_cast<unsigned>(limit.rlim_cur);
  }
  for (unsigned fd = lo; fd <= hi && fd < max; ++fd) close(static_cast<int>(fd));
}

// Closes every descriptor >= 3 except those in fds[0..n). A kept descriptor
// that is 0, 1 or 2 is first moved above 2, because the shell's stdio will
// be dup2'ed over those. The daemon's sockets, database and other jobs'
// control sockets must not leak into a process that outlives it.
void KeepOnlyDescriptors(int* fds, int n) {
  for (int i = 0; i < n; ++i) {
    if (fds[i] >= 0 && fds[i] < 3) fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
  }
  int sorted[8];
  for (int i = 0; i < n; ++i) {
    int j = i;
    while (j > 0 && sorted[j - 1] > fds[i]) {
      sorted[j] = sorted[j - 1];
      --j;
    }
    sorted[j] = fds[i];
  }
  unsigned next = 3;
  for (int i = 0; i < n; ++i) {
    if (sorted[i] < 3) continue;
    unsigned fd = static_cast<unsigned>(sorted[i]);
    if (fd > next) CloseFrom(next, fd - 1);
    if (fd >= next) next = fd + 1;
  }
  CloseFrom(next, ~0u);
}

struct ChildArgs {
  int control_fd;
  int dir_fd;
  int work_fd;  // -1: dir_fd
  int log_fd;
  int stdin_fd;
  const char* result_name;
  const char* result_tmp_name;
  char* const* argv;
  char* const* envp;
};

[[noreturn]] void RunShell(const ChildArgs& a) {
  // Dispositions set to SIG_IGN and the blocked mask survive exec: give the
  // command a clean slate whatever the daemon (or the monitor) set.
  struct sigaction dfl;
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, nullptr);
  }
  setpgid(0, 0);
  char go = 0;
  ssize_t n;
  while ((n = read(a.control_fd, &go, 1)) < 0 && errno == EINTR) {
  }
  if (n != 1 || go != kGo) {
    WriteMessage(a.log_fd, "skydeck: the launch did not complete; the command was not started\n");
    _exit(kAbortedExitCode);
  }
  if (dup2(a.stdin_fd, 0) < 0 || dup2(a.log_fd, 1) < 0 || dup2(a.log_fd, 2) < 0 ||
      fchdir(a.work_fd >= 0 ? a.work_fd : a.dir_fd) != 0) {
    WriteMessage(a.log_fd, "skydeck: could not set up the node's stdio or working directory\n");
    _exit(126);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // The remaining descriptors are close-on-exec.
  execve(a.argv[0], a.argv, a.envp);
  WriteMessage(2, "skydeck: could not exec the node's shell\n");
  _exit(127);
}

[[noreturn]] void RunMonitor(const ChildArgs& a) {
  setsid();  // own session and group: outlives the daemon, untouched by job signals
  if (chdir("/") != 0) {
    // Not fatal: only keeps the daemon's cwd busy.
  }
  // Stray signals must not kill the one process that records the result.
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  // SIGCHLD ignored (inherited) would make the kernel reap the shell and
  // lose its status.
  struct sigaction dfl;
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGCHLD, &dfl, nullptr);

  pid_t job = _Fork();
  if (job == 0) RunShell(a);
  // Set the group from both sides, so a signal to it right after the
  // report cannot miss the shell.
  if (job > 0) setpgid(job, job);
  // The monitor must not hold the daemon's stdio either: a supervisor
  // reading the daemon's stderr would never see EOF while jobs run.
  dup2(a.stdin_fd, 0);
  dup2(a.stdin_fd, 1);
  dup2(a.stdin_fd, 2);
  close(a.log_fd);
  close(a.stdin_fd);
  if (a.work_fd >= 0) close(a.work_fd);
  Report report{getpid(), job};
  const char* bytes = reinterpret_cast<const char*>(&report);
  size_t left = sizeof(report);
  while (left > 0) {
    ssize_t n = send(a.control_fd, bytes, left, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    bytes += n;
    left -= static_cast<size_t>(n);
  }
  close(a.control_fd);
  if (job < 0) _exit(1);

  // Leave the shell a zombie while its group is killed: its pid, and so the
  // group id, cannot be reused before we are done.
  siginfo_t info;
  while (waitid(P_PID, static_cast<id_t>(job), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
  }
  kill(-job, SIGKILL);
  int status = 0;
  while (waitpid(job, &status, 0) < 0 && errno == EINTR) {
  }
  int signal_number = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + signal_number;

  // The end time is taken here rather than from the file's mtime, which
  // comes from a coarser clock and can read earlier than the launch time.
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  char buf[80];
  size_t len = 0;
  AppendInt(buf, &len, code);
  buf[len++] = ' ';
  AppendInt(buf, &len, signal_number);
  buf[len++] = ' ';
  AppendInt(buf, &len, static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec);
  buf[len++] = '\n';
  int fd = openat(a.dir_fd, a.result_tmp_name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    WriteAll(fd, buf, len);
    fsync(fd);
    close(fd);
    renameat(a.dir_fd, a.result_tmp_name, a.dir_fd, a.result_name);
  }
  _exit(0);
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
  while ((n = send(control_fd_, &kGo, 1, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
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

absl::StatusOr<PendingNode> ForkNode(const NodeCommand& node) {
  // Build every string the children need: they may not allocate.
  std::vector<std::string> env = node.env;
  std::vector<char*> envp;
  for (std::string& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = node.argv;
  if (args.empty()) return absl::InvalidArgumentError("a node needs a command to run");
  std::vector<char*> argv;
  for (std::string& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::string result_tmp = node.result_name + ".tmp";

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return absl::UnavailableError(absl::StrCat("socketpair: ", std::strerror(errno)));
  }
  ChildArgs child{sv[1],         node.dir_fd,        node.work_fd, node.log_fd,
                  node.stdin_fd, node.result_name.c_str(), result_tmp.c_str(), argv.data(),
                  envp.data()};
  // _Fork, not fork: no atfork handlers (other libraries' locks) run in a
  // child of this multithreaded process.
  pid_t launcher = _Fork();
  if (launcher < 0) {
    int err = errno;
    close(sv[0]);
    close(sv[1]);
    return absl::UnavailableError(absl::StrCat("fork: ", std::strerror(err)));
  }
  if (launcher == 0) {
    int keep[5] = {child.control_fd, child.dir_fd, child.log_fd, child.stdin_fd, child.work_fd};
    KeepOnlyDescriptors(keep, child.work_fd >= 0 ? 5 : 4);
    child.control_fd = keep[0];
    child.dir_fd = keep[1];
    child.log_fd = keep[2];
    child.stdin_fd = keep[3];
    if (child.work_fd >= 0) child.work_fd = keep[4];
    pid_t monitor = _Fork();
    if (monitor == 0) RunMonitor(child);
    _exit(monitor < 0 ? 1 : 0);
  }
  close(sv[1]);
  int status = 0;
  while (waitpid(launcher, &status, 0) < 0 && errno == EINTR) {
  }
  // The shell holds its end of the socket until released, so EOF cannot
  // tell us that the monitor died: bound the wait instead.
  Report report{0, 0};
  size_t got = 0;
  int64_t waited_ms = 0;
  while (got < sizeof(report) && waited_ms < kReportTimeoutMs) {
    struct pollfd pfd{sv[0], POLLIN, 0};
    int ready = poll(&pfd, 1, 100);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) {
      waited_ms += 100;
      continue;
    }
    ssize_t n = recv(sv[0], reinterpret_cast<char*>(&report) + got, sizeof(report) - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  if (got != sizeof(report) || report.monitor_pid <= 0 || report.job_pid <= 0) {
    close(sv[0]);
    return absl::UnavailableError(
        WIFEXITED(status) && WEXITSTATUS(status) != 0
            ? "fork failed in the node launcher"
            : "the node's monitor did not report its processes");
  }
  return PendingNode(report.monitor_pid, report.job_pid, sv[0]);
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
