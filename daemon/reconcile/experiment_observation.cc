#include "daemon/reconcile/experiment_observation.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

#include "common/model/conditions.h"
#include "common/model/event_types.h"
#include "daemon/reconcile/condition_list.h"
#include "daemon/reconcile/job_text.h"

namespace skydeck::reconcile {
namespace {

namespace cond = model::condition;
namespace why = model::condition_reason;
namespace event = model::event;

int64_t JobIdOf(const Observation& o) { return o.job ? o.job->id : 0; }

// RetryScheduled when the next attempt's time changed.
void RecordRetry(const Observation& o, const ObservationContext& ctx, ExperimentRecord& e,
                 std::vector<NewEvent>* events) {
  if (o.next_retry_ms != e.next_retry_ms && o.next_retry_ms != 0) {
    std::string at = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(o.next_retry_ms),
                                      absl::UTCTimeZone());
    std::string when = o.retry_counted ? absl::StrCat("retry ", o.restart_count, "/",
                                                      e.spec.max_restarts, " at ", at)
                                       : absl::StrCat(
                                             "not counted against the restart budget; "
                                             "next attempt at ",
                                             at);
    events->push_back(NewEvent{
        0, JobIdOf(o), event::kRetryScheduled, "BackoffAfterFailure",
        absl::StrCat(o.job ? Describe(*o.job) : "last job failed", "; ", when), ctx.actor});
  }
  e.next_retry_ms = o.next_retry_ms;
}

// Reconciling, Running and Stalled follow from the observation alone.
void RecordProgress(const Observation& o, int64_t now, ExperimentRecord& e) {
  bool transitional = o.state == ObservedState::kLaunching || o.state == ObservedState::kPending ||
                      o.state == ObservedState::kStopping || o.next_retry_ms != 0;
  SetCondition(e.conditions, cond::kReconciling, transitional,
               transitional ? why::kInProgress : why::kSettled,
               transitional ? "working towards the desired state" : "", now);
  bool running = o.state == ObservedState::kRunning;
  SetCondition(e.conditions, cond::kRunning, running,
               running ? why::kJobRunning : why::kNoRunningJob,
               o.job && running ? absl::StrCat("job ", o.job->id, " is running") : "", now);
  bool stalled = !o.stalled_reason.empty();
  SetCondition(e.conditions, cond::kStalled, stalled,
               stalled ? o.stalled_reason : std::string(why::kNotStalled), o.stalled_message, now);
}

// Degraded: poll failures first, then the observation's; else cleared,
// unless kept (see Observation::keep_degraded). An event when it turns true
// or changes reason.
void RecordDegraded(const Observation& o, const ObservationContext& ctx,
                    const skydeck::Condition& before, ExperimentRecord& e,
                    std::vector<NewEvent>* events) {
  if (!ctx.poll_failing.empty()) {
    SetCondition(e.conditions, cond::kDegraded, true, why::kPollFailing, ctx.poll_failing,
                 ctx.now_ms);
  } else if (!o.degraded_reason.empty()) {
    SetCondition(e.conditions, cond::kDegraded, true, o.degraded_reason, o.degraded_message,
                 ctx.now_ms);
  } else if (!(o.keep_degraded && before.status && before.reason != why::kPollFailing &&
               before.reason != why::kBackendUnavailable)) {
    // Kept: a failure of the environment being retried. Cleared: what this
    // reconcile has just shown to work again.
    SetCondition(e.conditions, cond::kDegraded, false, why::kBackendReachable, "", ctx.now_ms);
  }
  const skydeck::Condition* degraded = FindCondition(e.conditions, cond::kDegraded);
  if (degraded && degraded->status && (!before.status || degraded->reason != before.reason)) {
    events->push_back(
        NewEvent{0, JobIdOf(o), event::kDegraded, degraded->reason, degraded->message, ctx.actor});
  }
}

// The live job runs an older spec than `ctx.generation`. Only experiments
// that ever had an outdated job carry the condition.
void RecordOutdated(const Observation& o, const ObservationContext& ctx, ExperimentRecord& e,
                    std::vector<NewEvent>* events) {
  if (!(o.job_outdated && o.job)) {
    if (FindCondition(e.conditions, cond::kOutdated) != nullptr) {
      SetCondition(e.conditions, cond::kOutdated, false, why::kUpToDate, "", ctx.now_ms);
    }
    return;
  }
  const JobRecord& job = *o.job;
  bool outdated_before = ConditionTrue(e.conditions, cond::kOutdated);
  std::string message =
      absl::StrCat("job ", job.id, " (attempt ", job.attempt, ") runs the spec of generation ",
                   e.observed_generation, "; stop and start the experiment to apply generation ",
                   ctx.generation);
  SetCondition(e.conditions, cond::kOutdated, true, why::kSpecChangedWhileRunning, message,
               ctx.now_ms);
  if (!outdated_before) {
    events->push_back(
        NewEvent{0, job.id, event::kOutdated, why::kSpecChangedWhileRunning, message, ctx.actor});
  }
}

}  // namespace

