#include "daemon/reconcile/reconciler.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "daemon/backend/retry_at.h"
#include "daemon/reconcile/job_observation.h"
#include "daemon/reconcile/launch_snapshot.h"
#include "daemon/reconcile/restart_policy.h"

namespace skydeck::reconcile {
namespace {

constexpr char kActor[] = "reconciler";
// Failed jobs of the current run read to decide on restarts; the budget is
// at most 100, so this covers it with room for uncounted losses.
constexpr int kRunHistoryLimit = 1000;

// Only INVALID_ARGUMENT says "this job, as specified, will never run": the
// job fails and the experiment stalls. Everything else (unreachable, busy,
// misconfigured credentials, an old server) is the backend's problem: the
// intent is kept, the experiment marked Degraded, and the call retried with
// backoff, without charging the experiment's restart budget.
bool IsTransient(const absl::Status& s) { return !s.ok() && !absl::IsInvalidArgument(s); }

ObservedState FromLiveJob(JobStatus status) {
  switch (status) {
    case JobStatus::kLaunching: return ObservedState::kLaunching;
    case JobStatus::kPending:
    case JobStatus::kSubmitted:
    case JobStatus::kStarting: return ObservedState::kPending;
    case JobStatus::kCancelling: return ObservedState::kStopping;
    default: return ObservedState::kRunning;  // RUNNING, RECOVERING, UNKNOWN
  }
}

void SetCondition(std::vector<store::Condition>& conditions, const std::string& type,
                  bool status, const std::string& reason, const std::string& message,
                  int64_t now_ms) {
  for (store::Condition& c : conditions) {
    if (c.type != type) continue;
    if (c.status != status) c.last_transition_ms = now_ms;
    c.status = status;
    c.reason = reason;
    c.message = message;
    return;
  }
  conditions.push_back(store::Condition{type, status, reason, message, now_ms});
}

const store::Condition* FindCondition(const std::vector<store::Condition>& conditions,
                                      const std::string& type) {
  for (const auto& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

// The live job runs an older spec than `generation`. Only experiments that
// ever had an outdated job carry the condition.
void MarkOutdated(store::ExperimentRecord& e, const store::JobRecord& job, int64_t generation,
                  int64_t now_ms, std::vector<store::NewEvent>* events) {
  const store::Condition* was = FindCondition(e.conditions, "Outdated");
  bool outdated_before = was != nullptr && was->status;
  std::string message = absl::StrCat(
      "job ", job.id, " (attempt ", job.attempt, ") runs the spec of generation ",
      e.observed_generation, "; stop and start the experiment to apply generation ", generation);
  SetCondition(e.conditions, "Outdated", true, "SpecChangedWhileRunning", message, now_ms);
  if (!outdated_before) {
    events->push_back(store::NewEvent{0, job.id, "Outdated", "SpecChangedWhileRunning",
                                      message, kActor});
  }
}

std::string Describe(const store::JobRecord& job) {
  std::string out = absl::StrCat("job ", job.id, " (attempt ", job.attempt, ") ", Name(job.status));
  if (job.exit_code) absl::StrAppend(&out, " with exit code ", *job.exit_code);
  if (!job.failure_reason.empty()) absl::StrAppend(&out, ": ", job.failure_reason);
  return out;
}

}  // namespace

Reconciler::Reconciler(store::Store* store, backend::Backend* backend,
                       std::string installation_id, Clock clock,
                       workload::SecretSource* secrets,
                       LaunchPlanner::CodeInspector inspect_code)
    : store_(store), backend_(backend), installation_id_(std::move(installation_id)),
      clock_(std::move(clock)), planner_(store, backend, secrets, std::move(inspect_code)) {}

store::Store::RenderIntent Reconciler::RenderWith(backend::JobSpec spec) {
  // Runs under the store's lock: no store call in here.
  return [this, spec = std::move(spec)](const Job& job) mutable -> absl::StatusOr<std::string> {
    LaunchPlanner::StampJob(job, spec);
    return backend_->RenderTask(spec);
  };
}

std::string Reconciler::JobName(int64_t experiment_id, int attempt) const {
  return absl::StrCat("skydeck-", installation_id_, "-", experiment_id, "-", attempt);
}

absl::StatusOr<ReconcileResult> Reconciler::Reconcile(int64_t experiment_id) {
  auto loaded = store_->GetExperiment(experiment_id);
  if (absl::IsNotFound(loaded.status())) return ReconcileResult{};  // purged
  ASSIGN_OR_RETURN(Record r, std::move(loaded));
  ASSIGN_OR_RETURN(std::optional<Job> live, store_->LiveJob(experiment_id));
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
      return ReconcileResult{std::max(*at - absl::Now(), absl::Milliseconds(100))};
    }
    if (!resolved.ok()) {
      if (IsTransient(resolved)) RETURN_IF_ERROR(MarkDegraded(experiment_id, resolved));
      return resolved;
    }
    ASSIGN_OR_RETURN(r, store_->GetExperiment(experiment_id));
    ASSIGN_OR_RETURN(live, store_->LiveJob(experiment_id));
  }
  absl::StatusOr<ReconcileResult> result =
      r.spec.desired_state == DesiredState::kRunning && !r.deleted()
          ? ReconcileRunning(r, live)
          : ReconcileStopped(r, live);
  if (!result.ok() && IsTransient(result.status())) {
    RETURN_IF_ERROR(MarkDegraded(experiment_id, result.status()));
  }
  return result;
}

absl::Status Reconciler::ResolveIntent(const Record& r, const Job& intent) {
  ASSIGN_OR_RETURN(std::vector<backend::JobObservation> found, backend_->Find(intent.backend_name));
  if (!found.empty()) {
    const backend::JobObservation& obs = found.back();
    return store_
        ->UpdateJob(intent.id,
                    [&](Job& job, std::vector<store::NewEvent>* events) {
                      job.backend_job_id = obs.backend_job_id;
                      events->push_back(store::NewEvent{
                          0, 0, "IntentResolved", "FoundOnBackend",
                          absl::StrCat("launch intent ", intent.backend_name,
                                       " found on the backend as ", obs.backend_job_id),
                          kActor});
                      ApplyObservation(obs, clock_(), kActor, job, events);
                      return absl::OkStatus();
                    })
        .status();
  }
  if (r.spec.desired_state == DesiredState::kRunning && !r.deleted()) {
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
  return store_
      ->UpdateJob(intent.id,
                  [&](Job& job, std::vector<store::NewEvent>* events) {
                    job.status = JobStatus::kCancelled;
                    job.ended_ms = clock_();
                    job.failure_reason = "stopped before it reached the backend";
                    events->push_back(store::NewEvent{0, 0, "JobStatusChanged", "CANCELLED",
                                                      absl::StrCat("job ", job.id, ": ",
                                                                   job.failure_reason),
                                                      kActor});
                    return absl::OkStatus();
                  })
      .status();
}

absl::StatusOr<ReconcileResult> Reconciler::ReconcileRunning(const Record& r,
                                                             const std::optional<Job>& live,
                                                             bool after_refusal) {
  if (live) {
    // A job cancelled by an earlier stop is still ending: wait for it; the
    // poller enqueues us when it is gone. A job that runs an older spec is
    // left running (restarting a training job on every flag edit would
    // throw away its progress): Outdated says so until the user restarts.
    RETURN_IF_ERROR(Observe(r, FromLiveJob(live->status), live, r.restart_count, 0, "", "",
                            !RunsCurrentSpec(*live, r.spec)));
    return ReconcileResult{};
  }
  ASSIGN_OR_RETURN(std::vector<Job> jobs, store_->ListJobs(r.id, 0, kRunHistoryLimit));
  std::vector<Job> run;  // newest first, current run only
  for (Job& j : jobs) {
    if (j.id > r.run_after_job_id) run.push_back(std::move(j));
  }
  // A refused launch shows its outcome in the same reconcile (the next one
  // might be a periodic resync away): read the run again, never launch.
  auto launch = [&]() -> absl::StatusOr<ReconcileResult> {
    if (after_refusal) {
      return absl::InternalError(
          absl::StrCat("experiment ", r.id, ": a refused launch would be launched again"));
    }
    ASSIGN_OR_RETURN(LaunchOutcome outcome, LaunchNew(r));
    if (outcome == LaunchOutcome::kRefused) return ReconcileRunning(r, std::nullopt, true);
    return ReconcileResult{};
  };
  if (run.empty()) return launch();
  const Job& last = run.front();
  if (last.status == JobStatus::kSucceeded) {
    RETURN_IF_ERROR(Observe(r, ObservedState::kSucceeded, last, r.restart_count, 0, "", ""));
    return ReconcileResult{};
  }
  int counted = static_cast<int>(std::count_if(
      run.begin(), run.end(), [](const Job& j) { return CountsAgainstBudget(j.status); }));
  int consecutive = 0;
  while (consecutive < static_cast<int>(run.size()) && run[consecutive].status != JobStatus::kSucceeded) {
    ++consecutive;
  }
  // Restarts used: each counted failure buys one, up to the budget.
  int restarts = std::min(counted, r.spec.max_restarts);
  if (last.outcome_unknown) {
    // It may have SUCCEEDED: relaunching could redo finished work or clobber
    // its results. The user knows what the job left behind; SkyDeck does not.
    RETURN_IF_ERROR(Observe(
        r, ObservedState::kFailed, last, restarts, 0, "JobOutcomeUnknown",
        absl::StrCat(Describe(last), "; SkyDeck cannot tell whether it succeeded, so it does not "
                     "relaunch it: check the job's output, then start the experiment again to "
                     "launch a new attempt")));
    return ReconcileResult{};
  }
  if (last.status == JobStatus::kFailed &&
      !CommandNotRunnable(last.command, last.exit_code).empty()) {
    RETURN_IF_ERROR(Observe(
        r, ObservedState::kFailed, last, restarts, 0, "CommandNotFound",
        absl::StrCat(Describe(last), "; ", CommandNotRunnable(last.command, last.exit_code),
                     " (exit ", *last.exit_code, "): retrying cannot help, so it is not "
                     "retried; install it or fix the command, then start the experiment again")));
    return ReconcileResult{};
  }
  if (IsPermanentFailure(last.status)) {
    RETURN_IF_ERROR(Observe(r, ObservedState::kFailed, last, restarts, 0, "LaunchRefused",
                            absl::StrCat(Describe(last), "; fix the experiment and start it again")));
    return ReconcileResult{};
  }
  if (CountsAgainstBudget(last.status) && counted > r.spec.max_restarts) {
    RETURN_IF_ERROR(Observe(
        r, ObservedState::kFailed, last, restarts, 0, "RestartBudgetExhausted",
        absl::StrCat(Describe(last), "; ", counted, " failed attempts used the budget of ",
                     r.spec.max_restarts, " restarts; start it again to retry")));
    return ReconcileResult{};
  }
  int64_t due = last.ended_ms + absl::ToInt64Milliseconds(RestartBackoff(
                                    consecutive, static_cast<uint64_t>(r.id) * 7919 + last.attempt));
  int64_t now = clock_();
  if (now < due) {
    RETURN_IF_ERROR(Observe(r, ObservedState::kFailed, last, restarts, due, "", ""));
    return ReconcileResult{absl::Milliseconds(due - now)};
  }
  return launch();
}

absl::StatusOr<ReconcileResult> Reconciler::ReconcileStopped(const Record& r,
                                                             const std::optional<Job>& live) {
  if (live) {
    if (live->status != JobStatus::kCancelling) RETURN_IF_ERROR(Cancel(r, *live));
    ASSIGN_OR_RETURN(std::optional<Job> now_live, store_->LiveJob(r.id));
    RETURN_IF_ERROR(Observe(r, ObservedState::kStopping, now_live, r.restart_count, 0, "", ""));
    return ReconcileResult{};
  }
  ASSIGN_OR_RETURN(std::vector<Job> last, store_->ListJobs(r.id, 0, 1));
  if (r.spec.desired_state == DesiredState::kTerminated) {
    if (r.observed_state != ObservedState::kTerminated && !last.empty() &&
        !last.front().backend_job_id.empty()) {
      RETURN_IF_ERROR(backend_->Teardown(last.front().backend_job_id));
    }
    RETURN_IF_ERROR(Observe(r, ObservedState::kTerminated, std::nullopt, r.restart_count, 0, "", ""));
    return ReconcileResult{};
  }
  ObservedState state = last.empty() ? ObservedState::kIdle : ObservedState::kStopped;
  RETURN_IF_ERROR(Observe(r, state, std::nullopt, r.restart_count, 0, "", ""));
  return ReconcileResult{};
}

absl::StatusOr<Reconciler::LaunchOutcome> Reconciler::LaunchNew(const Record& r) {
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
    RETURN_IF_ERROR(Observe(r, ObservedState::kFailed,
                            last.empty() ? std::nullopt : std::optional<Job>(last.front()),
                            r.restart_count, 0, BlockedReason(ready),
                            absl::StrCat("cannot launch: ", ready.message())));
    return LaunchOutcome::kBlocked;
  }
  RETURN_IF_ERROR(ready);
  ASSIGN_OR_RETURN(backend::JobSpec shown,
                   planner_.SpecFor(r, *snapshot, LaunchPlanner::Secrets::kRedacted));
  Job intent = *std::move(snapshot);
  intent.experiment_id = r.id;
  intent.backend = backend_->name();
  intent.backend_name = absl::StrCat("skydeck-", installation_id_, "-", r.id, "-{attempt}");
  // The intent is durable before the backend hears of the job: after a
  // crash, ResolveIntent finds it and asks the backend by name.
  ASSIGN_OR_RETURN(Job job,
                   store_->CreateLaunchIntent(intent, kActor, RenderWith(std::move(shown))));
  RETURN_IF_ERROR(Observe(r, ObservedState::kLaunching, job, r.restart_count, 0, "", ""));
  return Launch(r, job);
}

absl::Status Reconciler::RefuseIntent(const Job& intent, absl::string_view reason) {
  return store_
      ->UpdateJob(intent.id,
                  [&](Job& job, std::vector<store::NewEvent>* events) {
                    job.status = JobStatus::kFailedPrechecks;
                    job.ended_ms = clock_();
                    job.failure_reason = absl::StrCat("launch refused: ", reason);
                    events->push_back(store::NewEvent{0, 0, "LaunchFailed", "LaunchRefused",
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
  if (launched.ok()) {
    RETURN_IF_ERROR(
        store_
            ->UpdateJob(intent.id,
                        [&](Job& job, std::vector<store::NewEvent>* events) {
                          // Status stays LAUNCHING until the backend reports
                          // one: a slow launch is still launching.
                          job.backend_job_id = *launched;
                          events->push_back(store::NewEvent{
                              0, 0, "Launched", "Launched",
                              absl::StrCat("attempt ", job.attempt, " launched on ", job.backend,
                                           " as ", *launched),
                              kActor});
                          return absl::OkStatus();
                        })
            .status());
    return LaunchOutcome::kLaunched;
  }
  if (IsTransient(launched.status())) {
    // Keep the intent: the backend may have started the job anyway. The
    // retry resolves it by name before launching again.
    RETURN_IF_ERROR(store_->AppendEvent(store::NewEvent{
        r.id, intent.id, "LaunchFailed", "BackendUnavailable",
        absl::StrCat("launching attempt ", intent.attempt, ": ", launched.status().ToString(),
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
                  [&](Job& job, std::vector<store::NewEvent>* events) {
                    if (!job.live()) return absl::OkStatus();
                    job.status = JobStatus::kCancelling;
                    events->push_back(store::NewEvent{
                        0, 0, "Cancelling", std::string(Name(r.spec.desired_state)),
                        absl::StrCat("cancelling job ", job.id, " because desired state is ",
                                     Name(r.spec.desired_state)),
                        kActor});
                    return absl::OkStatus();
                  })
      .status();
}

absl::Status Reconciler::Observe(const Record& r, ObservedState state,
                                 const std::optional<Job>& job, int restart_count,
                                 int64_t next_retry_ms, const std::string& stalled_reason,
                                 const std::string& stalled_message, bool job_outdated) {
  int64_t now = clock_();
  return store_
      ->UpdateObserved(
          r.id,
          [&](Record& e, std::vector<store::NewEvent>* events) {
            ObservedState before = e.observed_state;
            int64_t generation_before = e.observed_generation;
            const store::Condition* was_stalled = FindCondition(e.conditions, "Stalled");
            bool stalled_before = was_stalled && was_stalled->status;
            e.observed_state = state;
            // observed_generation is the newest spec the experiment's state
            // reflects: a live job of an older spec does not reflect r's, so
            // it stays where it was (below r.generation even for rows written
            // before this rule), and generation != observed_generation keeps
            // showing that the change has not been applied.
            e.observed_generation = job_outdated
                                        ? std::min(e.observed_generation, r.generation - 1)
                                        : r.generation;
            e.restart_count = restart_count;
            if (next_retry_ms != e.next_retry_ms && next_retry_ms != 0) {
              events->push_back(store::NewEvent{
                  0, job ? job->id : 0, "RetryScheduled", "BackoffAfterFailure",
                  absl::StrCat(job ? Describe(*job) : "last job failed", "; retry ",
                               restart_count, "/", e.spec.max_restarts, " at ",
                               absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                                                absl::FromUnixMillis(next_retry_ms),
                                                absl::UTCTimeZone())),
                  kActor});
            }
            e.next_retry_ms = next_retry_ms;
            bool stalled = !stalled_reason.empty();
            bool transitional = state == ObservedState::kLaunching ||
                                state == ObservedState::kPending ||
                                state == ObservedState::kStopping || next_retry_ms != 0;
            SetCondition(e.conditions, "Reconciling", transitional,
                         transitional ? "InProgress" : "Settled",
                         transitional ? "working towards the desired state" : "", now);
            SetCondition(e.conditions, "Running", state == ObservedState::kRunning,
                         state == ObservedState::kRunning ? "JobRunning" : "NoRunningJob",
                         job && state == ObservedState::kRunning
                             ? absl::StrCat("job ", job->id, " is running")
                             : "",
                         now);
            SetCondition(e.conditions, "Stalled", stalled, stalled ? stalled_reason : "NotStalled",
                         stalled_message, now);
            SetCondition(e.conditions, "Degraded", false, "BackendReachable", "", now);
            if (job_outdated && job) {
              MarkOutdated(e, *job, r.generation, now, events);
            } else if (FindCondition(e.conditions, "Outdated") != nullptr) {
              SetCondition(e.conditions, "Outdated", false, "UpToDate", "", now);
            }
            if (stalled && !stalled_before) {
              events->push_back(
                  store::NewEvent{0, job ? job->id : 0, "Stalled", stalled_reason, stalled_message,
                                  kActor});
            }
            if (state != before) {
              events->push_back(store::NewEvent{
                  0, job ? job->id : 0, "ObservedStateChanged", std::string(Name(state)),
                  absl::StrCat(Name(before), " -> ", Name(state)), kActor});
            } else if (e.observed_generation != generation_before && !job_outdated) {
              // Watchers learn that a spec change has been acted on even
              // when it changed nothing else (e.g. new flags while running).
              events->push_back(store::NewEvent{
                  0, 0, "Reconciled", "UpToDate",
                  absl::StrCat("acted on generation ", r.generation), kActor});
            }
            return absl::OkStatus();
          })
      .status();
}

absl::Status Reconciler::MarkOnOtherBackend(int64_t experiment_id, const Job& live) {
  int64_t now = clock_();
  std::string message = absl::StrCat(
      "job ", live.id, " runs on the ", live.backend, " backend and this daemon uses ",
      backend_->name(), ": start skydeckd with --backend ", live.backend,
      " to stop or follow it; until then nothing is launched or cancelled");
  return store_
      ->UpdateObserved(experiment_id,
                       [&](Record& e, std::vector<store::NewEvent>* events) {
                         const store::Condition* c = FindCondition(e.conditions, "Stalled");
                         if (!(c && c->status && c->reason == "JobOnOtherBackend")) {
                           events->push_back(store::NewEvent{0, 0, "Stalled", "JobOnOtherBackend",
                                                             message, kActor});
                         }
                         SetCondition(e.conditions, "Stalled", true, "JobOnOtherBackend", message,
                                      now);
                         return absl::OkStatus();
                       })
      .status();
}

absl::Status Reconciler::MarkDegraded(int64_t experiment_id, const absl::Status& error) {
  int64_t now = clock_();
  return store_
      ->UpdateObserved(experiment_id,
                       [&](Record& e, std::vector<store::NewEvent>* events) {
                         const store::Condition* c = FindCondition(e.conditions, "Degraded");
                         if (!(c && c->status)) {
                           events->push_back(store::NewEvent{
                               0, 0, "Degraded", "BackendUnavailable",
                               absl::StrCat("backend error: ", error.message(),
                                            "; retrying with backoff"),
                               kActor});
                         }
                         SetCondition(e.conditions, "Degraded", true, "BackendUnavailable",
                                      std::string(error.message()), now);
                         return absl::OkStatus();
                       })
      .status();
}

}  // namespace skydeck::reconcile
