// File: daemon/backend/skypilot/skypilot_backend.h
//
// The `skypilot` Backend: each job is a SkyPilot managed job, driven
// through the API server's REST protocol (api_client.h). SkyPilot recovers
// preemptions (RECOVERING, recovery_count) and tears clusters down; SkyDeck
// keeps the restart budget (SkyPilot never retries user-code failures).
//
// Job ids. A managed job is known by its numeric id, e.g. "17". A launch
// takes minutes on a real server (the jobs controller may have to start),
// so Launch only submits the request and returns the provisional id
// "request:<launch request uuid>" at once. Query, given that id, reports the
// launch as LAUNCHING while the request runs, then the managed job's status
// with JobObservation.resolved_job_id = "17" once it finished, or a terminal
// status with the reason if the launch failed (see failure_mapping.h). A
// launch request that was cancelled or failed may still have created its
// managed job first (a real server cancelled mid-launch left one PENDING),
// so before reporting it ended, the queue is asked for a job of its name:
// one found is reported, under resolved_job_id, instead.
// Resolution needs no state in this process: a restarted daemon resolves
// provisional ids it finds in its store the same way.
//
// Crash safety. Find(name) looks in two places, launch requests first and
// then the queue, so a launch finishing in between is still seen: the
// server's active requests (a "jobs.launch" whose task YAML names the job),
// reported as "request:<uuid>" in LAUNCHING, and the managed jobs of that
// name. A launch submitted just before a crash is therefore found, never
// launched twice. Find reports an error, never "none", when either lookup
// fails, and while a launch of the name may still be on its way to the
// server (SkyPilotOptions::launch_settle): after a launch call that got no
// answer (timed out, connection dropped), and, for names this process
// never sent, during its first launch_settle (a request sent just before a
// crash can reach the server after the restarted daemon looked).
//
// Cost. One Query is one queue request for all managed job ids (never with
// `refresh: true`), plus, only while launches are unresolved, one
// /api/status call for all of them, one /api/get per launch that just
// finished and one queue request by name per launch that was cancelled or
// failed. Queries are serialised: one poll in flight. Concurrent cancels
// share one /jobs/cancel request (cancel_batcher.h). At most
// max_concurrent_launches launch requests are in flight; beyond that Launch
// returns RESOURCE_EXHAUSTED before contacting the server.
//
// Versions. The server's API version comes from GET /api/health on first
// use and again after the server was unreachable. Below 11 every call fails
// with FAILED_PRECONDITION naming the versions; from 18 the queue is
// /jobs/queue/v2 filtered by job_ids and fields, below it /jobs/queue.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#include "daemon/backend/backend.h"
#include "daemon/backend/skypilot/api_client.h"
#include "daemon/backend/skypilot/backend_job_id.h"
#include "daemon/backend/skypilot/cancel_batcher.h"
#include "daemon/backend/skypilot/managed_job_queue.h"
#include "daemon/backend/skypilot/skypilot_options.h"
#include "daemon/backend/skypilot/task_yaml.h"

namespace skydeck::backend::skypilot {

// Find only ever adopts managed jobs whose name starts with this.
inline constexpr char kSkyDeckJobPrefix[] = "skydeck-";

class SkyPilotBackend final : public Backend {
 public:
  // Does not contact the server. Errors: INVALID_ARGUMENT for a bad
  // endpoint or an empty user id.
  static absl::StatusOr<std::unique_ptr<SkyPilotBackend>> Create(SkyPilotOptions options);

  std::string name() const override { return "skypilot"; }
  // SkyPilot answers a queue request in seconds and its controller is
  // shared: poll every 30 s.
  int64_t DefaultPollIntervalMs() const override { return 30000; }
  // With a snapshot store (SkyPilotOptions::snapshots): local code is
  // uploaded (skypilot_backend_code.cc).
  bool UsesCodeSnapshots() const override { return options_.snapshots != nullptr; }

