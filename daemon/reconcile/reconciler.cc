#include "daemon/reconcile/reconciler.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

#include "common/model/event_types.h"
#include "common/model/job_name.h"
#include "common/status_macros.h"
#include "daemon/backend/call_deadline.h"
#include "daemon/backend/retry_at.h"
#include "daemon/reconcile/failure_decision.h"
#include "daemon/reconcile/job_observation.h"
#include "daemon/reconcile/launch_snapshot.h"

namespace skydeck::reconcile {
namespace {

// Failed jobs of the current run read to decide on restarts; the budget is
// at most 100, so this covers it with room for uncounted losses.
constexpr int kRunHistoryLimit = 1000;

ObservedState FromLiveJob(JobStatus status) {
  switch (status) {
    case JobStatus::kLaunching:
      return ObservedState::kLaunching;
    case JobStatus::kPending:
    case JobStatus::kSubmitted:
    case JobStatus::kStarting:
      return ObservedState::kPending;
    case JobStatus::kCancelling:
      return ObservedState::kStopping;
    default:
      return ObservedState::kRunning;  // RUNNING, RECOVERING, UNKNOWN
  }
}

}  // namespace

Reconciler::Reconciler(store::Store* store, backend::Backend* backend, std::string installation_id,
                       Clock clock, ReconcilerOptions options)
    : store_(store),
      backend_(backend),
      installation_id_(std::move(installation_id)),
      clock_(std::move(clock)),
      options_(std::move(options)),
      planner_(store, backend, options_.secrets, options_.inspect_code, options_.snapshots) {}

// Everything else (unreachable, busy, misconfigured credentials, an old
// server, a deadline) is the backend's problem: the intent is kept, the
// experiment marked Degraded, and the call retried with backoff, without
// charging the experiment's restart budget.
bool Reconciler::IsTransient(const absl::Status& s) {
  return !s.ok() && !absl::IsInvalidArgument(s);
}

backend::FailureClass Reconciler::Classify(const Job& job) const {
  // Only the backend that ran a job can read its failure reason.
  if (job.backend != backend_->name()) return backend::DefaultFailureClass(job.status);
  return backend_->ClassifyFailure(job.status, job.failure_reason);
}

bool Reconciler::KnownUnsent(int64_t job_id) {
  absl::MutexLock lock(&unsent_mu_);
  return unsent_intents_.count(job_id) > 0;
}

void Reconciler::SetKnownUnsent(int64_t job_id, bool unsent) {
  absl::MutexLock lock(&unsent_mu_);
  if (unsent) {
    unsent_intents_.insert(job_id);
  } else {
    unsent_intents_.erase(job_id);
  }
}

std::string Reconciler::JobName(int64_t experiment_id, int attempt) const {
  return model::BackendJobName(installation_id_, experiment_id, attempt);
}

ObservationContext Reconciler::ContextAt(int64_t generation) const {
  return ObservationContext{generation, clock_(), "", kActor};
}

absl::StatusOr<ReconcileResult> Reconciler::Reconcile(int64_t experiment_id) {
  backend::CallDeadlineScope deadline(absl::Now() + options_.backend_call_timeout);
  return ReconcileNow(experiment_id);
}

absl::StatusOr<ReconcileResult> Reconciler::ReconcileNow(int64_t experiment_id) {
  auto loaded = store_->GetExperiment(experiment_id);
  if (absl::IsNotFound(loaded.status())) return ReconcileResult{};  // purged
  ASSIGN_OR_RETURN(Record r, std::move(loaded));
  // The record names its live job (current_job_id, read in the same
  // snapshot): without one there is nothing more to read. Jobs of this
  // experiment are only created by its reconcile, which runs here alone.
  std::optional<Job> live;
  if (r.current_job_id != 0) {
    ASSIGN_OR_RETURN(live, store_->LiveJob(experiment_id));
  }
  if (live && live->backend != backend_->name()) {
    // A job of the other backend (a database that had live jobs on both
    // before its backend was recorded): this backend can neither find,
    // cancel nor poll it, so launching or cancelling here could run the
    // experiment twice or report a stop that never happened.
    RETURN_IF_ERROR(MarkOnOtherBackend(experiment_id, *live));
    return ReconcileResult{};
  }
  if (live && live->status == JobStatus::kLaunching && live->backend_job_id.empty()) {
    // A launch that never recorded its outcome (crash, or a transient error).
    absl::Status resolved = ResolveIntent(r, *live);
    if (std::optional<absl::Time> at = backend::RetryAtOf(resolved)) {
      // The backend cannot tell yet (a launch may still reach it): not a
      // failure, so no backoff and no Degraded; ask again then.
      absl::Time now = absl::FromUnixMillis(clock_());
      return ReconcileResult{std::max(*at - now, absl::Milliseconds(100))};
    }
    if (!resolved.ok()) {
      if (IsTransient(resolved)) RETURN_IF_ERROR(MarkDegraded(experiment_id, resolved));
      return resolved;
    }
    ASSIGN_OR_RETURN(r, store_->GetExperiment(experiment_id));
    ASSIGN_OR_RETURN(live, store_->LiveJob(experiment_id));
  }
  absl::StatusOr<ReconcileResult> result =
      r.spec.desired_state == DesiredState::kRunning && !r.deleted() ? ReconcileRunning(r, live)
                                                                     : ReconcileStopped(r, live);
  if (!result.ok() && IsTransient(result.status())) {
    RETURN_IF_ERROR(MarkDegraded(experiment_id, result.status()));
  }
  return result;
}

absl::Status Reconciler::ResolveIntent(const Record& r, const Job& intent) {
  // An intent this process knows never reached the backend (its launches
  // were refused before anything was sent, e.g. at the bound on launches in
  // flight) needs no lookup: it was not started.
  std::vector<backend::JobObservation> found;
  if (!KnownUnsent(intent.id)) {
    ASSIGN_OR_RETURN(found, backend_->Find(intent.backend_name));
  }
  if (!found.empty()) return AdoptFound(intent, found.back());
  if (r.spec.desired_state == DesiredState::kRunning && !r.deleted()) {
    return LaunchUnseenIntent(r, intent);
  }
  SetKnownUnsent(intent.id, false);
  return store_
      ->UpdateJob(intent.id,
                  [&](Job& job, std::vector<NewEvent>* events) {
                    job.status = JobStatus::kCancelled;
                    job.ended_ms = clock_();
                    job.failure_reason = "stopped before it reached the backend";
                    events->push_back(NewEvent{
                        0, 0, model::event::kJobStatusChanged, std::string(Name(job.status)),
                        absl::StrCat("job ", job.id, ": ", job.failure_reason), kActor});
                    return absl::OkStatus();
                  })
      .status();
}

absl::Status Reconciler::AdoptFound(const Job& intent, const backend::JobObservation& obs) {
  return store_
      ->UpdateJob(intent.id,
                  [&](Job& job, std::vector<NewEvent>* events) {
                    job.backend_job_id = obs.backend_job_id;
                    events->push_back(
                        NewEvent{0, 0, model::event::kIntentResolved, "FoundOnBackend",
                                 absl::StrCat("launch intent ", intent.backend_name,
                                              " found on the backend as ", obs.backend_job_id),
                                 kActor});
                    ApplyObservation(obs, clock_(), kActor, job, events);
                    return absl::OkStatus();
                  })
      .status();
}

absl::Status Reconciler::LaunchUnseenIntent(const Record& r, const Job& intent) {
  // The backend has never seen this name: launching it now cannot
  // duplicate anything. Nothing ran the intent's snapshot either, so it
  // runs what the experiment says now (the user may have edited it since
  // the intent was written), not a spec that would be Outdated at once.
  // (The caller reads the outcome back from the store.)
  if (RunsCurrentSpec(intent, r.spec)) return Launch(r, intent).status();
  absl::StatusOr<Job> snapshot = planner_.Snapshot(r.spec, LaunchPlanner::Code::kInspect);
  absl::StatusOr<backend::JobSpec> shown =
      snapshot.ok() ? planner_.SpecFor(r, *snapshot, LaunchPlanner::Secrets::kRedacted)
                    : snapshot.status();
  if (IsLaunchBlocked(shown.status())) return RefuseIntent(intent, shown.status().message());
  RETURN_IF_ERROR(shown.status());
  ASSIGN_OR_RETURN(Job current, store_->ReplaceIntentSnapshot(intent.id, *snapshot, kActor,
                                                              RenderWith(*std::move(shown))));
  return Launch(r, current).status();
}

absl::StatusOr<ReconcileResult> Reconciler::ReconcileRunning(const Record& r,
                                                             const std::optional<Job>& live,
                                                             bool after_refusal) {
  if (live) {
    // A job cancelled by an earlier stop is still ending: wait for it; the
    // poller enqueues us when it is gone. A job that runs an older spec is
    // left running (restarting a training job on every flag edit would
    // throw away its progress): Outdated says so until the user restarts.
    // Until an attempt runs, a Degraded from the failure it retries stays:
    // the cause has not been shown fixed (a real SkyPilot job without cloud
    // access went PENDING, STARTING, then FAILED_PRECHECKS).
    Observation o;
    o.state = FromLiveJob(live->status);
    o.job = live;
    o.restart_count = r.restart_count;
    o.job_outdated = !RunsCurrentSpec(*live, r.spec);
    o.keep_degraded = o.state == ObservedState::kLaunching || o.state == ObservedState::kPending;
    RETURN_IF_ERROR(Observe(r, o));
    return ReconcileResult{};
  }
  ASSIGN_OR_RETURN(std::vector<Job> jobs, store_->ListJobs(r.id, 0, kRunHistoryLimit));
  std::vector<Job> run;  // newest first, current run only
  for (Job& j : jobs) {
    if (j.id > r.run_after_job_id) run.push_back(std::move(j));
  }
  if (run.empty()) return LaunchAndShow(r, after_refusal);
  if (run.front().status == JobStatus::kSucceeded) {
    Observation o;
    o.state = ObservedState::kSucceeded;
    o.job = run.front();
    o.restart_count = r.restart_count;
    RETURN_IF_ERROR(Observe(r, o));
    return ReconcileResult{};
  }
  return ReconcileFailure(r, std::move(run), after_refusal);
}

absl::StatusOr<ReconcileResult> Reconciler::ReconcileFailure(const Record& r, std::vector<Job> run,
                                                             bool after_refusal) {
  FailedRun failed{&r, std::move(run), {}};
  failed.kinds.reserve(failed.jobs.size());
  for (const Job& j : failed.jobs) failed.kinds.push_back(Classify(j));
  FailureDecision decision = DecideAfterFailure(failed, clock_(), options_.environment_retry_limit);
  if (decision.action == FailureDecision::Action::kRelaunch) {
    return LaunchAndShow(r, after_refusal, decision.observation.degraded_reason,
                         decision.observation.degraded_message);
  }
  RETURN_IF_ERROR(Observe(r, decision.observation));
  return ReconcileResult{decision.requeue_after};
}

absl::StatusOr<ReconcileResult> Reconciler::ReconcileStopped(const Record& r,
                                                             const std::optional<Job>& live) {
  Observation o;
  o.restart_count = r.restart_count;
  if (live) {
    if (live->status != JobStatus::kCancelling) RETURN_IF_ERROR(Cancel(r, *live));
    ASSIGN_OR_RETURN(o.job, store_->LiveJob(r.id));
    o.state = ObservedState::kStopping;
  } else {
    // The record counts its jobs: with none, none to read.
    std::vector<Job> last;
    if (r.job_count > 0) {
      ASSIGN_OR_RETURN(last, store_->ListJobs(r.id, 0, 1));
    }
    if (r.spec.desired_state == DesiredState::kTerminated) {
      if (r.observed_state != ObservedState::kTerminated && !last.empty() &&
          !last.front().backend_job_id.empty()) {
        RETURN_IF_ERROR(backend_->Teardown(last.front().backend_job_id));
      }
      o.state = ObservedState::kTerminated;
    } else {
      o.state = last.empty() ? ObservedState::kIdle : ObservedState::kStopped;
    }
  }
  RETURN_IF_ERROR(Observe(r, o));
  return ReconcileResult{};
}

absl::Status Reconciler::Observe(const Record& r, const Observation& o) {
  ObservationContext ctx = ContextAt(r.generation);
  // A live job the poller cannot observe: its status is as of the last
  // good poll, and the experiment says so until a poll succeeds.
  if (o.job && o.job->live() && !o.job->backend_job_id.empty() &&
      o.job->backend == backend_->name() && options_.poll_failure) {
    if (std::optional<PollFailure> failure = options_.poll_failure()) {
      ctx.poll_failing = PollFailingMessage(*o.job, *failure);
    }
  }
  return store_
      ->UpdateObserved(r.id,
                       [&](Record& e, std::vector<NewEvent>* events) {
                         RecordObservation(o, ctx, e, events);
                         return absl::OkStatus();
                       })
      .status();
}

absl::Status Reconciler::MarkOnOtherBackend(int64_t experiment_id, const Job& live) {
  ObservationContext ctx = ContextAt(0);
  std::string message =
      absl::StrCat("job ", live.id, " runs on the ", live.backend, " backend and this daemon uses ",
                   backend_->name(), ": start skydeckd with --backend ", live.backend,
                   " to stop or follow it; until then nothing is launched or cancelled");
  return store_
      ->UpdateObserved(experiment_id,
                       [&](Record& e, std::vector<NewEvent>* events) {
                         RecordOnOtherBackend(message, ctx, e, events);
                         return absl::OkStatus();
                       })
      .status();
}

absl::Status Reconciler::MarkDegraded(int64_t experiment_id, const absl::Status& error) {
  ObservationContext ctx = ContextAt(0);
  return store_
      ->UpdateObserved(experiment_id,
                       [&](Record& e, std::vector<NewEvent>* events) {
                         RecordBackendError(error.message(), ctx, e, events);
                         return absl::OkStatus();
                       })
      .status();
}

}  // namespace skydeck::reconcile
