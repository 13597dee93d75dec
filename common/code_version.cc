#include "common/code_version.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <vector>

#include <sys/wait.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace skydeck {
namespace {

constexpr int kTimeoutMs = 5000;

struct GitResult {
  bool ok = false;  // exited 0 within the time
  std::string out;
};

// Runs git with `args` and a minimal environment; stdout is captured,
// stderr discarded.
GitResult RunGit(const std::vector<std::string>& args) {
  std::vector<std::string> argv_storage = {"git",
                                           "-c",
                                           "safe.directory=*",
                                           "-c",
                                           "core.fsmonitor=false",
                                           "-c",
                                           "core.hooksPath=/dev/null"};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  const char* path = std::getenv("PATH");
  const char* home = std::getenv("HOME");
  std::vector<std::string> env_storage = {absl::StrCat("PATH=", path ? path : "/usr/bin:/bin"),
                                          "GIT_OPTIONAL_LOCKS=0", "GIT_TERMINAL_PROMPT=0",
                                          "LC_ALL=C"};
  if (home) env_storage.push_back(absl::StrCat("HOME=", home));
  std::vector<char*> envp;
  for (std::string& s : env_storage) envp.push_back(s.data());
  envp.push_back(nullptr);

  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return {};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, "git", &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(pipe_fds[1]);
  if (rc != 0) {
    close(pipe_fds[0]);
    return {};
  }
  GitResult result;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
  bool timed_out = false;
  char buf[4096];
  while (true) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    if (left <= 0) {
      timed_out = true;
      break;
    }
    struct pollfd pfd {
      pipe_fds[0], POLLIN, 0
    };
    int ready = poll(&pfd, 1, left);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      timed_out = ready == 0;
      break;
    }
    ssize_t n = read(pipe_fds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    // Only the first line (a commit) or "anything at all" (status) matters.
    if (result.out.size() < 64 * 1024) result.out.append(buf, static_cast<size_t>(n));
  }
  close(pipe_fds[0]);
  if (timed_out) kill(-pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.ok = !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return result;
}

bool IsCommitId(absl::string_view text) {
  if (text.size() != 40 && text.size() != 64) return false;
  for (char c : text) {
    if (!absl::ascii_isxdigit(c)) return false;
  }
  return true;
}

}  // namespace

CodeVersion InspectCode(const std::string& dir) {
  CodeVersion v;
  GitResult head = RunGit({"-C", dir, "rev-parse", "--verify", "-q", "HEAD"});
  std::string commit(absl::StripAsciiWhitespace(head.out));
  if (!head.ok || !IsCommitId(commit)) return v;
  v.commit = commit;
  GitResult status = RunGit({"-C", dir, "status", "--porcelain", "--untracked-files=normal"});
  // A status that failed (or timed out) cannot vouch for a clean tree.
  v.dirty = !status.ok || !absl::StripAsciiWhitespace(status.out).empty();
  return v;
}

}  // namespace skydeck
