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
//   desired RUNNING, last job failed  -> by the failure's kind (restart_policy.h):
//                                        relaunch after backoff, or Stalled
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
// honours requeue_after. Every backend call of one Reconcile shares one
// deadline (ReconcilerOptions::backend_call_timeout).
//
// Its parts: experiment_observation.h (what is written into the record),
// failure_decision.h (after a failed job), launch_planner.h (whether and
// what to launch); reconciler_launch.cc holds the launch and cancel steps.
//
// Thread-safety: Reconcile may run concurrently for different ids, never for
// the same id (the queue guarantees it).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#include "daemon/backend/backend.h"
#include "daemon/reconcile/experiment_observation.h"
#include "daemon/reconcile/launch_planner.h"
#include "daemon/store/store.h"

namespace skydeck::reconcile {

struct ReconcilerOptions {
  // How long failures only a person can fix outside SkyDeck (cloud access,
  // credentials: backend::FailureKind::kEnvironment) are retried, counted
  // from the first of a streak, before the experiment is Stalled.
  absl::Duration environment_retry_limit = absl::Minutes(30);
  // The poller's current failure, if any (Poller::Failure). Experiments
  // whose live jobs polls cannot observe are Degraded (reason PollFailing)
  // until a poll succeeds. Null: polls are assumed to work.
  std::function<std::optional<PollFailure>()> poll_failure;
  // Where secret values come from (not owned). Null: nowhere, so
  // experiments that list secrets stall.
  workload::SecretSource* secrets = nullptr;
  // The git version of a local workdir (null: InspectCode).
  LaunchPlanner::CodeInspector inspect_code;
  // Whether a code snapshot is stored (null: snapshots are not checked
  // before launch).
  LaunchPlanner::SnapshotLookup snapshots;
  // How long one Reconcile may wait on the backend in all (on the real
  // clock; backend/call_deadline.h): a backend that hangs makes the
  // reconcile fail DEADLINE_EXCEEDED then, and it is retried with backoff,
  // rather than holding a worker. Infinite: each backend call is bounded
  // only by the backend's own timeouts.
  absl::Duration backend_call_timeout = absl::InfiniteDuration();
};

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
             Clock clock, ReconcilerOptions options = {});

  // Errors: the backend's (UNAVAILABLE etc.) when an action failed; the
  // caller retries with backoff. A purged experiment is OK (nothing to do).
  absl::StatusOr<ReconcileResult> Reconcile(int64_t experiment_id);

  int64_t launches_ok() const { return launches_ok_.load(); }
  int64_t launches_error() const { return launches_error_.load(); }

  // The deterministic backend name of an attempt, e.g. "skydeck-1a2b3c4d-42-3".
  std::string JobName(int64_t experiment_id, int attempt) const;

 private:
  using Record = ExperimentRecord;
  using Job = JobRecord;

  // What a launch attempt came to.
  enum class LaunchOutcome {
    kLaunched,  // the backend has it (or may have it: the intent is kept)
    kRefused,   // the intent ended FAILED_PRECHECKS: nothing ran
    kBlocked,   // nothing was written: the experiment is Stalled
  };

  // An intent whose launch never recorded its outcome (a crash, a
  // transient error): adopts the job the backend has under its name, else
  // launches it (desired RUNNING) or cancels it.
  absl::Status ResolveIntent(const Record& r, const Job& intent);
  absl::Status AdoptFound(const Job& intent, const backend::JobObservation& obs);
  // REQUIRES: the backend has never seen intent's name.
  absl::Status LaunchUnseenIntent(const Record& r, const Job& intent);
  // `after_refusal`: called again right after a launch was refused, so
  // that the experiment shows why at once; it never launches again then.
  absl::StatusOr<ReconcileResult> ReconcileRunning(const Record& r, const std::optional<Job>& live,
                                                   bool after_refusal = false);
  absl::StatusOr<ReconcileResult> ReconcileStopped(const Record& r, const std::optional<Job>& live);
  // The last job of the run failed (`run` newest first, run[0] the last).
  absl::StatusOr<ReconcileResult> ReconcileFailure(const Record& r, std::vector<Job> run,
                                                   bool after_refusal);
  // Launches a new attempt; a refused launch is shown in the same call (the
  // next reconcile may be a periodic resync away) by reconciling again.
  // `degraded_reason` non-empty: the experiment is Degraded so while this
  // attempt launches (it retries a failure of the environment).
  absl::StatusOr<ReconcileResult> LaunchAndShow(const Record& r, bool after_refusal,
                                                const std::string& degraded_reason = "",
                                                const std::string& degraded_message = "");
  absl::StatusOr<LaunchOutcome> LaunchNew(const Record& r, const std::string& degraded_reason,
                                          const std::string& degraded_message);
  // REQUIRES: the backend has never seen intent's name (a fresh intent or a
  // conclusive lookup). A launch that never left keeps that true.
  absl::StatusOr<LaunchOutcome> Launch(const Record& r, const Job& intent);
  // Ends an intent nothing ran as FAILED_PRECHECKS with `reason`.
  absl::Status RefuseIntent(const Job& intent, absl::string_view reason);
  // Renders an intent's task as recorded: `spec` (secrets redacted, read
  // before the store's transaction) with the intent's name and ids.
  store::Store::RenderIntent RenderWith(backend::JobSpec spec);
  absl::Status Cancel(const Record& r, const Job& live);
  backend::FailureClass Classify(const Job& job) const;

  // Records `o` (experiment_observation.h) on r's experiment.
  absl::Status Observe(const Record& r, const Observation& o);
  // Stalled/JobOnOtherBackend: `live` belongs to a backend this daemon does
  // not run, so the experiment is left alone until skydeckd uses that one.
  absl::Status MarkOnOtherBackend(int64_t experiment_id, const Job& live);
  absl::Status MarkDegraded(int64_t experiment_id, const absl::Status& error);

  // Launch intents (job ids) whose name this process knows was never sent
  // to the backend: a conclusive lookup or a fresh intent, then only
  // launches that never left (backend/never_sent.h). Their retries launch
  // without looking the name up again.
  bool KnownUnsent(int64_t job_id) ABSL_LOCKS_EXCLUDED(unsent_mu_);
  void SetKnownUnsent(int64_t job_id, bool unsent) ABSL_LOCKS_EXCLUDED(unsent_mu_);
  // Where and when an observation of spec `generation` is recorded now.
  ObservationContext ContextAt(int64_t generation) const;
  // Reconcile without the call deadline (Reconcile sets it).
  absl::StatusOr<ReconcileResult> ReconcileNow(int64_t experiment_id);
  // Only INVALID_ARGUMENT says "this job, as specified, will never run".
  static bool IsTransient(const absl::Status& s);

  static constexpr char kActor[] = "reconciler";

  store::Store* store_;
  backend::Backend* backend_;
  std::string installation_id_;
  Clock clock_;
  ReconcilerOptions options_;
  LaunchPlanner planner_;  // after options_: built from it
  absl::Mutex unsent_mu_;
  std::set<int64_t> unsent_intents_ ABSL_GUARDED_BY(unsent_mu_);
  std::atomic<int64_t> launches_ok_{0};
  std::atomic<int64_t> launches_error_{0};
};

}  // namespace skydeck::reconcile
