#include "daemon/reconcile/restart_policy.h"

#include <catch2/catch.hpp>

namespace skydeck::reconcile {
namespace {

TEST_CASE("restart backoff doubles from 10s to 10min with bounded jitter", "[reconcile]") {
  for (int n = 1; n <= 12; ++n) {
    double nominal = std::min(10.0 * (1 << (n - 1)), 600.0);
    for (uint64_t seed = 0; seed < 50; ++seed) {
      double got = absl::ToDoubleSeconds(RestartBackoff(n, seed));
      CHECK(got >= nominal * 0.8);
      CHECK(got <= nominal * 1.2);
      CHECK(RestartBackoff(n, seed) == RestartBackoff(n, seed));
    }
  }
  CHECK(RestartBackoff(1, 1) != RestartBackoff(1, 2));
}

TEST_CASE("only failures of the user's code and spec spend the restart budget", "[reconcile]") {
  using backend::FailureKind;
  CHECK(CountsAgainstBudget(FailureKind::kUserCode));
  CHECK(CountsAgainstBudget(FailureKind::kInvalidSpec));
  CHECK(CountsAgainstBudget(FailureKind::kCancelled));
  CHECK_FALSE(CountsAgainstBudget(FailureKind::kEnvironment));
  CHECK_FALSE(CountsAgainstBudget(FailureKind::kCapacity));
  CHECK_FALSE(CountsAgainstBudget(FailureKind::kBackend));
  CHECK_FALSE(CountsAgainstBudget(FailureKind::kLost));
  CHECK_FALSE(CountsAgainstBudget(FailureKind::kNone));
}

TEST_CASE("job statuses alone imply a failure kind", "[reconcile]") {
  using backend::DefaultFailureClass;
  using backend::FailureKind;
  CHECK(DefaultFailureClass(JobStatus::kFailed).kind == FailureKind::kUserCode);
  CHECK(DefaultFailureClass(JobStatus::kFailedSetup).kind == FailureKind::kUserCode);
  CHECK(DefaultFailureClass(JobStatus::kFailedPrechecks).kind == FailureKind::kInvalidSpec);
  CHECK(DefaultFailureClass(JobStatus::kFailedNoResource).kind == FailureKind::kCapacity);
  CHECK(DefaultFailureClass(JobStatus::kFailedController).kind == FailureKind::kBackend);
  CHECK(DefaultFailureClass(JobStatus::kCancelled).kind == FailureKind::kCancelled);
  CHECK(DefaultFailureClass(JobStatus::kLost).kind == FailureKind::kLost);
  CHECK(DefaultFailureClass(JobStatus::kSucceeded).kind == FailureKind::kNone);
  CHECK(DefaultFailureClass(JobStatus::kRecovering).kind == FailureKind::kNone);
}

TEST_CASE("a command the shell cannot run is named, not retried", "[reconcile]") {
  CHECK(CommandNotRunnable("lt 'trainer.lr=0.001'", 127) == "command not found: lt");
  CHECK(CommandNotRunnable("  './run.sh' x", 126) == "command not executable: ./run.sh");
  CHECK(CommandNotRunnable("python train.py", 1).empty());
  CHECK(CommandNotRunnable("python train.py", std::nullopt).empty());
}

}  // namespace
}  // namespace skydeck::reconcile
