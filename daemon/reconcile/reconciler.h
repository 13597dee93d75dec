// File: daemon/reconcile/reconciler.h
//
// Makes one experiment's observed state match its desired state. Level-
// triggered: it is handed only an id, re-reads everything from the store,
// and decides from what is there now — never from the event that caused
// the call — so running it twice, late, or after a crash is always safe.
//
//   desired RUNNING, no live job      -> write a launch intent, then launch
//   desired RUNNING, last job failed  -> relaunch after backoff, or Stalled
//   desired RUNNING, last job succeeded -> SUCCEEDED, nothing more
//   desired RUNNING, last job's outcome unknown (the backend forgot it)
//                                     -> Stalled (JobOutcomeUnknown), no relaunch
//   desired RUNNING, live job of an older spec
//                                     -> left running, Outdated; observed_generation
//                                        stays at the spec the job runs until the
//                                        job ends (the next attempt uses the new one)
//   desired STOPPED / TERMINATED      -> cancel the live job; TERMINATED also
//                                        tears down what the job owned
//   an unresolved launch intent       -> ask the backend for its name first
//
// No threads and no sleeping: the caller (Controller) owns the queue and
// honours requeue_after.
//
// Thread-safety: Reconcile may run concurrently for different ids, never for
// the same id (the queue guarantees it).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/backend/backend.h"
#include "daemon/store/store.h"

namespace skydeck::reconcile {

struct ReconcileResult {
  // > 0: reconcile this id again after this long (a retry is due then).
  absl::Duration requeue_after = absl::ZeroDuration();
};

class Reconciler {
 public:
  using Clock = std::function<int64_t()>;  // unix ms

  // `installation_id` goes into backend job names so that two databases
  // never claim each other's jobs. Pointers are not owned.
  Reconciler(store::Store* store, backend::Backend* backend, std::string installation_id,
             Clock clock);

  // Errors: the backend's (UNAVAILABLE etc.) when an action failed; the
  // caller retries with backoff. A purged experiment is OK (nothing to do).
  absl::StatusOr<ReconcileResult> Reconcile(int64_t experiment_id);

  int64_t launches_ok() const { return launches_ok_.load(); }
  int64_t launches_error() const { return launches_error_.load(); }

  // The deterministic backend name of an attempt, e.g. "skydeck-1a2b3c4d-42-3".
  std::string JobName(int64_t experiment_id, int attempt) const;

 private:
  using Record = store::ExperimentRecord;
  using Job = store::JobRecord;

  absl::Status ResolveIntent(const Record& r, const Job& intent);
  absl::StatusOr<ReconcileResult> ReconcileRunning(const Record& r, const std::optional<Job>& live);
  absl::StatusOr<ReconcileResult> ReconcileStopped(const Record& r, const std::optional<Job>& live);
  absl::Status LaunchNew(const Record& r);
  absl::Status Launch(const Record& r, const Job& intent);
  absl::Status Cancel(const Record& r, const Job& live);
  // Writes observed state and conditions; events only for real transitions.
  // `job_outdated`: `job` is live and runs an older spec than r's: the
  // Outdated condition, and observed_generation is not advanced.
  absl::Status Observe(const Record& r, ObservedState state, const std::optional<Job>& job,
                       int restart_count, int64_t next_retry_ms,
                       const std::string& stalled_reason, const std::string& stalled_message,
                       bool job_outdated = false);
  // Stalled/JobOnOtherBackend: `live` belongs to a backend this daemon does
  // not run, so the experiment is left alone until skydeckd uses that one.
  absl::Status MarkOnOtherBackend(int64_t experiment_id, const Job& live);
  absl::Status MarkDegraded(int64_t experiment_id, const absl::Status& error);

  store::Store* store_;
  backend::Backend* backend_;
  std::string installation_id_;
  Clock clock_;
  std::atomic<int64_t> launches_ok_{0};
  std::atomic<int64_t> launches_error_{0};
};

// The JobSpec a backend runs for a launch intent: everything comes from the
// job row (the snapshot taken when the intent was written).
backend::JobSpec SpecForJob(const store::ExperimentRecord& experiment, const store::JobRecord& job);

}  // namespace skydeck::reconcile
