// File: daemon/backend/local/process_launcher.h
//
// Starts one node of a local job so that it outlives skydeckd and its exit
// code is never lost:
//
//   skydeckd ─fork─► launcher ─fork─► monitor (own session) ─fork─► /bin/sh -c CMD
//                    (exits at once;                       (own process group,
//                     reaped by us)                         cwd = job dir)
//
// The monitor waits for the shell and atomically writes its exit code (or
// 128 + signal) to `exit_path`. It is not in the job's process group, so
// cancelling the job (signals to the group) never kills the monitor, and a
// kill -9 of skydeckd leaves both running.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace skydeck::backend::local {

struct LaunchedNode {
  pid_t monitor_pid = 0;
  // The shell's pid; also its process group id.
  pid_t job_pid = 0;
};

struct NodeLaunch {
  std::string command;
  std::string working_dir;
  std::string log_path;   // stdout and stderr, appended
  std::string exit_path;  // written by the monitor when the node ends
  std::map<std::string, std::string> env;  // the complete environment
};

// Errors: INTERNAL when fork/pipe fail.
absl::StatusOr<LaunchedNode> LaunchNode(const NodeLaunch& launch);

// /proc/<pid>/stat start time (clock ticks since boot); 0 if the process is
// gone or a zombie. Used to tell a live process from a reused pid.
uint64_t ProcessStartTime(pid_t pid);

}  // namespace skydeck::backend::local
