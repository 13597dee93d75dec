// File: daemon/backend/local/monitor_protocol.h
//
// What skydeckd and the `skydeck-monitor` executable (monitor_main.cc)
// agree on. skydeckd starts one monitor per node with posix_spawn:
//
//   skydeck-monitor --protocol=2 --control-fd=N --dir-fd=N --work-fd=N
//                   --log-fd=N --label-rank=R --result=NAME -- SHELL_ARGV...
//
// with the node's environment as its environment (passed on to the shell
// unchanged; argv is world-readable in /proc, the environment is not, and
// it holds the job's secrets), /dev/null as stdin, stdout and stderr, and
// the descriptors named above open (--work-fd=-1: none). Nothing else of
// the daemon's is open in it.
//
// --label-rank=-1 (single-node jobs): the shell's stdout and stderr are
// the log itself. --label-rank=R: they are a pipe, and the monitor appends
// each whole line to the log behind node R's label (node_log_prefix.h).
//
// Then, over the control socket:
//   monitor → daemon  a Report (its own pid and the shell's), once both
//                     are in place;
//   daemon → shell    kGo, once the daemon recorded both pids; EOF
//                     without it makes the shell exit kAbortedExitCode
//                     without running the command.
// The process skydeckd spawned exits as soon as the monitor is forked (exit
// codes below), so the daemon reaps it at once and keeps no child.
//
// Header-only and free of Abseil: the monitor links nothing but libc,
// libstdc++ and node_log_prefix.cc, so it starts fast.
#pragma once

#include <sys/types.h>

namespace skydeck::backend::local::monitor {

// Bumped whenever the arguments or the messages change, so a skydeckd and
// a skydeck-monitor from different builds refuse each other instead of
// misreading each other.
inline constexpr int kProtocolVersion = 2;

// The executable's file name, looked up next to skydeckd.
inline constexpr char kExecutableName[] = "skydeck-monitor";

inline constexpr char kProtocolFlag[] = "--protocol=";
inline constexpr char kControlFdFlag[] = "--control-fd=";
inline constexpr char kDirFdFlag[] = "--dir-fd=";
inline constexpr char kWorkFdFlag[] = "--work-fd=";
inline constexpr char kLogFdFlag[] = "--log-fd=";
inline constexpr char kLabelRankFlag[] = "--label-rank=";
inline constexpr char kResultFlag[] = "--result=";

// The monitor's first message.
struct Report {
  pid_t monitor_pid;
  pid_t job_pid;
};

// The byte that lets the shell exec the command.
inline constexpr char kGo = 'g';

// The node's exit code when the launch did not complete.
inline constexpr int kAbortedExitCode = 125;

// Exit codes of the spawned process (not of the job).
inline constexpr int kExitForked = 0;         // the monitor runs
inline constexpr int kExitForkFailed = 1;     // no monitor
inline constexpr int kExitUsage = 2;          // bad arguments
inline constexpr int kExitWrongProtocol = 3;  // another build's skydeckd

}  // namespace skydeck::backend::local::monitor
