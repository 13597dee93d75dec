// skydeck-monitor: watches one node of a local job so that it outlives
// skydeckd and its exit code is never lost. skydeckd starts it with
// posix_spawn (monitor_protocol.h has the arguments and messages):
//
//   skydeckd ─spawn─► skydeck-monitor ─fork─► monitor ─fork─► /bin/sh -c CMD
//                     (exits at once,         (setsid: own    (own process
//                      reaped by the           session; not    group, cwd the
//                      daemon)                 in the job's    workdir or the
//                                              group)          job dir, stdin
//                                                              /dev/null,
//                                                              stdout+stderr
//                                                              to the log, or
//                                                              to a pipe the
//                                                              monitor relays)
//
// The first process exiting makes the monitor an orphan (re-parented to
// init or the nearest subreaper), so skydeckd has no child left to reap
// and a kill -9 of skydeckd leaves the node running. The monitor waits for
// the shell, SIGKILLs whatever the shell left behind in its process group,
// and writes "<exit code> <signal> <end unix ns>\n" atomically (renameat)
// into the job directory.
//
// In a multi-node job (--label-rank=R) the shell writes into a pipe and the
// monitor appends what it reads to the log, whole lines behind the node's
// label (node_log_prefix.h), until the shell has exited and its group is
// gone; the last line is flushed before the result is written, so a job
// seen finished has all of its log. Output of a process that escaped the
// group (setsid) is relayed for at most kDrainMs after the shell ends.
//
// This process is single-threaded and small, so forking it is cheap and
// safe; only the daemon must not fork (it is large and multithreaded).
// Not meant to be run by hand.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "daemon/backend/local/monitor_protocol.h"
#include "daemon/backend/local/node_log_prefix.h"

extern char** environ;

namespace {
namespace monitor = skydeck::backend::local::monitor;
using skydeck::backend::local::LinePrefixer;
using skydeck::backend::local::NodeLogLabel;

// How long the relay waits for the pipe's end once the shell's group is
// killed (only a process that left the group can hold it longer).
constexpr int kDrainMs = 1000;

struct Args {
  int protocol = -1;
  int control_fd = -1;
  int dir_fd = -1;
  int work_fd = -1;  // -1: the shell runs in dir_fd
  int log_fd = -1;
  int label_rank = -1;  // -1: the shell writes to log_fd itself
  const char* result_name = nullptr;
  char** shell_argv = nullptr;  // NULL-terminated
};

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

bool ParseFd(const char* text, int* out) {
  char* end = nullptr;
  errno = 0;
  long value = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < -1 || value > 1'000'000) return false;
  *out = static_cast<int>(value);
  return true;
}

// Fills `args` from argv; false on anything unexpected.
bool ParseArgs(int argc, char** argv, Args* args) {
  auto value_of = [](const char* arg, const char* flag) -> const char* {
    size_t n = strlen(flag);
    return strncmp(arg, flag, n) == 0 ? arg + n : nullptr;
  };
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    const char* v = nullptr;
    if (strcmp(arg, "--") == 0) {
      if (i + 1 >= argc) return false;
      args->shell_argv = argv + i + 1;
      break;
    }
    bool ok = true;
    if ((v = value_of(arg, monitor::kProtocolFlag))) {
      ok = ParseFd(v, &args->protocol);
    } else if ((v = value_of(arg, monitor::kControlFdFlag))) {
      ok = ParseFd(v, &args->control_fd);
    } else if ((v = value_of(arg, monitor::kDirFdFlag))) {
      ok = ParseFd(v, &args->dir_fd);
    } else if ((v = value_of(arg, monitor::kWorkFdFlag))) {
      ok = ParseFd(v, &args->work_fd);
    } else if ((v = value_of(arg, monitor::kLogFdFlag))) {
      ok = ParseFd(v, &args->log_fd);
    } else if ((v = value_of(arg, monitor::kLabelRankFlag))) {
      ok = ParseFd(v, &args->label_rank);
    } else if ((v = value_of(arg, monitor::kResultFlag))) {
      args->result_name = *v != '\0' && strchr(v, '/') == nullptr ? v : nullptr;
      ok = args->result_name != nullptr;
    } else {
      ok = false;
    }
    if (!ok) return false;
  }
  return args->shell_argv != nullptr && args->control_fd >= 3 && args->dir_fd >= 3 &&
         args->log_fd >= 3 && (args->work_fd == -1 || args->work_fd >= 3) &&
         args->result_name != nullptr;
}

