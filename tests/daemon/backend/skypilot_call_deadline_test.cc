// The caller's deadline (daemon/backend/call_deadline.h) bounds the SkyPilot
// backend's HTTP waits: a server that stalls cannot hold a reconcile
// worker past it, even when the operation's own timeout is much longer.
#include <chrono>
#include <memory>

#include <catch2/catch.hpp>

#include "daemon/backend/call_deadline.h"
#include "daemon/backend/skypilot/skypilot_backend.h"
#include "daemon/backend/skypilot_fake_fixture.h"

namespace skydeck::backend::skypilot {
namespace {

using testing::SkyPilotFake;
using Clock = std::chrono::steady_clock;

SkyPilotFake::Args Explicit() {
  SkyPilotFake::Args args;
  args.api_version = 31;
  args.tick_mode = "explicit";
  return args;
}

std::unique_ptr<SkyPilotBackend> MakeBackend(const SkyPilotFake& fake) {
  SkyPilotOptions options;
  options.endpoint = fake.endpoint();
  options.user_id = "ab12cd34";
  options.user_name = "skydeck-test";
  options.timeouts.SetCalls(absl::Seconds(20));  // far beyond the deadline
  options.unreachable_backoff_initial = absl::ZeroDuration();
  options.launch_settle = absl::ZeroDuration();
  auto backend = SkyPilotBackend::Create(options);
  REQUIRE(backend.ok());
  return std::move(*backend);
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

TEST_CASE("a stalled backend call returns at the caller's deadline", "[skypilot]") {
  SkyPilotFake fake(Explicit());
  auto backend = MakeBackend(fake);
  REQUIRE(backend->Query({"1"}).ok());  // the API version is known: one exchange left
  // The server holds every queue request for 10 s before answering.
  fake.Fault({{"slow_ms", 10000}, {"slow_routes", {"/jobs/queue"}}});

  Clock::time_point start = Clock::now();
  absl::StatusOr<std::vector<JobObservation>> answer;
  {
    CallDeadlineScope deadline(absl::Now() + absl::Milliseconds(500));
    answer = backend->Query({"1"});
  }
  double took = SecondsSince(start);
  CHECK(absl::IsDeadlineExceeded(answer.status()));
  CHECK(took >= 0.4);
  CHECK(took < 3.0);  // not the server's 10 s, nor the operation's 20 s
}

TEST_CASE("a call made after its deadline is not sent at all", "[skypilot]") {
  SkyPilotFake fake(Explicit());
  auto backend = MakeBackend(fake);
  REQUIRE(backend->Query({"1"}).ok());
  int requests = fake.State()["counters"]["api_requests"].get<int>();
  {
    CallDeadlineScope deadline(absl::Now() - absl::Seconds(1));
    CHECK(absl::IsDeadlineExceeded(backend->Query({"1"}).status()));
  }
  CHECK(fake.State()["counters"]["api_requests"].get<int>() == requests);
  // Outside the scope the backend works as before.
  CHECK(backend->Query({"1"}).ok());
}

TEST_CASE("call deadline scopes nest and never extend", "[skypilot]") {
  CHECK(CallDeadline() == absl::InfiniteFuture());
  absl::Time outer = absl::Now() + absl::Seconds(10);
  {
    CallDeadlineScope a(outer);
    CHECK(CallDeadline() == outer);
    {
      CallDeadlineScope b(outer + absl::Seconds(5));
      CHECK(CallDeadline() == outer);
      CallDeadlineScope c(outer - absl::Seconds(5));
      CHECK(CallDeadline() == outer - absl::Seconds(5));
      CHECK(RemainingCallTime(absl::Minutes(1)) <= absl::Seconds(5));
      CHECK(RemainingCallTime(absl::Seconds(1)) == absl::Seconds(1));
    }
    CHECK(CallDeadline() == outer);
  }
  CHECK(CallDeadline() == absl::InfiniteFuture());
}

}  // namespace
}  // namespace skydeck::backend::skypilot
