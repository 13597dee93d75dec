#include "daemon/backend/local/process_launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"

namespace skydeck::backend::local {
namespace {

// Everything between fork and exec/_exit must be async-signal-safe: no
// malloc, no locks. These helpers only use write/open/rename.
void WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    size -= static_cast<size_t>(n);
  }
}

// Formats a non-negative int into buf without allocating; returns length.
size_t FormatInt(int value, char* buf) {
  char tmp[16];
  size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0 && n < sizeof(tmp));
  for (size_t i = 0; i < n; ++i) buf[i] = tmp[n - 1 - i];
  return n;
}

[[noreturn]] void RunMonitor(int report_fd, const char* log_path, const char* exit_path,
                             const char* exit_tmp_path, const char* working_dir,
                             char* const argv[], char* const envp[]) {
  setsid();  // survive skydeckd and its terminal; leave its process group
  pid_t job = fork();
  if (job == 0) {
    setpgid(0, 0);  // the job's own group: cancel signals reach all its children
    // Masks and ignored signals survive exec: give the job a clean slate
    // (skydeckd blocks SIGTERM for its own shutdown handling).
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    int devnull = open("/dev/null", O_RDONLY);
    int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (devnull >= 0) dup2(devnull, 0);
    if (log >= 0) {
      dup2(log, 1);
      dup2(log, 2);
    }
    if (chdir(working_dir) != 0) _exit(126);
    execve("/bin/sh", argv, envp);
    _exit(127);
  }
  pid_t pids[2] = {getpid(), job};
  WriteAll(report_fd, reinterpret_cast<const char*>(pids), sizeof(pids));
  close(report_fd);
  int code = 127;
  if (job > 0) {
    int status = 0;
    while (waitpid(job, &status, 0) < 0 && errno == EINTR) {
    }
    code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  int fd = open(exit_tmp_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    char buf[16];
    size_t n = FormatInt(code, buf);
    buf[n++] = '\n';
    WriteAll(fd, buf, n);
    fsync(fd);
    close(fd);
    rename(exit_tmp_path, exit_path);
  }
  _exit(0);
}

}  // namespace

uint64_t ProcessStartTime(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(in, line)) return 0;
  // The command name (field 2) may contain spaces and parentheses: parse
  // from the last ')'.
  size_t close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(line.substr(close + 2));
  std::string state;
  fields >> state;
  if (state == "Z" || state == "X") return 0;
  std::string skip;
  for (int i = 0; i < 18; ++i) fields >> skip;  // fields 4..21
  uint64_t start = 0;
  fields >> start;                              // field 22
  return start;
}

absl::StatusOr<LaunchedNode> LaunchNode(const NodeLaunch& launch) {
  // Build every string before forking: the children may not allocate.
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : launch.env) env_strings.push_back(absl::StrCat(k, "=", v));
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string sh = "sh", dash_c = "-c", command = launch.command;
  std::vector<char*> argv = {sh.data(), dash_c.data(), command.data(), nullptr};
  std::string exit_tmp = launch.exit_path + ".tmp";

  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  pid_t launcher = fork();
  if (launcher < 0) {
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (launcher == 0) {
    close(pipe_fds[0]);
    pid_t monitor = fork();
    if (monitor == 0) {
      RunMonitor(pipe_fds[1], launch.log_path.c_str(), launch.exit_path.c_str(),
                 exit_tmp.c_str(), launch.working_dir.c_str(), argv.data(), envp.data());
    }
    _exit(monitor < 0 ? 1 : 0);  // the monitor is now an orphan: not our child
  }
  close(pipe_fds[1]);
  int status = 0;
  while (waitpid(launcher, &status, 0) < 0 && errno == EINTR) {
  }
  pid_t pids[2] = {0, 0};
  size_t got = 0;
  while (got < sizeof(pids)) {
    ssize_t n = read(pipe_fds[0], reinterpret_cast<char*>(pids) + got, sizeof(pids) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(pipe_fds[0]);
  if (got != sizeof(pids) || pids[1] <= 0) {
    return absl::InternalError("could not start the job's process");
  }
  return LaunchedNode{pids[0], pids[1]};
}

}  // namespace skydeck::backend::local
