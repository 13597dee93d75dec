// File: daemon/backend/local/process_launcher.h
//
// Starts one node of a local job so that it outlives skydeckd and its exit
// code is never lost:
//
//   skydeckd ─fork─► launcher ─fork─► monitor ─fork─► /bin/sh -c COMMAND
//                    (exits at once,  (setsid: own    (own process group,
//                     reaped by        session; is     cwd = the workdir or
//                     ForkNode)        not in the      the job dir, stdin
//                                      job's group)    /dev/null, stdout and
//                                                      stderr to the log)
//
// The launcher exiting makes the monitor an orphan (re-parented to init or
// the nearest subreaper), so skydeckd has no child left to reap and a kill
// -9 of skydeckd leaves the node running. The monitor waits for the shell,
// SIGKILLs whatever the shell left behind in its process group, and writes
// "<exit code> <signal> <end unix ns>\n" atomically (renameat) into the job
// directory.
//
// Start is a handshake over a socketpair: the forked shell waits for
// PendingNode::Release() before exec'ing the command, so the caller can
// record both pids (and their start times, read while both are certainly
// alive) before any user code runs. A PendingNode destroyed without
// Release(), or a caller that dies first, makes the node write "skydeck:
// ..." to the log and exit 125 without running the command.
//
// Everything between fork and exec/_exit is async-signal-safe (the caller
// is multithreaded): _Fork, setsid, setpgid, sigaction, sigprocmask, read,
// send, dup2, fchdir, close_range, waitid, waitpid, kill, clock_gettime,
// openat, renameat, _exit. All strings are built before forking. The monitor and the shell
// keep no descriptor of the caller's except the ones passed here; the
// monitor's stdio is /dev/null.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace skydeck::backend::local {

struct NodeCommand {
  // The shell's argv, e.g. {"/bin/sh", "-c", command} (argv[0] is exec'ed).
  std::vector<std::string> argv;
  // The complete environment, "KEY=value" each.
  std::vector<std::string> env;
  // The job directory: where the result is written, and the shell's cwd
  // unless work_fd is set.
  int dir_fd = -1;
  // The shell's cwd (the experiment's workdir); -1: dir_fd.
  int work_fd = -1;
  // stdout and stderr (opened O_APPEND by the caller).
  int log_fd = -1;
  // stdin.
  int stdin_fd = -1;
  // File name, relative to dir_fd, the monitor writes the result to.
  std::string result_name;
};

// A node forked and held before exec. Move-only.
class PendingNode {
 public:
  PendingNode(pid_t monitor_pid, pid_t job_pid, int control_fd)
      : monitor_pid_(monitor_pid), job_pid_(job_pid), control_fd_(control_fd) {}
  PendingNode(PendingNode&& other) noexcept;
  PendingNode& operator=(PendingNode&&) = delete;
  PendingNode(const PendingNode&) = delete;
  ~PendingNode();

  pid_t monitor_pid() const { return monitor_pid_; }
  // The shell's pid, which is also its process group id.
  pid_t job_pid() const { return job_pid_; }

  // Lets the shell exec the command. Errors: UNAVAILABLE when the node is
  // already gone (killed from outside); its monitor still records a result.
  // REQUIRES: not called before on this node.
  absl::Status Release();

 private:
  pid_t monitor_pid_;
  pid_t job_pid_;
  int control_fd_;
};

// Forks the node's processes (see above) and waits until they are in place.
// Errors: UNAVAILABLE when fork or socketpair fail or the monitor does not
// report within 10 s (it is then left to exit on its own).
absl::StatusOr<PendingNode> ForkNode(const NodeCommand& node);

// /proc/<pid>/stat start time (clock ticks since boot); 0 when the process
// is gone or a zombie.
uint64_t ProcessStartTime(pid_t pid);

// Whether `pid` is still the live (not zombie) process that had `start_time`.
bool IsSameLiveProcess(pid_t pid, uint64_t start_time);

}  // namespace skydeck::backend::local
