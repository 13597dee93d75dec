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

TEST_CASE("only user-caused failures spend the restart budget", "[reconcile]") {
  CHECK(CountsAgainstBudget(JobStatus::kFailed));
  CHECK(CountsAgainstBudget(JobStatus::kFailedSetup));
  CHECK_FALSE(CountsAgainstBudget(JobStatus::kLost));
  CHECK_FALSE(CountsAgainstBudget(JobStatus::kFailedNoResource));
  CHECK_FALSE(CountsAgainstBudget(JobStatus::kRecovering));
  CHECK_FALSE(CountsAgainstBudget(JobStatus::kSucceeded));
}

TEST_CASE("a command the shell cannot run is named, not retried", "[reconcile]") {
  CHECK(CommandNotRunnable("lt 'trainer.lr=0.001'", 127) == "command not found: lt");
  CHECK(CommandNotRunnable("  './run.sh' x", 126) == "command not executable: ./run.sh");
  CHECK(CommandNotRunnable("python train.py", 1).empty());
  CHECK(CommandNotRunnable("python train.py", std::nullopt).empty());
}

}  // namespace
}  // namespace skydeck::reconcile
