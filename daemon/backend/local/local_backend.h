// File: daemon/backend/local/local_backend.h
//
// The embedded default backend: runs each job as real processes on this
// machine, one per node, with the environment SkyPilot gives a node. Every
// job has a directory under DATA_DIR/jobs/<job name>/ holding its working
// files and:
//
//   run.log            stdout and stderr of all nodes
//   nodes              number of nodes
//   node-<r>.pid       "<monitor pid> <monitor start> <job pid> <job start>"
//   node-<r>.exit      exit code, written by the node's monitor
//   started, cancelled timestamps (ms) of launch and cancel requests
//
// Because the result is a file written by a process that outlives
// skydeckd, a restarted daemon finds its jobs again; a node whose monitor
// vanished without writing a result is LOST, never RUNNING forever.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "daemon/backend/backend.h"

namespace skydeck::backend {

struct LocalBackendOptions {
  std::string data_dir;
  // Time between SIGTERM and SIGKILL when a job is cancelled.
  absl::Duration cancel_grace = absl::Seconds(10);
};

class LocalBackend final : public Backend {
 public:
  explicit LocalBackend(LocalBackendOptions options);
  ~LocalBackend() override;

  std::string name() const override { return "local"; }
  int64_t DefaultPollIntervalMs() const override { return 1000; }
  absl::StatusOr<std::string> Launch(const JobSpec& spec) override;
  absl::StatusOr<std::vector<JobObservation>> Query(const std::vector<std::string>& ids) override;
  absl::StatusOr<std::vector<JobObservation>> Find(const std::string& name) override;
  absl::Status Cancel(const std::string& id) override;
  absl::Status Teardown(const std::string& id) override;
  absl::Status StreamLogs(const std::string& id, bool follow, int64_t tail_bytes,
                          const std::function<bool(absl::string_view)>& sink,
                          const std::function<bool()>& cancelled) override;
  BackendInfo Probe() override;

 private:
  std::filesystem::path JobDir(const std::string& id) const;
  // Observation of a job whose directory exists.
  JobObservation Observe(const std::string& id) const;
  // Sends `sig` to every live node's process group.
  void SignalJob(const std::string& id, int sig) const;
  void KillerLoop();

  const LocalBackendOptions options_;
  const std::filesystem::path jobs_dir_;

  std::mutex mu_;
  std::condition_variable cv_;
  // (deadline, job id) of cancelled jobs to SIGKILL if still alive.
  std::vector<std::pair<absl::Time, std::string>> pending_kills_;  // guarded by mu_
  bool stopping_ = false;                                        // guarded by mu_
  std::thread killer_;
};

}  // namespace skydeck::backend
