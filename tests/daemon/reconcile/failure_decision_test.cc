#include "daemon/reconcile/failure_decision.h"

#include <catch2/catch.hpp>

#include "common/model/conditions.h"

namespace skydeck::reconcile {
namespace {

namespace why = model::condition_reason;
using Action = FailureDecision::Action;

constexpr int64_t kEnded = 1'700'000'000'000;

struct Run {
  ExperimentRecord experiment;
  FailedRun run;

  Run() {
    experiment.id = 5;
    experiment.spec.max_restarts = 2;
    run.experiment = &experiment;
  }
  // Adds an older job than those already there (the run is newest first).
  Run& Failed(JobStatus status, backend::FailureKind kind, std::optional<int> exit_code = 1) {
    JobRecord job;
    job.id = 100 - static_cast<int64_t>(run.jobs.size());
    job.attempt = 10 - static_cast<int>(run.jobs.size());
    job.status = status;
    job.exit_code = exit_code;
    job.command = "python train.py";
    job.ended_ms = kEnded - 60'000 * static_cast<int64_t>(run.jobs.size());
    run.jobs.push_back(job);
    run.kinds.push_back(backend::FailureClass{kind, "", ""});
    return *this;
  }
};

FailureDecision Decide(const Run& r, int64_t now_ms) {
  return DecideAfterFailure(r.run, now_ms, absl::Minutes(30));
}

TEST_CASE("a failure within budget waits for its backoff, then relaunches", "[reconcile]") {
  Run r;
  r.Failed(JobStatus::kFailed, backend::FailureKind::kUserCode);
  FailureDecision waiting = Decide(r, kEnded);
  CHECK(waiting.action == Action::kObserve);
  CHECK(waiting.observation.stalled_reason.empty());
  CHECK(waiting.observation.next_retry_ms > kEnded);
  CHECK(waiting.requeue_after == absl::Milliseconds(waiting.observation.next_retry_ms - kEnded));
  CHECK(waiting.observation.restart_count == 1);

  FailureDecision due = Decide(r, waiting.observation.next_retry_ms);
  CHECK(due.action == Action::kRelaunch);
  CHECK(due.observation.degraded_reason.empty());
}

TEST_CASE("counted failures beyond the budget stall", "[reconcile]") {
  Run r;
  for (int i = 0; i < 3; ++i) r.Failed(JobStatus::kFailed, backend::FailureKind::kUserCode);
  FailureDecision d = Decide(r, kEnded);
  CHECK(d.action == Action::kObserve);
  CHECK(d.observation.stalled_reason == why::kRestartBudgetExhausted);
  CHECK(d.observation.restart_count == 2);
}

TEST_CASE("failures no retry can fix stall at once", "[reconcile]") {
  Run r;
  SECTION("a missing command") {
    r.Failed(JobStatus::kFailed, backend::FailureKind::kUserCode, 127);
    CHECK(Decide(r, kEnded).observation.stalled_reason == why::kCommandNotFound);
  }
  SECTION("a spec the backend refused") {
    r.Failed(JobStatus::kFailedPrechecks, backend::FailureKind::kInvalidSpec);
    CHECK(Decide(r, kEnded).observation.stalled_reason == why::kLaunchRefused);
  }
  SECTION("an outcome nobody saw") {
    r.Failed(JobStatus::kLost, backend::FailureKind::kLost);
    r.run.jobs.front().outcome_unknown = true;
    CHECK(Decide(r, kEnded).observation.stalled_reason == why::kJobOutcomeUnknown);
  }
}

TEST_CASE("environment failures are retried, Degraded, until the limit", "[reconcile]") {
  Run r;
  r.Failed(JobStatus::kFailedPrechecks, backend::FailureKind::kEnvironment)
      .Failed(JobStatus::kFailedPrechecks, backend::FailureKind::kEnvironment);
  int64_t streak_start = r.run.jobs.back().ended_ms;
  FailureDecision d = Decide(r, kEnded);
  CHECK(d.observation.degraded_reason == why::kEnvironmentNotReady);
  CHECK(d.observation.stalled_reason.empty());
  CHECK_FALSE(d.observation.retry_counted);
  CHECK(d.observation.restart_count == 0);

  FailureDecision late = Decide(r, streak_start + absl::ToInt64Milliseconds(absl::Minutes(30)));
  CHECK(late.action == Action::kObserve);
  CHECK(late.observation.stalled_reason == why::kEnvironmentNotReady);
}

}  // namespace
}  // namespace skydeck::reconcile
