#include "daemon/reconcile/failure_decision.h"

#include <algorithm>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"

#include "common/model/conditions.h"
#include "daemon/reconcile/job_text.h"
#include "daemon/reconcile/restart_policy.h"

namespace skydeck::reconcile {
namespace {

namespace why = model::condition_reason;
using Action = FailureDecision::Action;

FailureDecision Stall(Observation o, std::string reason, std::string message) {
  o.stalled_reason = std::move(reason);
  o.stalled_message = std::move(message);
  return FailureDecision{Action::kObserve, std::move(o), absl::ZeroDuration()};
}

// A failure no retry can fix, or none.
std::optional<FailureDecision> Hopeless(const FailedRun& run, const Observation& o, int counted) {
  const ExperimentRecord& r = *run.experiment;
  const JobRecord& last = run.jobs.front();
  const backend::FailureClass& failure = run.kinds.front();
  if (last.outcome_unknown) {
    // It may have SUCCEEDED: relaunching could redo finished work or clobber
    // its results. The user knows what the job left behind; SkyDeck does not.
    return Stall(o, why::kJobOutcomeUnknown,
                 absl::StrCat(Describe(last),
                              "; SkyDeck cannot tell whether it succeeded, so it does not "
                              "relaunch it: check the job's output, then start the experiment "
                              "again to launch a new attempt"));
  }
  std::string not_runnable = CommandNotRunnable(last.command, last.exit_code);
  if (last.status == JobStatus::kFailed && !not_runnable.empty()) {
    return Stall(o, why::kCommandNotFound,
                 absl::StrCat(Describe(last), "; ", not_runnable, " (exit ", *last.exit_code,
                              "): retrying cannot help, so it is not retried; install it or fix "
                              "the command, then start the experiment again"));
  }
  if (failure.kind == backend::FailureKind::kInvalidSpec) {
    return Stall(o, failure.reason.empty() ? std::string(why::kLaunchRefused) : failure.reason,
                 absl::StrCat(Describe(last), "; fix the experiment and start it again"));
  }
  if (CountsAgainstBudget(failure.kind) && counted > r.spec.max_restarts) {
    return Stall(o, why::kRestartBudgetExhausted,
                 absl::StrCat(Describe(last), "; ", counted, " failed attempts used the budget of ",
                              r.spec.max_restarts, " restarts; start it again to retry"));
  }
  return std::nullopt;
}

// Failures in a row at the head of the run (it has no success after its
// start, but a success may precede the run's failures in older jobs).
int ConsecutiveFailures(const std::vector<JobRecord>& jobs) {
  int n = 0;
  while (n < static_cast<int>(jobs.size()) && jobs[n].status != JobStatus::kSucceeded) ++n;
  return n;
}

// When the current streak of environment failures began.
int64_t EnvironmentStreakStart(const FailedRun& run) {
  int64_t since = run.jobs.front().ended_ms;
  for (size_t i = 0; i < run.jobs.size() && run.kinds[i].kind == backend::FailureKind::kEnvironment;
       ++i) {
    since = std::min(since, run.jobs[i].ended_ms);
  }
  return since;
}

}  // namespace

FailureDecision DecideAfterFailure(const FailedRun& run, int64_t now_ms,
                                   absl::Duration environment_retry_limit) {
  const ExperimentRecord& r = *run.experiment;
  const JobRecord& last = run.jobs.front();
  const backend::FailureClass& failure = run.kinds.front();
  int counted =
      static_cast<int>(std::count_if(run.kinds.begin(), run.kinds.end(),
                                     [](const auto& c) { return CountsAgainstBudget(c.kind); }));
  Observation o;
  o.state = ObservedState::kFailed;
  o.job = last;
  // Restarts used: each counted failure buys one, up to the budget.
  o.restart_count = std::min(counted, r.spec.max_restarts);
  if (std::optional<FailureDecision> stalled = Hopeless(run, o, counted)) return *stalled;
  uint64_t seed = static_cast<uint64_t>(r.id) * 7919 + last.attempt;
  int64_t due = last.ended_ms +
                absl::ToInt64Milliseconds(RestartBackoff(ConsecutiveFailures(run.jobs), seed));
  o.retry_counted = CountsAgainstBudget(failure.kind);
  if (failure.kind == backend::FailureKind::kEnvironment) {
    // Only a person can fix it (e.g. `sky check` where SkyPilot runs): keep
    // trying for a while, visibly, then say so and stop.
    int64_t since = EnvironmentStreakStart(run);
    int64_t give_up = since + absl::ToInt64Milliseconds(environment_retry_limit);
    std::string reason =
        failure.reason.empty() ? std::string(why::kEnvironmentNotReady) : failure.reason;
    std::string what = absl::StrCat(Describe(last), failure.hint.empty() ? "" : "; ", failure.hint);
    if (now_ms >= give_up) {
      return Stall(o, reason,
                   absl::StrCat(what, "; retried since ", ClockTime(since),
                                " without success: start the experiment again once fixed"));
    }
    due = std::min(due, give_up);
    o.degraded_reason = reason;
    o.degraded_message = absl::StrCat(
        what, "; not counted against the restart budget; retrying until ", ClockTime(give_up));
    // Said while the retry launches (it may be due at once: SkyPilot's end
    // time can be older than the poll that brought it).
  }
  if (now_ms >= due) return FailureDecision{Action::kRelaunch, std::move(o), absl::ZeroDuration()};
  o.next_retry_ms = due;
  return FailureDecision{Action::kObserve, std::move(o), absl::Milliseconds(due - now_ms)};
}

}  // namespace skydeck::reconcile
