// File: daemon/backend/local/job_dir.h
//
// The on-disk record of one local job: DATA_DIR/jobs/<job name>/. It is the
// only state the local backend keeps, so a restarted skydeckd knows every
// job it ever launched. The directory is also the job's working directory
// when the experiment has no workdir; any other file in it is the job's
// scratch.
//
//   spec              what was launched ("key=value", values C-escaped;
//                     secrets by name only, never their values)
//   launched          launch time (unix ms); written before any node may
//                     run the command, so its absence means none ever did
//   node-<r>.pid      "<monitor pid> <start> <job pid> <start>" of node r;
//                     start = field 22 of /proc/<pid>/stat, which tells a
//                     live process from a later one that reused its pid
//   node-<r>.exit     "<exit code> <signal> <end unix ns>\n", written
//                     atomically by node r's monitor when the node's shell
//                     ends (code 128+signal when killed)
//   cancel-requested  time (unix ms) Cancel was first asked for
//   run.log           stdout and stderr of every node, appended (several
//                     nodes: whole lines, each behind its node's label,
//                     node_log_prefix.h)
//
// Usage:
//   JobDir dir(jobs_root / "skydeck-42-3");
//   RETURN_IF_ERROR(dir.MarkLaunched(NowMillis()));
//   std::optional<NodeResult> r = dir.ReadNodeResult(0);
//
// Readers tolerate missing and half-written files (they read as absent);
// every file but run.log is replaced atomically (write to .tmp, rename).
//
// Thread-safety: a JobDir is an immutable path; concurrent use is safe as
// far as the files go (writers of one file are never concurrent).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <sys/types.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

#include "daemon/backend/backend.h"

namespace skydeck::backend::local {

// A job name that is safe as one path component: [A-Za-z0-9._-]+, at most
// 200 characters, no "..".
bool IsSafeJobName(absl::string_view name);

// The processes of one node, as recorded at launch.
struct NodeProcess {
  pid_t monitor_pid = 0;
  uint64_t monitor_start = 0;
  // The node's shell; also its process group id.
  pid_t job_pid = 0;
  uint64_t job_start = 0;
};

// How one node ended.
struct NodeResult {
  // Exit status, or 128 + signal when the shell was killed by a signal.
  int exit_code = 0;
  // The signal that killed the shell, 0 when it exited.
  int signal = 0;
  // When the shell ended, unix ns.
  int64_t end_ns = 0;
};

class JobDir {
 public:
  explicit JobDir(std::filesystem::path path) : path_(std::move(path)) {}

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path LogPath() const { return path_ / "run.log"; }
  bool Exists() const;

  // Records what is being launched. Errors: UNAVAILABLE (disk).
  absl::Status WriteSpec(const JobSpec& spec) const;
  // Number of nodes from the spec; 1 when unreadable.
  int Nodes() const;

  // Errors: UNAVAILABLE (disk).
  absl::Status MarkLaunched(int64_t unix_ms) const;
  std::optional<int64_t> LaunchedMs() const;

  absl::Status WriteNodeProcess(int rank, const NodeProcess& process) const;
  std::optional<NodeProcess> ReadNodeProcess(int rank) const;

  // File name (relative to the directory) the monitor of node `rank`
  // writes its result to.
  static std::string NodeResultName(int rank);
  std::optional<NodeResult> ReadNodeResult(int rank) const;

  // Keeps the first request's time when called again.
  absl::Status MarkCancelRequested(int64_t unix_ms) const;
  std::optional<int64_t> CancelRequestedMs() const;

  // Removes every file and directory that is not one of the records above.
  // Errors: UNAVAILABLE when something could not be removed.
  absl::Status RemoveScratch() const;

 private:
  const std::filesystem::path path_;
};

}  // namespace skydeck::backend::local
