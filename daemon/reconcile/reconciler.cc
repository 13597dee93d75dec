#include "daemon/reconcile/reconciler.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/status_text.h"
#include "common/time_util.h"
#include "daemon/backend/never_sent.h"
#include "daemon/backend/retry_at.h"
#include "daemon/reconcile/job_observation.h"
#include "daemon/reconcile/launch_snapshot.h"
#include "daemon/reconcile/restart_policy.h"

namespace skydeck::reconcile {
namespace {

constexpr char kActor[] = "reconciler";
// Degraded reasons the reconciler itself writes (environment failures use
// the backend's reason, e.g. "NoCloudAccess").
constexpr char kPollFailing[] = "PollFailing";
constexpr char kBackendUnavailable[] = "BackendUnavailable";

// "14:03:07 UTC": times in condition and event messages.
std::string ClockTime(int64_t unix_ms) {
  return absl::StrCat(absl::FormatTime("%H:%M:%S", absl::FromUnixMillis(unix_ms),
                                       absl::UTCTimeZone()),
                      " UTC");
}
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
                       std::string installation_id, Clock clock, ReconcilerOptions options)
    : store_(store), backend_(backend), installation_id_(std::move(installation_id)),
      clock_(std::move(clock)), options_(std::move(options)),
      planner_(store, backend, options_.secrets, options_.inspect_code, options_.snapshots) {}

store::Store::RenderIntent Reconciler::RenderWith(backend::JobSpec spec) {
  // Runs under the store's lock: no store call in here.
  return [this, spec = std::move(spec)](const Job& job) mutable -> absl::StatusOr<std::string> {
    LaunchPlanner::StampJob(job, spec);
    return backend_->RenderTask(spec);
  };
}

backend::FailureClass Reconciler::Classify(const Job& job) const {
  // Only the backend that ran a job can read its failure reason.
  if (job.backend != backend_->name()) return backend::DefaultFailureClass(job.status);
  return backend_->ClassifyFailure(job.status, job.failure_reason);
}

bool Reconciler::KnownUnsent(int64_t job_id) {
  std::lock_guard<std::mutex> lock(unsent_mu_);
  return unsent_intents_.count(job_id) > 0;
}

void Reconciler::SetKnownUnsent(int64_t job_id, bool unsent) {
  std::lock_guard<std::mutex> lock(unsent_mu_);
  if (unsent) {
    unsent_intents_.insert(job_id);
  } else {
    unsent_intents_.erase(job_id);
  }
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
  // An intent this process knows never reached the backend (its launches
  // were refused before anything was sent, e.g. at the bound on launches in
  // flight) needs no lookup: it was not started.
  std::vector<backend::JobObservation> found;
  if (!KnownUnsent(intent.id)) {
    ASSIGN_OR_RETURN(found, backend_->Find(intent.backend_name));
  }
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
  SetKnownUnsent(intent.id, false);
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
  const Job& last = run.front();
  if (last.status == JobStatus::kSucceeded) {
    Observation o;
    o.state = ObservedState::kSucceeded;
    o.job = last;
    o.restart_count = r.restart_count;
    RETURN_IF_ERROR(Observe(r, o));
    return ReconcileResult{};
  }
  return ReconcileFailure(r, run, after_refusal);
}

absl::StatusOr<ReconcileResult> Reconciler::ReconcileFailure(const Record& r,
                                                             const std::vector<Job>& run,
                                                             bool after_refusal) {
  const Job& last = run.front();
  std::vector<backend::FailureClass> kinds;
  kinds.reserve(run.size());
  for (const Job& j : run) kinds.push_back(Classify(j));
  int counted = static_cast<int>(std::count_if(kinds.begin(), kinds.end(), [](const auto& c) {
    return CountsAgainstBudget(c.kind);
  }));
  int consecutive = 0;
  while (consecutive < static_cast<int>(run.size()) &&
         run[consecutive].status != JobStatus::kSucceeded) {
    ++consecutive;
  }
  // Restarts used: each counted failure buys one, up to the budget.
  int restarts = std::min(counted, r.spec.max_restarts);
  const backend::FailureClass& failure = kinds.front();
  Observation o;
  o.state = ObservedState::kFailed;
  o.job = last;
  o.restart_count = restarts;
  if (last.outcome_unknown) {
    // It may have SUCCEEDED: relaunching could redo finished work or clobber
    // its results. The user knows what the job left behind; SkyDeck does not.
    o.stalled_reason = "JobOutcomeUnknown";
    o.stalled_message = absl::StrCat(
        Describe(last), "; SkyDeck cannot tell whether it succeeded, so it does not relaunch it: "
        "check the job's output, then start the experiment again to launch a new attempt");
    RETURN_IF_ERROR(Observe(r, o));
    return ReconcileResult{};
  }
  if (last.status == JobStatus::kFailed &&
      !CommandNotRunnable(last.command, last.exit_code).empty()) {
    o.stalled_reason = "CommandNotFound";
    o.stalled_message = absl::StrCat(
        Describe(last), "; ", CommandNotRunnable(last.command, last.exit_code), " (exit ",
        *last.exit_code, "): retrying cannot help, so it is not retried; install it or fix the "
        "command, then start the experiment again");
    RETURN_IF_ERROR(Observe(r, o));
    return ReconcileResult{};
  }
  if (failure.kind == backend::FailureKind::kInvalidSpec) {
    o.stalled_reason = failure.reason.empty() ? "LaunchRefused" : failure.reason;
    o.stalled_message = absl::StrCat(Describe(last), "; fix the experiment and start it again");
    RETURN_IF_ERROR(Observe(r, o));
    return ReconcileResult{};
  }
  if (CountsAgainstBudget(failure.kind) && counted > r.spec.max_restarts) {
    o.stalled_reason = "RestartBudgetExhausted";
    o.stalled_message =
        absl::StrCat(Describe(last), "; ", counted, " failed attempts used the budget of ",
                     r.spec.max_restarts, " restarts; start it again to retry");
    RETURN_IF_ERROR(Observe(r, o));
    return ReconcileResult{};
  }
  int64_t now = clock_();
  int64_t due = last.ended_ms + absl::ToInt64Milliseconds(RestartBackoff(
                                    consecutive, static_cast<uint64_t>(r.id) * 7919 + last.attempt));
  o.retry_counted = CountsAgainstBudget(failure.kind);
  if (failure.kind == backend::FailureKind::kEnvironment) {
    // Only a person can fix it (e.g. `sky check` where SkyPilot runs): keep
    // trying for a while, visibly, then say so and stop.
    int64_t since = last.ended_ms;
    for (size_t i = 0; i < run.size() && kinds[i].kind == backend::FailureKind::kEnvironment;
         ++i) {
      since = std::min(since, run[i].ended_ms);
    }
    int64_t give_up = since + absl::ToInt64Milliseconds(options_.environment_retry_limit);
    std::string reason = failure.reason.empty() ? "EnvironmentNotReady" : failure.reason;
    std::string what = absl::StrCat(Describe(last), failure.hint.empty() ? "" : "; ", failure.hint);
    if (now >= give_up) {
      o.stalled_reason = reason;
      o.stalled_message = absl::StrCat(what, "; retried since ", ClockTime(since),
                                       " without success: start the experiment again once fixed");
      RETURN_IF_ERROR(Observe(r, o));
      return ReconcileResult{};
    }
    due = std::min(due, give_up);
    o.degraded_reason = reason;
    o.degraded_message = absl::StrCat(what, "; not counted against the restart budget; retrying "
                                      "until ", ClockTime(give_up));
    if (now >= due) {
      // Said while the retry launches (it may be due at once: SkyPilot's
      // end time can be older than the poll that brought it).
      return LaunchAndShow(r, after_refusal, o.degraded_reason, o.degraded_message);
    }
  }
  if (now < due) {
    o.next_retry_ms = due;
    RETURN_IF_ERROR(Observe(r, o));
    return ReconcileResult{absl::Milliseconds(due - now)};
  }
  return LaunchAndShow(r, after_refusal);
}

absl::StatusOr<ReconcileResult> Reconciler::ReconcileStopped(const Record& r,
                                                             const std::optional<Job>& live) {
  if (live) {
    if (live->status != JobStatus::kCancelling) RETURN_IF_ERROR(Cancel(r, *live));
    ASSIGN_OR_RETURN(std::optional<Job> now_live, store_->LiveJob(r.id));
    Observation o;
    o.state = ObservedState::kStopping;
    o.job = now_live;
    o.restart_count = r.restart_count;
    RETURN_IF_ERROR(Observe(r, o));
    return ReconcileResult{};
  }
  ASSIGN_OR_RETURN(std::vector<Job> last, store_->ListJobs(r.id, 0, 1));
  if (r.spec.desired_state == DesiredState::kTerminated) {
    if (r.observed_state != ObservedState::kTerminated && !last.empty() &&
        !last.front().backend_job_id.empty()) {
      RETURN_IF_ERROR(backend_->Teardown(last.front().backend_job_id));
    }
    Observation o;
    o.state = ObservedState::kTerminated;
    o.restart_count = r.restart_count;
    RETURN_IF_ERROR(Observe(r, o));
    return ReconcileResult{};
  }
  Observation o;
  o.state = last.empty() ? ObservedState::kIdle : ObservedState::kStopped;
  o.restart_count = r.restart_count;
  RETURN_IF_ERROR(Observe(r, o));
  return ReconcileResult{};
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
  intent.backend_name = absl::StrCat("skydeck-", installation_id_, "-", r.id, "-{attempt}");
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
  SetKnownUnsent(intent.id, backend::WasNeverSent(launched.status()));
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

absl::Status Reconciler::Observe(const Record& r, const Observation& o) {
  int64_t now = clock_();
  // A live job the poller cannot observe: its status is as of the last
  // good poll, and the experiment says so until a poll succeeds.
  std::string poll_failing;
  if (o.job && o.job->live() && !o.job->backend_job_id.empty() &&
      o.job->backend == backend_->name() && options_.poll_failure) {
    if (std::optional<PollFailure> failure = options_.poll_failure()) {
      poll_failing = absl::StrCat(
          "cannot observe job ", o.job->id, " (attempt ", o.job->attempt, "), shown as ",
          Name(o.job->status), ": ", failure->error, "; polls failing since ",
          ClockTime(failure->since_ms), ", ",
          failure->last_success_ms != 0
              ? absl::StrCat("last successful poll ", ClockTime(failure->last_success_ms))
              : std::string("no successful poll yet"));
    }
  }
  return store_
      ->UpdateObserved(
          r.id,
          [&](Record& e, std::vector<store::NewEvent>* events) {
            ObservedState before = e.observed_state;
            int64_t generation_before = e.observed_generation;
            const store::Condition* was_stalled = FindCondition(e.conditions, "Stalled");
            bool stalled_before = was_stalled && was_stalled->status;
            const store::Condition* was_degraded = FindCondition(e.conditions, "Degraded");
            bool degraded_before = was_degraded && was_degraded->status;
            std::string degraded_reason_before = degraded_before ? was_degraded->reason : "";
            e.observed_state = o.state;
            // observed_generation is the newest spec the experiment's state
            // reflects: a live job of an older spec does not reflect r's, so
            // it stays where it was (below r.generation even for rows written
            // before this rule), and generation != observed_generation keeps
            // showing that the change has not been applied.
            e.observed_generation = o.job_outdated
                                        ? std::min(e.observed_generation, r.generation - 1)
                                        : r.generation;
            e.restart_count = o.restart_count;
            if (o.next_retry_ms != e.next_retry_ms && o.next_retry_ms != 0) {
              std::string at = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                                                absl::FromUnixMillis(o.next_retry_ms),
                                                absl::UTCTimeZone());
              events->push_back(store::NewEvent{
                  0, o.job ? o.job->id : 0, "RetryScheduled", "BackoffAfterFailure",
                  absl::StrCat(o.job ? Describe(*o.job) : "last job failed", "; ",
                               o.retry_counted
                                   ? absl::StrCat("retry ", o.restart_count, "/",
                                                  e.spec.max_restarts, " at ", at)
                                   : absl::StrCat("not counted against the restart budget; "
                                                  "next attempt at ", at)),
                  kActor});
            }
            e.next_retry_ms = o.next_retry_ms;
            bool stalled = !o.stalled_reason.empty();
            bool transitional = o.state == ObservedState::kLaunching ||
                                o.state == ObservedState::kPending ||
                                o.state == ObservedState::kStopping || o.next_retry_ms != 0;
            SetCondition(e.conditions, "Reconciling", transitional,
                         transitional ? "InProgress" : "Settled",
                         transitional ? "working towards the desired state" : "", now);
            SetCondition(e.conditions, "Running", o.state == ObservedState::kRunning,
                         o.state == ObservedState::kRunning ? "JobRunning" : "NoRunningJob",
                         o.job && o.state == ObservedState::kRunning
                             ? absl::StrCat("job ", o.job->id, " is running")
                             : "",
                         now);
            SetCondition(e.conditions, "Stalled", stalled,
                         stalled ? o.stalled_reason : "NotStalled", o.stalled_message, now);
            if (!poll_failing.empty()) {
              SetCondition(e.conditions, "Degraded", true, kPollFailing, poll_failing, now);
            } else if (!o.degraded_reason.empty()) {
              SetCondition(e.conditions, "Degraded", true, o.degraded_reason, o.degraded_message,
                           now);
            } else if (!(o.keep_degraded && degraded_before &&
                         degraded_reason_before != kPollFailing &&
                         degraded_reason_before != kBackendUnavailable)) {
              // Kept: a failure of the environment being retried. Cleared:
              // what this reconcile has just shown to work again.
              SetCondition(e.conditions, "Degraded", false, "BackendReachable", "", now);
            }
            const store::Condition* degraded = FindCondition(e.conditions, "Degraded");
            if (degraded && degraded->status &&
                (!degraded_before || degraded->reason != degraded_reason_before)) {
              events->push_back(store::NewEvent{0, o.job ? o.job->id : 0, "Degraded",
                                                degraded->reason, degraded->message, kActor});
            }
            if (o.job_outdated && o.job) {
              MarkOutdated(e, *o.job, r.generation, now, events);
            } else if (FindCondition(e.conditions, "Outdated") != nullptr) {
              SetCondition(e.conditions, "Outdated", false, "UpToDate", "", now);
            }
            if (stalled && !stalled_before) {
              events->push_back(store::NewEvent{0, o.job ? o.job->id : 0, "Stalled",
                                                o.stalled_reason, o.stalled_message, kActor});
            }
            if (o.state != before) {
              events->push_back(store::NewEvent{
                  0, o.job ? o.job->id : 0, "ObservedStateChanged", std::string(Name(o.state)),
                  absl::StrCat(Name(before), " -> ", Name(o.state)), kActor});
            } else if (e.observed_generation != generation_before && !o.job_outdated) {
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
                               0, 0, "Degraded", kBackendUnavailable,
                               absl::StrCat("backend error: ", error.message(),
                                            "; retrying with backoff"),
                               kActor});
                         }
                         SetCondition(e.conditions, "Degraded", true, kBackendUnavailable,
                                      std::string(error.message()), now);
                         return absl::OkStatus();
                       })
      .status();
}

}  // namespace skydeck::reconcile
