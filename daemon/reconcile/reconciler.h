// File: daemon/reconcile/reconciler.h
//
// Makes one experiment's observed state match its desired state. Level-
// triggered: it is handed only an id, re-reads everything from the store,
// and decides from what is there now — never from the event that caused
// the call — so running it twice, late, or after a crash is always safe.
//
//   desired RUNNING, no live job      -> write a launch intent, then launch
//   ... but the launch cannot start   -> Stalled at once (a missing template,
//       (launch_planner.h)               secret, workdir or env value; a spec
//                                        the backend refuses), no job written;
//                                        tried again on every reconcile
//   a launch the backend refuses      -> the job ends FAILED_PRECHECKS and the
//                                        experiment is Stalled in the same call
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
#include "daemon/reconcile/launch_planner.h"
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
  // never claim each other's jobs. Pointers are not owned; `secrets` may
  // be null (experiments listing secrets then stall); `inspect_code`
  // defaults to InspectCode; `snapshots` null: code snapshots are not
  // checked before launch.
  Reconciler(store::Store* store, backend::Backend* backend, std::string installation_id,
             Clock clock, workload::SecretSource* secrets = nullptr,
             LaunchPlanner::CodeInspector inspect_code = nullptr,
             LaunchPlanner::SnapshotLookup snapshots = nullptr);

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

  // What a launch attempt came to.
  enum class LaunchOutcome {
    kLaunched,  // the backend has it (or may have it: the intent is kept)
    kRefused,   // the intent ended FAILED_PRECHECKS: nothing ran
    kBlocked,   // nothing was written: the experiment is Stalled
  };

  absl::Status ResolveIntent(const Record& r, const Job& intent);
  // `after_refusal`: called again right after a launch was refused, so
  // that the experiment shows why at once; it never launches again then.
  absl::StatusOr<ReconcileResult> ReconcileRunning(const Record& r, const std::optional<Job>& live,
                                                   bool after_refusal = false);
  absl::StatusOr<ReconcileResult> ReconcileStopped(const Record& r, const std::optional<Job>& live);
  absl::StatusOr<LaunchOutcome> LaunchNew(const Record& r);
  absl::StatusOr<LaunchOutcome> Launch(const Record& r, const Job& intent);
  // Ends an intent nothing ran as FAILED_PRECHECKS with `reason`.
  absl::Status RefuseIntent(const Job& intent, absl::string_view reason);
  // Renders an intent's task as recorded: `spec` (secrets redacted, read
  // before the store's transaction) with the intent's name and ids.
  store::Store::RenderIntent RenderWith(backend::JobSpec spec);
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
  LaunchPlanner planner_;
  std::atomic<int64_t> launches_ok_{0};
  std::atomic<int64_t> launches_error_{0};
};


}  // namespace skydeck::reconcile