  // The task YAML Launch sends (task_yaml.h), secrets redacted. A local
  // workdir is refused unless the endpoint is on this machine (SkyPilot
  // reads it from the API server's file system).
  absl::StatusOr<std::string> RenderTask(const JobSpec& spec) override;
  // Uploads the code snapshots the task names that the server does not
  // have yet (see StageCode), submits /jobs/launch and returns
  // "request:<uuid>".
  // Errors: INVALID_ARGUMENT for a spec SkyPilot cannot take;
  // FAILED_PRECONDITION when a code snapshot is missing from the store;
  // RESOURCE_EXHAUSTED when max_concurrent_launches are in flight;
  // FAILED_PRECONDITION for an API server older than version 11; the
  // transport codes of api_client.h.
  absl::StatusOr<std::string> Launch(const JobSpec& spec) override;
  // Ids that are neither "request:<uuid>" nor a job number are absent.
  // The jobs controller being down (ClusterNotUpError) means no managed
  // job is live: their ids are absent, and that is not an error.
  absl::StatusOr<std::vector<JobObservation>> Query(
      const std::vector<std::string>& backend_job_ids) override;
  // Names not starting with "skydeck-" are never SkyDeck's: none found.
  absl::StatusOr<std::vector<JobObservation>> Find(const std::string& name) override;
  // A managed job: /jobs/cancel (batched with concurrent cancels). A
  // launch: /api/cancel while it runs; then its managed job, found from
  // its result or else by its name, is cancelled too, so nothing is left
  // running on the server. OK means nothing of it will keep running.
  absl::Status Cancel(const std::string& backend_job_id) override;
  // Managed jobs own their clusters: nothing to do.
  absl::Status Teardown(const std::string& backend_job_id) override;
  // Streams `sky jobs logs` text without SkyPilot's control lines.
  // `tail.lines` is sent as the request's `tail`, which the server counts in
  // lines too. `tail.bytes`: without `follow` the exact last bytes are
  // returned; with `follow` they are approximated as bytes / 100 lines.
  // Without `follow` and without a tail the answer is still bounded: the
  // last SkyPilotOptions::default_log_tail_lines lines, at most the last
  // default_log_tail_bytes bytes of them.
  // `cancelled` may be called from another thread.
  // Errors: FAILED_PRECONDITION while the job is still launching;
  // NOT_FOUND when SkyPilot does not know the job.
  absl::Status StreamLogs(const std::string& backend_job_id, bool follow, const LogTail& tail,
                          const std::function<bool(absl::string_view)>& sink,
                          const std::function<bool()>& cancelled) override;
  BackendInfo Probe() override;
  // failure_mapping.h: ClassifySkyPilotFailure.
  FailureClass ClassifyFailure(JobStatus status, absl::string_view failure_reason) const override;

 private:
  struct InFlightLaunch {
    std::string name;
    absl::Time submitted;
  };
  // The code snapshots one launch needs on the server, each held (no other
  // launch of this process uploads it meanwhile) until the launch request
  // that names them is submitted and recorded as their witness.
  // One snapshot's upload lock, held from StageCode until the StagedCode
  // is destroyed: across calls, so no absl::MutexLock scope fits. The
  // mutex guards no field (it serialises uploads of one snapshot), so
  // there is nothing for -Wthread-safety to check here. Move-only.
  class SnapshotHold {
   public:
    explicit SnapshotHold(std::shared_ptr<absl::Mutex> mu) ABSL_NO_THREAD_SAFETY_ANALYSIS
        : mu_(std::move(mu)) {
      mu_->Lock();
    }
    ~SnapshotHold() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      if (mu_) mu_->Unlock();
    }
    SnapshotHold(SnapshotHold&&) noexcept = default;
    SnapshotHold& operator=(SnapshotHold&&) = delete;

   private:
    std::shared_ptr<absl::Mutex> mu_;  // null once moved from
  };
  struct StagedCode {
    std::vector<std::string> ids;
    std::vector<SnapshotHold> locks;
  };
  // A launch request observed to have produced managed job `job_id`.
  struct ResolvedLaunch {
    JobObservation observation;  // backend_job_id = "request:<uuid>"
    int64_t job_id = 0;
  };

  SkyPilotBackend(SkyPilotOptions options, std::unique_ptr<ApiClient> api);

  // A "request:<uuid>" observation with no status yet.
  static JobObservation LaunchObservation(const std::string& request_id, const std::string& name);

  // The server's API version, negotiated when unknown or stale.
  absl::StatusOr<int> ApiVersion();
  absl::StatusOr<int> Negotiate();
  // Takes the API version from a /api/health answer obtained at `epoch`.
  absl::StatusOr<int> AdoptHealth(const nlohmann::json& health, uint64_t epoch);

