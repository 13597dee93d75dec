// cli/wait.h: the --for and --timeout syntax and when a wait is over.
#include "cli/wait.h"

#include <catch2/catch.hpp>

using namespace skydeck::cli;
namespace pb = ::skydeck::v1;

namespace {

pb::Experiment At(pb::ObservedState observed, pb::DesiredState desired, int64_t generation = 2,
                  int64_t observed_generation = 2) {
  pb::Experiment e;
  e.set_observed_state(observed);
  e.set_desired_state(desired);
  e.set_generation(generation);
  e.set_observed_generation(observed_generation);
  return e;
}

}  // namespace

TEST_CASE("wait conditions name observed states", "[cli][wait]") {
  CHECK(*ParseWaitCondition("state=RUNNING") == pb::OBSERVED_STATE_RUNNING);
  CHECK(*ParseWaitCondition("succeeded") == pb::OBSERVED_STATE_SUCCEEDED);
  CHECK(*ParseWaitCondition("State=stopped") == pb::OBSERVED_STATE_STOPPED);
  CHECK(ParseWaitCondition("state=PENDING").status().code() == absl::StatusCode::kInvalidArgument);
  // What completion offers is what parses.
  CHECK(WaitConditionChoices().size() == 5);
  for (const std::string& choice : WaitConditionChoices()) {
    CHECK(ParseWaitCondition(choice).ok());
  }
}

TEST_CASE("wait timeouts are durations or seconds", "[cli][wait]") {
  CHECK(*ParseWaitTimeout("10m") == absl::Minutes(10));
  CHECK(*ParseWaitTimeout("1h30m") == absl::Minutes(90));
  CHECK(*ParseWaitTimeout("90") == absl::Seconds(90));
  CHECK(*ParseWaitTimeout("0") == absl::ZeroDuration());
  CHECK(ParseWaitTimeout("soon").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseWaitTimeout("-5s").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("a wait is reached, pending or failed", "[cli][wait]") {
  using V = WaitVerdict;
  const auto kRun = pb::DESIRED_STATE_RUNNING;
  CHECK(CheckWait(At(pb::OBSERVED_STATE_RUNNING, kRun), pb::OBSERVED_STATE_RUNNING).verdict ==
        V::kReached);
  CHECK(CheckWait(At(pb::OBSERVED_STATE_PENDING, kRun), pb::OBSERVED_STATE_RUNNING).verdict ==
        V::kWaiting);
  // A stale SUCCEEDED from the previous run does not count.
  CHECK(CheckWait(At(pb::OBSERVED_STATE_SUCCEEDED, kRun, 3, 2), pb::OBSERVED_STATE_SUCCEEDED)
            .verdict == V::kWaiting);
  // FAILED with a retry coming is not the end; with desired STOPPED it is.
  CHECK(CheckWait(At(pb::OBSERVED_STATE_FAILED, kRun), pb::OBSERVED_STATE_SUCCEEDED).verdict ==
        V::kWaiting);
  CHECK(CheckWait(At(pb::OBSERVED_STATE_FAILED, pb::DESIRED_STATE_STOPPED),
                  pb::OBSERVED_STATE_SUCCEEDED)
            .verdict == V::kFailed);
  pb::Experiment stalled = At(pb::OBSERVED_STATE_FAILED, kRun);
  pb::Condition* c = stalled.add_conditions();
  c->set_type("Stalled");
  c->set_status(true);
  CHECK(CheckWait(stalled, pb::OBSERVED_STATE_RUNNING).verdict == V::kFailed);
  // Waiting for FAILED: a failure is the goal.
  CHECK(CheckWait(stalled, pb::OBSERVED_STATE_FAILED).verdict == V::kReached);
  CHECK(CheckWait(At(pb::OBSERVED_STATE_SUCCEEDED, kRun), pb::OBSERVED_STATE_RUNNING).verdict ==
        V::kFailed);
  CHECK(
      CheckWait(At(pb::OBSERVED_STATE_IDLE, pb::DESIRED_STATE_STOPPED), pb::OBSERVED_STATE_STOPPED)
          .verdict == V::kReached);
}

TEST_CASE("waiting for RUNNING on a job that runs an older spec fails fast", "[cli][wait]") {
  // The spec changed while the job ran: the job is not restarted, so
  // observed_generation stays behind and only stop+start applies it.
  pb::Experiment e = At(pb::OBSERVED_STATE_RUNNING, pb::DESIRED_STATE_RUNNING, 3, 2);
  pb::Condition* c = e.add_conditions();
  c->set_type("Outdated");
  c->set_status(true);
  c->set_message("job 7 (attempt 1) runs the spec of generation 2");
  WaitCheck check = CheckWait(e, pb::OBSERVED_STATE_RUNNING);
  CHECK(check.verdict == WaitVerdict::kFailed);
  CHECK(check.reason == "Outdated: job 7 (attempt 1) runs the spec of generation 2");
  // Waiting for it to finish is fine: it will, with the older spec.
  CHECK(CheckWait(e, pb::OBSERVED_STATE_SUCCEEDED).verdict == WaitVerdict::kWaiting);
}

TEST_CASE("waiting for a job of a stopped experiment fails at once with the hint", "[cli][wait]") {
  // Nothing launches while the desired state is not RUNNING: waiting the
  // whole timeout would only end in "timed out".
  pb::Experiment e = At(pb::OBSERVED_STATE_STOPPED, pb::DESIRED_STATE_STOPPED);
  e.set_name("lr-3e-4");
  WaitCheck check = CheckWait(e, pb::OBSERVED_STATE_RUNNING);
  CHECK(check.verdict == WaitVerdict::kFailed);
  CHECK(check.reason ==
        "its desired state is STOPPED, so nothing will start it; start it first: "
        "skydeck exp start lr-3e-4");
  CHECK(CheckWait(At(pb::OBSERVED_STATE_IDLE, pb::DESIRED_STATE_TERMINATED),
                  pb::OBSERVED_STATE_SUCCEEDED)
            .verdict == WaitVerdict::kFailed);
  // Just set to STOPPED while its job still runs: RUNNING is already there.
  CHECK(CheckWait(At(pb::OBSERVED_STATE_RUNNING, pb::DESIRED_STATE_STOPPED),
                  pb::OBSERVED_STATE_RUNNING)
            .verdict == WaitVerdict::kReached);
  // Waiting for STOPPED is what a stopped experiment is for.
  CHECK(
      CheckWait(At(pb::OBSERVED_STATE_IDLE, pb::DESIRED_STATE_STOPPED), pb::OBSERVED_STATE_STOPPED)
          .verdict == WaitVerdict::kReached);
}
