// File: daemon/backend/local/process_launcher.h
//
// Starts one node of a local job so that it outlives skydeckd and its exit
// code is never lost, without forking skydeckd: the daemon posix_spawns the
// small `skydeck-monitor` executable (monitor_main.cc), which forks the
// node's monitor and shell and exits at once. Forking the daemon copied its
// page tables on every launch (two forks each) and slowed every API call
// during a burst of launches; posix_spawn shares the address space until
// the exec.
//
// Start is a handshake over a socketpair (monitor_protocol.h): the node's
// shell waits for PendingNode::Release() before exec'ing the command, so
// the caller can record both pids (and their start times, read while both
// are certainly alive) before any user code runs. A PendingNode destroyed
// without Release(), or a caller that dies first, makes the node write
// "skydeck: ..." to the log and exit 125 without running the command.
//
// The monitor and the shell keep no descriptor of the caller's except the
// ones passed here; the monitor's stdio is /dev/null.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <sys/types.h>

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
  // -1: the shell writes to log_fd itself (single-node jobs). A rank: the
  // monitor relays the shell's output to log_fd line by line behind that
  // node's label (node_log_prefix.h).
  int label_rank = -1;
  // File name, relative to dir_fd, the monitor writes the result to.
  std::string result_name;
};

// DefaultMonitorPath()
//
// `skydeck-monitor` in the directory of the running executable (so next to
// skydeckd, where the build and `cmake --install` put it); "" when
// /proc/self/exe cannot be read.
std::string DefaultMonitorPath();

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

// SpawnNode()
//
// Starts the node's processes through the monitor executable at
// `monitor_path` (see above) and waits until they are in place.
// Thread-safety: safe to call concurrently.
// Errors: UNAVAILABLE, saying which, when `monitor_path` cannot be
// executed or is another build's (monitor_protocol.h: an installation to
// fix, after which a retry works), when socketpair, spawn or fork fail, or
// when the monitor does not report within 10 s (it is then left to exit on
// its own).
absl::StatusOr<PendingNode> SpawnNode(const NodeCommand& node, const std::string& monitor_path);

// /proc/<pid>/stat start time (clock ticks since boot); 0 when the process
// is gone or a zombie.
uint64_t ProcessStartTime(pid_t pid);

// Whether `pid` is still the live (not zombie) process that had `start_time`.
bool IsSameLiveProcess(pid_t pid, uint64_t start_time);

}  // namespace skydeck::backend::local
