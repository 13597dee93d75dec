// Reconciler's launch and cancel steps (reconciler.h): writing the launch
// intent, launching it, refusing it, cancelling a live job.
#include <algorithm>

#include "absl/strings/str_cat.h"

#include "common/model/conditions.h"
#include "common/model/event_types.h"
#include "common/model/job_name.h"
#include "common/status_macros.h"
#include "common/status_text.h"
#include "daemon/backend/never_sent.h"
#include "daemon/reconcile/reconciler.h"

namespace skydeck::reconcile {

store::Store::RenderIntent Reconciler::RenderWith(backend::JobSpec spec) {
  // Runs under the store's lock: no store call in here.
  return [this, spec = std::move(spec)](const Job& job) mutable -> absl::StatusOr<std::string> {
    LaunchPlanner::StampJob(job, spec);
    return backend_->RenderTask(spec);
  };
}

absl::StatusOr<ReconcileResult> Reconciler::LaunchAndShow(const Record& r, bool after_refusal,
                                                          const std::string& degraded_reason,
                                                          const std::string& degraded_message) {
  if (after_refusal) {
    return absl::InternalError(
        absl::StrCat("experiment ", r.id, ": a refused launch would be launched again"));
  }
  ASSIGN_OR_RETURN(LaunchOutcome outcome, LaunchNew(r, degraded_reason, degraded_message));
  if (outcome == LaunchOutcome::kRefused) return ReconcileRunning(r, std::nullopt, true);
  return ReconcileResult{};
}

absl::StatusOr<Reconciler::LaunchOutcome> Reconciler::LaunchNew(
    const Record& r, const std::string& degraded_reason, const std::string& degraded_message) {
  // What can be known before anything is written (a template, a secret, a
  // workdir that is missing; a spec the backend refuses) stalls the
  // experiment at once, without a job: nothing would run.
  absl::StatusOr<Job> snapshot = planner_.Snapshot(r.spec, LaunchPlanner::Code::kInspect);
  absl::Status ready = snapshot.status();
  if (snapshot.ok()) {
    // The job's id and attempt are not known before the intent is written:
    // stand-ins of the same shape.
    Job probe = *snapshot;
    probe.id = 1;
    probe.attempt = 1;
    probe.backend_name = JobName(r.id, 1);
    ready = planner_.CheckReady(r, probe);
  }
  if (IsLaunchBlocked(ready)) {
    ASSIGN_OR_RETURN(std::vector<Job> last, store_->ListJobs(r.id, 0, 1));
    Observation o;
    o.state = ObservedState::kFailed;
    if (!last.empty()) o.job = last.front();
    o.restart_count = r.restart_count;
    o.stalled_reason = BlockedReason(ready);
    o.stalled_message = absl::StrCat("cannot launch: ", ready.message());
    RETURN_IF_ERROR(Observe(r, o));
    return LaunchOutcome::kBlocked;
  }
  RETURN_IF_ERROR(ready);
  ASSIGN_OR_RETURN(backend::JobSpec shown,
                   planner_.SpecFor(r, *snapshot, LaunchPlanner::Secrets::kRedacted));
  Job intent = *std::move(snapshot);
  intent.experiment_id = r.id;
  intent.backend = backend_->name();
  intent.backend_name = model::BackendJobNamePattern(installation_id_, r.id);
  // The intent is durable before the backend hears of the job: after a
  // crash, ResolveIntent finds it and asks the backend by name.
  ASSIGN_OR_RETURN(Job job,
                   store_->CreateLaunchIntent(intent, kActor, RenderWith(std::move(shown))));
  Observation o;
  o.state = ObservedState::kLaunching;
  o.job = job;
  o.restart_count = r.restart_count;
  o.degraded_reason = degraded_reason;
  o.degraded_message = degraded_message;
  RETURN_IF_ERROR(Observe(r, o));
  return Launch(r, job);
}

absl::Status Reconciler::RefuseIntent(const Job& intent, absl::string_view reason) {
  SetKnownUnsent(intent.id, false);
  return store_
      ->UpdateJob(intent.id,
                  [&](Job& job, std::vector<NewEvent>* events) {
                    job.status = JobStatus::kFailedPrechecks;
                    job.ended_ms = clock_();
                    job.failure_reason = absl::StrCat("launch refused: ", reason);
                    events->push_back(NewEvent{0, 0, model::event::kLaunchFailed,
                                               model::condition_reason::kLaunchRefused,
                                               job.failure_reason, kActor});
                    return absl::OkStatus();
                  })
      .status();
}

absl::StatusOr<Reconciler::LaunchOutcome> Reconciler::Launch(const Record& r, const Job& intent) {
  absl::StatusOr<backend::JobSpec> spec =
      planner_.SpecFor(r, intent, LaunchPlanner::Secrets::kValues);
  if (IsLaunchBlocked(spec.status())) {
    // E.g. a secret removed since the intent was written: nothing ran.
    RETURN_IF_ERROR(RefuseIntent(intent, spec.status().message()));
    return LaunchOutcome::kRefused;
  }
  RETURN_IF_ERROR(spec.status());
  absl::StatusOr<std::string> launched = backend_->Launch(*spec);
  (launched.ok() ? launches_ok_ : launches_error_)++;
  SetKnownUnsent(intent.id, backend::WasNeverSent(launched.status()));
  if (launched.ok()) {
    RETURN_IF_ERROR(store_
                        ->UpdateJob(intent.id,
                                    [&](Job& job, std::vector<NewEvent>* events) {
                                      // Status stays LAUNCHING until the backend reports
                                      // one: a slow launch is still launching.
                                      job.backend_job_id = *launched;
                                      events->push_back(NewEvent{
                                          0, 0, model::event::kLaunched, "Launched",
                                          absl::StrCat("attempt ", job.attempt, " launched on ",
                                                       job.backend, " as ", *launched),
                                          kActor});
                                      return absl::OkStatus();
                                    })
                        .status());
    return LaunchOutcome::kLaunched;
  }
  if (IsTransient(launched.status())) {
    // Keep the intent: the backend may have started the job anyway. The
    // retry resolves it by name before launching again.
    RETURN_IF_ERROR(store_->AppendEvent(NewEvent{
        r.id, intent.id, model::event::kLaunchFailed, model::condition_reason::kBackendUnavailable,
        absl::StrCat("launching attempt ", intent.attempt, ": ", StatusText(launched.status()),
                     "; will retry"),
        kActor}));
    return launched.status();
  }
  // The backend refused the job itself: retrying the same spec cannot help.
  RETURN_IF_ERROR(RefuseIntent(intent, launched.status().message()));
  return LaunchOutcome::kRefused;
}

absl::Status Reconciler::Cancel(const Record& r, const Job& live) {
  RETURN_IF_ERROR(backend_->Cancel(live.backend_job_id));
  return store_
      ->UpdateJob(live.id,
                  [&](Job& job, std::vector<NewEvent>* events) {
                    if (!job.live()) return absl::OkStatus();
                    job.status = JobStatus::kCancelling;
                    events->push_back(NewEvent{
                        0, 0, model::event::kCancelling, std::string(Name(r.spec.desired_state)),
                        absl::StrCat("cancelling job ", job.id, " because desired state is ",
                                     Name(r.spec.desired_state)),
                        kActor});
                    return absl::OkStatus();
                  })
      .status();
}

}  // namespace skydeck::reconcile
