// Logs against the fake API server: control lines stripped, tails,
// follow, bounds for jobs that do not run.
// Shared helpers: skypilot_backend_fixture.h.
#include <catch2/catch.hpp>

#include "daemon/backend/skypilot_backend_fixture.h"

namespace skydeck::backend::skypilot {
namespace {

TEST_CASE("logs: control lines stripped, byte tail, follow, cancel", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  auto backend = MakeBackend(Options(fake));
  std::string job = LaunchResolved(*backend, "skydeck-log-1-1");
  fake.Tick(2);  // PENDING -> STARTING -> RUNNING: three lines logged
  const std::string lines =
      "skydeck-log-1-1: line 1\nskydeck-log-1-1: line 2\nskydeck-log-1-1: line 3\n";

  absl::Status status;
  CHECK(CollectLogs(*backend, job, false, LogTail{}, &status) == lines);
  CHECK(status.ok());
  CHECK(CollectLogs(*backend, job, false, {.lines = 0, .bytes = 10}, &status) ==
        lines.substr(lines.size() - 10));
  CHECK(status.ok());
  // A line tail is the server's own `tail`: whole lines, like tail -n.
  const std::string last2 = "skydeck-log-1-1: line 2\nskydeck-log-1-1: line 3\n";
  CHECK(CollectLogs(*backend, job, false, {.lines = 2, .bytes = 0}, &status) == last2);
  CHECK(status.ok());
  CHECK(CollectLogs(*backend, job, false, {.lines = 2, .bytes = 10}, &status) ==
        lines.substr(lines.size() - 10));
  CHECK(status.ok());

  SECTION("follow streams until the job ends") {
    int calls = fake.Counter("logs_calls");
    auto followed = std::async(std::launch::async, [&] {
      absl::Status s;
      std::string text = CollectLogs(*backend, job, true, LogTail{}, &s);
      return std::make_pair(text, s);
    });
    REQUIRE(fake.WaitFor(
        [&](const nlohmann::json& s) { return s["counters"]["logs_calls"].get<int>() > calls; }));
    fake.Tick();  // RUNNING -> SUCCEEDED
    REQUIRE(followed.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    auto [text, s] = followed.get();
    CHECK(s.ok());
    CHECK(text == lines + "skydeck-log-1-1: finished SUCCEEDED\n");
  }
  SECTION("follow starts with the last lines asked for") {
    std::atomic<bool> got_tail{false};
    auto followed = std::async(std::launch::async, [&] {
      std::string text;
      absl::Status s = backend->StreamLogs(
          job, true, LogTail{.lines = 1, .bytes = 0},
          [&](absl::string_view chunk) {
            text.append(chunk.data(), chunk.size());
            if (absl::StrContains(text, "line 3\n")) got_tail = true;
            return true;
          },
          [] { return false; });
      return std::make_pair(text, s);
    });
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (!got_tail && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    REQUIRE(got_tail);
    fake.Tick();  // RUNNING -> SUCCEEDED, only now: the tail was taken before
    REQUIRE(followed.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    auto [text, s] = followed.get();
    CHECK(s.ok());
    CHECK(text == "skydeck-log-1-1: line 3\nskydeck-log-1-1: finished SUCCEEDED\n");
  }
  SECTION("following stops when the reader goes away") {
    std::atomic<bool> got_lines{false};
    std::atomic<bool> gone{false};
    auto followed = std::async(std::launch::async, [&] {
      std::string text;
      absl::Status s = backend->StreamLogs(
          job, true, LogTail{},
          [&](absl::string_view chunk) {
            text.append(chunk.data(), chunk.size());
            if (absl::StrContains(text, "line 3")) got_lines = true;
            return true;
          },
          [&] { return gone.load(); });
      return std::make_pair(text, s);
    });
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (!got_lines && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    REQUIRE(got_lines);
    gone = true;  // the job is still RUNNING: only cancellation ends this
    REQUIRE(followed.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    auto [text, s] = followed.get();
    CHECK(s.ok());
    CHECK(text == lines);
  }
  SECTION("a sink returning false stops the stream") {
    int chunks = 0;
    absl::Status s = backend->StreamLogs(
        job, false, LogTail{}, [&](absl::string_view) { return ++chunks < 1; },
        [] { return false; });
    CHECK(s.ok());
    CHECK(chunks == 1);
  }
  SECTION("jobs without logs") {
    CollectLogs(*backend, "999", false, LogTail{}, &status);
    CHECK(absl::IsNotFound(status));
    fake.Configure({{"launch_hold", true}});
    absl::StatusOr<std::string> launching = backend->Launch(Spec("skydeck-log-2-1"));
    REQUIRE(launching.ok());
    CollectLogs(*backend, *launching, false, LogTail{}, &status);
    CHECK(absl::IsFailedPrecondition(status));
  }
}

TEST_CASE("logs without follow or tail are bounded by default", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  SkyPilotOptions options = Options(fake);
  options.default_log_tail_lines = 2;
  auto backend = MakeBackend(options);
  std::string job = LaunchResolved(*backend, "skydeck-tail-1-1");
  fake.Tick(2);  // three lines logged
  const std::string line1 = "skydeck-tail-1-1: line 1\n";
  const std::string last2 = "skydeck-tail-1-1: line 2\nskydeck-tail-1-1: line 3\n";

  absl::Status status;
  // The server was asked for a tail: only the last two lines come back.
  CHECK(CollectLogs(*backend, job, false, LogTail{}, &status) == last2);
  CHECK(status.ok());
  // An explicit tail is still the caller's (here more than the default).
  CHECK(CollectLogs(*backend, job, false, {.lines = 0, .bytes = 1000}, &status) == line1 + last2);
  CHECK(status.ok());

  // The byte bound applies on top of the line bound.
  options.default_log_tail_bytes = 10;
  auto bytes_bounded = MakeBackend(options);
  CHECK(CollectLogs(*bytes_bounded, job, false, LogTail{}, &status) ==
        last2.substr(last2.size() - 10));
  CHECK(status.ok());
}

TEST_CASE("logs of a job that does not run are bounded without follow", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  fake.Script("skydeck-lp-", {"PENDING"});
  SkyPilotOptions options = Options(fake);
  options.timeouts.logs = absl::Milliseconds(800);
  auto backend = MakeBackend(options);
  std::string job = LaunchResolved(*backend, "skydeck-lp-1-1");
  // The server waits for the job, sending heartbeats, and never ends the
  // answer: only the whole-read deadline does.
  auto started = Clock::now();
  absl::Status status;
  std::string text = CollectLogs(*backend, job, false, LogTail{}, &status);
  CHECK(absl::IsDeadlineExceeded(status));
  CHECK(Clock::now() - started < std::chrono::seconds(8));
  CHECK(text.find("sky-payload") == std::string::npos);
}

TEST_CASE("logs of a job that ended before it ran carry SkyPilot's message", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  fake.Script("skydeck-lf-", {"PENDING", "STARTING", "FAILED_PRECHECKS"},
              {{"failure_reason", kNoCloudReason}});
  auto backend = MakeBackend(Options(fake));
  std::string job = LaunchResolved(*backend, "skydeck-lf-1-1");
  fake.Tick(2);
  JobObservation obs = QueryOne(*backend, job);
  REQUIRE(obs.status == JobStatus::kFailedPrechecks);
  // Stored without SkyPilot's colour codes.
  CHECK(obs.failure_reason ==
        "[sky.exceptions.NoCloudAccessError] Cloud access is not set up. Run: sky check");
  absl::Status status;
  std::string text = CollectLogs(*backend, job, false, LogTail{}, &status);
  CHECK(status.ok());  // how it ended is the job's status, not the stream's
  CHECK(text.find("is already in terminal state FAILED_PRECHECKS") != std::string::npos);
}

}  // namespace
}  // namespace skydeck::backend::skypilot