// Appends the decimal form of `value` to buf at *len.
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

void CloseRange(unsigned lo, unsigned hi) {
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

// Closes every descriptor >= 3 but ours, and makes ours close-on-exec so
// the command inherits none of them. posix_spawn closed the daemon's
// close-on-exec descriptors; this catches any it opened without the flag.
void KeepOnlyOurDescriptors(const Args& a) {
  int keep[4] = {a.control_fd, a.dir_fd, a.log_fd, a.work_fd};
  int n = a.work_fd >= 0 ? 4 : 3;
  for (int i = 1; i < n; ++i) {  // insertion sort: n <= 4
    for (int j = i; j > 0 && keep[j - 1] > keep[j]; --j) {
      int t = keep[j];
      keep[j] = keep[j - 1];
      keep[j - 1] = t;
    }
  }
  unsigned next = 3;
  for (int i = 0; i < n; ++i) {
    unsigned fd = static_cast<unsigned>(keep[i]);
    if (fd > next) CloseRange(next, fd - 1);
    if (fd >= next) next = fd + 1;
    fcntl(keep[i], F_SETFD, FD_CLOEXEC);
  }
  CloseRange(next, ~0u);
}

// `out_fd`: the shell's stdout and stderr (the log, or the relay's pipe).
[[noreturn]] void RunShell(const Args& a, int out_fd) {
  // The daemon spawned us with default dispositions and an empty mask, but
  // the monitor blocked everything: give the command a clean slate.
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
  if (n != 1 || go != monitor::kGo) {
    WriteMessage(out_fd, "skydeck: the launch did not complete; the command was not started\n");
    _exit(monitor::kAbortedExitCode);
  }
  // stdin is already /dev/null.
  if (dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0 ||
      fchdir(a.work_fd >= 0 ? a.work_fd : a.dir_fd) != 0) {
    WriteMessage(out_fd, "skydeck: could not set up the node's stdio or working directory\n");
    _exit(126);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // Our other descriptors are close-on-exec; the environment is the node's.
  execve(a.shell_argv[0], a.shell_argv, environ);
  WriteMessage(2, "skydeck: could not exec the node's shell\n");
  _exit(127);
}

void SendReport(int fd, const monitor::Report& report) {
  const char* bytes = reinterpret_cast<const char*>(&report);
  size_t left = sizeof(report);
  while (left > 0) {
    ssize_t n = send(fd, bytes, left, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    bytes += n;
    left -= static_cast<size_t>(n);
  }
}

void WriteResult(const Args& a, int code, int signal_number) {
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
  char tmp_name[512];
  int written = snprintf(tmp_name, sizeof(tmp_name), "%s.tmp", a.result_name);
  if (written <= 0 || static_cast<size_t>(written) >= sizeof(tmp_name)) return;
  int fd = openat(a.dir_fd, tmp_name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  WriteAll(fd, buf, len);
  fsync(fd);
  close(fd);
  renameat(a.dir_fd, tmp_name, a.dir_fd, a.result_name);
}

int64_t NowMs() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1'000'000;
}

// Whether the shell has exited (left a zombie: WNOWAIT).
bool ShellExited(pid_t job) {
  siginfo_t info;
  memset(&info, 0, sizeof(info));
  while (waitid(P_PID, static_cast<id_t>(job), &info, WEXITED | WNOHANG | WNOWAIT) < 0) {
    if (errno != EINTR) return true;  // ECHILD: nothing left to wait for
  }
  return info.si_pid == job;
}

// Moves the shell's output from its pipe to the log, whole lines behind
// the node's label.
class Relay {
 public:
  Relay(int pipe_fd, int log_fd, std::string label)
      : pipe_fd_(pipe_fd), log_fd_(log_fd), lines_(std::move(label)) {}

  // -1 once the pipe reached its end.
  int fd() const { return open_ ? pipe_fd_ : -1; }

  // Relays what one read returns; at the pipe's end, closes it.
  void ReadOnce() {
    char buf[16 * 1024];
    ssize_t n = read(pipe_fd_, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
      close(pipe_fd_);
      open_ = false;
      return;
    }
    Append(lines_.Feed(std::string_view(buf, static_cast<size_t>(n))));
  }

  // Waits up to `ms` for the pipe's end, relaying, then flushes the last
  // unfinished line.
  void Drain(int ms) {
    int64_t deadline = NowMs() + ms;
    while (open_) {
      int64_t left = deadline - NowMs();
      struct pollfd pfd {
        pipe_fd_, POLLIN, 0
      };
      if (left <= 0 || poll(&pfd, 1, static_cast<int>(left)) <= 0) break;
      ReadOnce();
    }
    if (open_) close(pipe_fd_);
    open_ = false;
    Append(lines_.Finish());
  }

 private:
  // One write per batch of whole lines: with O_APPEND, another node's
  // write lands before or after it, never inside.
  void Append(const std::string& text) {
    if (!text.empty()) WriteAll(log_fd_, text.data(), text.size());
  }

  const int pipe_fd_;
  const int log_fd_;
  LinePrefixer lines_;
  bool open_ = true;
};

// Relays until the shell has exited. Woken by SIGCHLD through a signalfd
// (every signal is blocked, so SIGCHLD stays pending for it); without one,
// checks every 100 ms.
void RelayUntilShellExits(pid_t job, Relay* relay) {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  int chld_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  while (!ShellExited(job)) {
    struct pollfd fds[2] = {{chld_fd, POLLIN, 0}, {relay->fd(), POLLIN, 0}};
    if (poll(fds, 2, chld_fd >= 0 ? -1 : 100) <= 0) continue;
    if (fds[0].revents != 0) {
      struct signalfd_siginfo info;
      while (read(chld_fd, &info, sizeof(info)) > 0) {
      }
    }
    if (fds[1].revents != 0) relay->ReadOnce();
  }
  if (chld_fd >= 0) close(chld_fd);
}

[[noreturn]] void RunMonitor(const Args& a) {
  setsid();  // own session and group: outlives the daemon, untouched by job signals
  if (chdir("/") != 0) {
    // Not fatal: only keeps a directory busy.
  }
  // Stray signals must not kill the one process that records the result.
  // SIGCHLD stays at its default (posix_spawn reset it): ignored, the
  // kernel would reap the shell and lose its status.
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);

  // A labelled node's output goes through a pipe to us; without a pipe
  // the node still runs, unlabelled.
  int pipe_fds[2] = {-1, -1};
  bool relayed = a.label_rank >= 0 && pipe2(pipe_fds, O_CLOEXEC) == 0;
  pid_t job = fork();
  if (job == 0) RunShell(a, relayed ? pipe_fds[1] : a.log_fd);
  // Set the group from both sides, so a signal to it right after the
  // report cannot miss the shell.
  if (job > 0) setpgid(job, job);
  if (relayed) {
    close(pipe_fds[1]);
  } else {
    close(a.log_fd);
  }
  if (a.work_fd >= 0) close(a.work_fd);
  SendReport(a.control_fd, monitor::Report{getpid(), job});
  close(a.control_fd);
  if (job < 0) _exit(1);

  // Leave the shell a zombie while its group is killed: its pid, and so the
  // group id, cannot be reused before we are done.
  Relay relay(pipe_fds[0], a.log_fd, relayed ? NodeLogLabel(a.label_rank, job) : "");
  if (relayed) {
    RelayUntilShellExits(job, &relay);
  } else {
    siginfo_t info;
    while (waitid(P_PID, static_cast<id_t>(job), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
    }
  }
  kill(-job, SIGKILL);
  int status = 0;
  while (waitpid(job, &status, 0) < 0 && errno == EINTR) {
  }
  // The log is complete before the result says the node ended.
  if (relayed) relay.Drain(kDrainMs);
  int signal_number = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + signal_number;
  WriteResult(a, code, signal_number);
  _exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, &args)) {
    fprintf(stderr,
            "usage: %s --protocol=%d --control-fd=N --dir-fd=N --work-fd=N --log-fd=N "
            "--label-rank=R --result=NAME -- COMMAND...\n(started by skydeckd for each node "
            "of a local job; not meant to be run by hand)\n",
            monitor::kExecutableName, monitor::kProtocolVersion);
    return monitor::kExitUsage;
  }
  if (args.protocol != monitor::kProtocolVersion) return monitor::kExitWrongProtocol;
  KeepOnlyOurDescriptors(args);
  pid_t child = fork();
  if (child == 0) RunMonitor(args);
  // The daemon reaps this process right away; the monitor lives on as an
  // orphan, so skydeckd has no child to wait for.
  _exit(child < 0 ? monitor::kExitForkFailed : monitor::kExitForked);
}
