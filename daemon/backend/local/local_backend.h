// File: daemon/backend/local/local_backend.h
//
// The embedded default backend: runs each job as real processes on this
// machine, one per node, each `/bin/sh -c COMMAND` (after the setup, when
// there is one) in the job's workdir, else its job directory, with a clean
// environment (local_task.h): a few of the daemon's variables (PATH, HOME,
// LANG, ...; never its tokens), JobSpec.env and .secrets, and what
// SkyPilot gives a node (SKYPILOT_NODE_RANK, SKYPILOT_NUM_NODES,
// SKYPILOT_NODE_IPS, SKYPILOT_NUM_GPUS_PER_NODE, SKYPILOT_TASK_ID). Values
// travel in the environment, never through the command line.
//
// All state is on disk under DATA_DIR/jobs/<job name>/ (job_dir.h), and each
// node is watched by a monitor process that outlives skydeckd, started
// with posix_spawn from the `skydeck-monitor` executable, never by forking
// the daemon (process_launcher.h). So a restarted daemon, or a new LocalBackend on the
// same directory, sees its jobs again with their exit codes; a node whose
// processes vanished without a result is LOST, never RUNNING forever.
//
// The backend id of a job is its name. Stopping is level-triggered: Cancel
// records the request and sends SIGTERM to every node's process group; a
// background thread sends SIGKILL after `cancel_grace`; and every Query of
// a job that should be stopping (cancelled, or one of its nodes failed)
// re-arms both, so a cancel outlives a daemon restart too.
//
// Usage:
//   LocalBackend backend({.data_dir = "/var/lib/skydeck"});
//   ASSIGN_OR_RETURN(std::string id, backend.Launch(spec));
//   ASSIGN_OR_RETURN(std::vector<JobObservation> seen, backend.Query({id}));
//
// Thread-safety: safe for concurrent use. Two LocalBackends (or daemons)
// may share a data dir only one at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#include "daemon/backend/backend.h"
#include "daemon/backend/local/job_dir.h"

namespace skydeck::backend {

struct LocalBackendOptions {
  // Jobs live under data_dir/jobs/<job name>/; launches that failed half-way
  // are moved to data_dir/launch-failed/ to free their name.
  std::string data_dir;
  // Time between SIGTERM and SIGKILL when a job is stopped.
  absl::Duration cancel_grace = absl::Seconds(10);
  // The skydeck-monitor executable that starts and watches each node
  // (process_launcher.h); empty: the one next to the running executable
  // (local::DefaultMonitorPath()).
  std::string monitor_path;
};

class LocalBackend final : public Backend {
 public:
  explicit LocalBackend(LocalBackendOptions options);
  // Joins the SIGKILL timer; pending kills are re-armed by the next
  // instance's Query. Running jobs keep running.
  ~LocalBackend() override;

  std::string name() const override { return "local"; }
  int64_t DefaultPollIntervalMs() const override { return 1000; }

  // The task as local_task.h renders it. Errors: as Launch's
  // INVALID_ARGUMENT, except that the workdir's existence is not checked.
  absl::StatusOr<std::string> RenderTask(const JobSpec& spec) override;
  // Starts spec.nodes processes and returns spec.name. No node runs the
  // command before the job directory records all of them.
  // Errors: INVALID_ARGUMENT for an unsafe name (job_dir.h), nodes < 1, an
  // empty command, env keys that are empty or contain '='/NUL, a git
  // workdir, or a workdir that is not a directory;
  // FAILED_PRECONDITION when the name was already launched; UNAVAILABLE
  // when processes or files could not be created, or skydeck-monitor
  // cannot be run (nothing ran; the name is free for a retry).
  absl::StatusOr<std::string> Launch(const JobSpec& spec) override;
  // A job whose launch is still in progress in this instance is LAUNCHING;
  // one whose launch was interrupted by a crash before any node ran is
  // absent (its name may be launched again).
  absl::StatusOr<std::vector<JobObservation>> Query(const std::vector<std::string>& ids) override;
  absl::StatusOr<std::vector<JobObservation>> Find(const std::string& name) override;
  absl::Status Cancel(const std::string& id) override;
  // Removes the job's scratch files (everything in its directory except the
  // records and run.log). Errors: FAILED_PRECONDITION while the job is live.
  absl::Status Teardown(const std::string& id) override;
  // Errors: NOT_FOUND for an unknown id; UNAVAILABLE when run.log cannot be
  // read.
  absl::Status StreamLogs(const std::string& id, bool follow, const LogTail& tail,
                          const std::function<bool(absl::string_view)>& sink,
                          const std::function<bool()>& cancelled) override;
  // Unreachable, saying why, when the job directory is not writable or
  // skydeck-monitor cannot be run.
  BackendInfo Probe() override;

 private:
  local::JobDir DirOf(const std::string& id) const;
  // Runs the launch once the name is claimed and the directory created.
  absl::Status StartNodes(const JobSpec& spec, const local::JobDir& dir);
  // Moves a directory whose launch did not complete out of jobs/.
  void MoveAside(const local::JobDir& dir);
  // nullopt when the job is unknown. Re-arms stopping when due.
  std::optional<JobObservation> Observe(const std::string& id);
  // SIGTERM now (once per instance and job) and SIGKILL at since + grace.
  void EnsureStopping(const std::string& id, int64_t since_ms);
  // Sends `sig` to the process group of every node still running; returns
  // how many groups were signalled.
  int SignalNodes(const local::JobDir& dir, int sig) const;
  void KillTimerLoop();

  // Constant after construction.
  const LocalBackendOptions options_;
  const std::filesystem::path jobs_root_;
  const std::string monitor_path_;

  absl::Mutex mu_;
  // Names whose Launch is in progress.
  std::set<std::string> launching_ ABSL_GUARDED_BY(mu_);
  // Jobs that got SIGTERM from this instance.
  std::set<std::string> terminated_ ABSL_GUARDED_BY(mu_);
  // When to SIGKILL what is left of a stopping job.
  std::map<std::string, absl::Time> kill_at_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  // Signalled when kill_at_ gains an earlier deadline or on shutdown.
  absl::CondVar kill_timer_wakeup_;
  std::thread kill_timer_;
};

}  // namespace skydeck::backend