void RecordObservation(const Observation& o, const ObservationContext& ctx, ExperimentRecord& e,
                       std::vector<NewEvent>* events) {
  ObservedState state_before = e.observed_state;
  int64_t generation_before = e.observed_generation;
  bool stalled_before = ConditionTrue(e.conditions, cond::kStalled);
  const skydeck::Condition* was_degraded = FindCondition(e.conditions, cond::kDegraded);
  skydeck::Condition degraded_before = was_degraded ? *was_degraded : skydeck::Condition{};
  if (!degraded_before.status) degraded_before.reason.clear();
  e.observed_state = o.state;
  // observed_generation is the newest spec the experiment's state reflects:
  // a live job of an older spec does not reflect it, so it stays where it
  // was (below ctx.generation even for rows written before this rule), and
  // generation != observed_generation keeps showing that the change has not
  // been applied.
  e.observed_generation =
      o.job_outdated ? std::min(e.observed_generation, ctx.generation - 1) : ctx.generation;
  e.restart_count = o.restart_count;
  RecordRetry(o, ctx, e, events);
  RecordProgress(o, ctx.now_ms, e);
  RecordDegraded(o, ctx, degraded_before, e, events);
  RecordOutdated(o, ctx, e, events);
  if (!o.stalled_reason.empty() && !stalled_before) {
    events->push_back(
        NewEvent{0, JobIdOf(o), event::kStalled, o.stalled_reason, o.stalled_message, ctx.actor});
  }
  if (o.state != state_before) {
    events->push_back(NewEvent{0, JobIdOf(o), event::kObservedStateChanged,
                               std::string(Name(o.state)),
                               absl::StrCat(Name(state_before), " -> ", Name(o.state)), ctx.actor});
  } else if (e.observed_generation != generation_before && !o.job_outdated) {
    // Watchers learn that a spec change has been acted on even when it
    // changed nothing else (e.g. new flags while running).
    events->push_back(NewEvent{0, 0, event::kReconciled, why::kUpToDate,
                               absl::StrCat("acted on generation ", ctx.generation), ctx.actor});
  }
}

std::string PollFailingMessage(const JobRecord& job, const PollFailure& failure) {
  return absl::StrCat(
      "cannot observe job ", job.id, " (attempt ", job.attempt, "), shown as ", Name(job.status),
      ": ", failure.error, "; polls failing since ", ClockTime(failure.since_ms), ", ",
      failure.last_success_ms != 0
          ? absl::StrCat("last successful poll ", ClockTime(failure.last_success_ms))
          : std::string("no successful poll yet"));
}

void RecordOnOtherBackend(absl::string_view message, const ObservationContext& ctx,
                          ExperimentRecord& e, std::vector<NewEvent>* events) {
  const skydeck::Condition* c = FindCondition(e.conditions, cond::kStalled);
  if (!(c && c->status && c->reason == why::kJobOnOtherBackend)) {
    events->push_back(
        NewEvent{0, 0, event::kStalled, why::kJobOnOtherBackend, std::string(message), ctx.actor});
  }
  SetCondition(e.conditions, cond::kStalled, true, why::kJobOnOtherBackend, message, ctx.now_ms);
}

void RecordBackendError(absl::string_view error_message, const ObservationContext& ctx,
                        ExperimentRecord& e, std::vector<NewEvent>* events) {
  if (!ConditionTrue(e.conditions, cond::kDegraded)) {
    events->push_back(NewEvent{
        0, 0, event::kDegraded, why::kBackendUnavailable,
        absl::StrCat("backend error: ", error_message, "; retrying with backoff"), ctx.actor});
  }
  SetCondition(e.conditions, cond::kDegraded, true, why::kBackendUnavailable, error_message,
               ctx.now_ms);
}

}  // namespace skydeck::reconcile