  absl::StatusOr<std::vector<ManagedJobRecord>> ListJobs(
      int api_version, const std::optional<std::vector<int64_t>>& job_ids,
      const std::optional<std::string>& name);
  // Observes launch requests; appends unresolved ones to `out`, returns
  // the resolved ones (their jobs still need a queue lookup).
  absl::StatusOr<std::vector<ResolvedLaunch>> ObserveLaunches(
      const std::vector<std::string>& request_ids, std::vector<JobObservation>& out);
  // The managed job a finished launch request produced: from /api/get,
  // else (cancelled or failed) the newest managed job of `failure->name`,
  // which the request may have created before it ended; nullopt with
  // `failure` set when there is none.
  absl::StatusOr<std::optional<int64_t>> ResolveFinishedLaunch(const std::string& request_id,
                                                               JobObservation* failure);
  // The managed jobs named exactly `name`, oldest first.
  absl::StatusOr<std::vector<ManagedJobRecord>> JobsNamed(const std::string& name);
  absl::StatusOr<int64_t> JobIdForLogs(const std::string& backend_job_id);
  absl::Status CancelLaunch(const std::string& request_id);
  // One /jobs/cancel request for all of `job_ids` (CancelBatcher's sender).
  absl::Status SendCancel(const std::vector<int64_t>& job_ids);

  // ----- code snapshots (skypilot_backend_code.cc) -----
  // Makes sure the server has every code snapshot `spec` names: a
  // snapshot is on the server while a request that named it (its
  // *witness*: the last launch this process sent with it) is still known
  // to the server, whose restarts forget requests and uploaded files
  // alike, or while an active request of anyone names it (a launch still
  // copying it must not see it rewritten). Otherwise it is uploaded: all
  // missing ones in one zip, in chunks (POST /upload).
  absl::StatusOr<std::unique_ptr<StagedCode>> StageCode(const JobSpec& spec);
  // Which of `ids` the server has (see StageCode).
  absl::StatusOr<std::set<std::string>> SnapshotsOnServer(const std::vector<std::string>& ids);
  absl::Status UploadSnapshots(const std::vector<std::string>& ids);
  void RecordWitness(const std::vector<std::string>& ids, const std::string& request_id);

  absl::Status ReserveLaunchSlot();
  void ForgetLaunch(const std::string& request_id);
  void RememberResolved(const std::string& request_id, int64_t job_id);
  std::optional<int64_t> CachedResolution(const std::string& request_id);
  std::string NameOfLaunch(const std::string& request_id, const nlohmann::json& body);
  // Notes a launch of `name` by this process: `settled` when nothing of it
  // can still reach the server, else the server may act on it later.
  void RecordLaunchAttempt(const std::string& name, bool settled);
  // From when (SteadyNow) an empty lookup of `name` can be trusted.
  absl::Time FindConclusiveAtLocked(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const SkyPilotOptions options_;
  const TaskYamlOptions yaml_options_;
  const std::unique_ptr<ApiClient> api_;
  // Launch-settle times are on the steady clock (SteadyNow), not the wall
  // clock: a clock stepped back an hour must not hold Find off for an hour.
  static absl::Time SteadyNow() {
    return absl::UnixEpoch() +
           absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
  }
  const absl::Time started_ = SteadyNow();

  // Serialises Query: one poll in flight. Guards no field.
  absl::Mutex poll_mu_;
  CancelBatcher cancels_;

  absl::Mutex mu_;
  int api_version_ ABSL_GUARDED_BY(mu_) = 0;  // 0: not negotiated
  uint64_t negotiated_epoch_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, InFlightLaunch> in_flight_ ABSL_GUARDED_BY(mu_);
  int reserved_launch_slots_ ABSL_GUARDED_BY(mu_) = 0;
  // Launch request uuid -> managed job id, until the caller stores the id.
  std::map<std::string, int64_t> resolved_ ABSL_GUARDED_BY(mu_);
  // Job name -> from when an empty Find of it is trusted, for names this
  // process sent a launch for (entries that no longer matter are dropped).
  std::map<std::string, absl::Time> launch_attempts_ ABSL_GUARDED_BY(mu_);
  // Code snapshot id -> one lock per snapshot (see StagedCode), and the
  // launch request that last named it (its witness).
  std::map<std::string, std::shared_ptr<absl::Mutex>> snapshot_locks_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> snapshot_witness_ ABSL_GUARDED_BY(mu_);
};

}  // namespace skydeck::backend::skypilot
