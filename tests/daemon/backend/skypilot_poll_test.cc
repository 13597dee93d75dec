// Polling against the fake API server: one queue call per poll, status
// mapping, the lifecycle, failures SkyPilot reports, slow queues.
// Shared helpers: skypilot_backend_fixture.h.
#include <catch2/catch.hpp>

#include "daemon/backend/skypilot_backend_fixture.h"

namespace skydeck::backend::skypilot {
namespace {

TEST_CASE("queue is v2 with job_ids and fields at API >= 18, v1 below", "[skypilot]") {
  for (int api_version : {31, 18, 17, 11}) {
    DYNAMIC_SECTION("API " << api_version) {
      SkyPilotFake fake(FakeArgs(api_version));
      auto backend = MakeBackend(Options(fake));
      std::string job = LaunchResolved(*backend, "skydeck-v-1-1");
      JobObservation obs = QueryOne(*backend, job);
      CHECK(obs.backend_job_id == job);
      CHECK(obs.name == "skydeck-v-1-1");
      nlohmann::json last = fake.State()["last_queue"];
      CHECK(last["body"]["refresh"] == false);
      CHECK(last["body"]["job_ids"] == nlohmann::json::array({std::stoi(job)}));
      if (api_version >= 18) {
        CHECK(last["route"] == "/jobs/queue/v2");
        CHECK(last["body"]["fields"].size() > 3);
        CHECK(fake.Counter("queue_v1_calls") == 0);
      } else {
        CHECK(last["route"] == "/jobs/queue");
        CHECK_FALSE(last["body"].contains("fields"));
        CHECK(fake.Counter("queue_v2_calls") == 0);
      }
      // The first health probe claims our version; then we never claim more
      // than the server speaks.
      nlohmann::json claimed = fake.State()["counters"]["client_api_versions"];
      CHECK(claimed.back() == std::to_string(std::min(api_version, 31)));
      CHECK(claimed.size() <= 2);
    }
  }
}

TEST_CASE("a poll is one queue call for all jobs, never refresh", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  SkyPilotOptions options = Options(fake);
  options.max_concurrent_launches = 10;
  auto backend = MakeBackend(options);
  std::vector<std::string> provisional;
  for (int i = 1; i <= 5; ++i) {
    absl::StatusOr<std::string> id = backend->Launch(Spec("skydeck-p-" + std::to_string(i) + "-1"));
    REQUIRE(id.ok());
    provisional.push_back(*id);
  }
  auto first = backend->Query(provisional);
  REQUIRE(first.ok());
  REQUIRE(first->size() == 5);
  nlohmann::json counters = fake.State()["counters"];
  CHECK(counters["queue_calls"] == 1);
  CHECK(counters["status_calls"] == 1);  // one look at all launch requests
  std::vector<std::string> jobs;
  for (const JobObservation& obs : *first) jobs.push_back(obs.resolved_job_id);
  jobs.push_back("999");            // unknown to SkyPilot
  jobs.push_back("not-an-id");      // not a SkyPilot id at all
  jobs.push_back("request:a&b=c");  // never pasted into a URL
  auto polled = backend->Query(jobs);
  REQUIRE(polled.ok());
  CHECK(polled->size() == 5);
  counters = fake.State()["counters"];
  CHECK(counters["queue_calls"] == 2);
  CHECK(counters["status_calls"] == 1);
  CHECK(counters["refresh_calls"] == 0);
  std::set<int> asked;
  nlohmann::json last_queue = fake.State()["last_queue"];
  for (const auto& id : last_queue["body"]["job_ids"]) asked.insert(id.get<int>());
  CHECK(asked == std::set<int>{1, 2, 3, 4, 5, 999});
}

TEST_CASE("every status reaches SkyDeck mapped, unknown ones kept raw", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  auto backend = MakeBackend(Options(fake));
  std::string job = LaunchResolved(*backend, "skydeck-m-1-1");
  auto statuses = ManagedJobStatusTable();
  statuses.emplace_back("HIBERNATING", JobStatus::kUnknown);
  for (const auto& [raw, status] : statuses) {
    INFO(raw);
    fake.SetJobStatus(std::stoi(job), raw);
    JobObservation obs = QueryOne(*backend, job);
    CHECK(obs.status == status);
    CHECK(obs.raw_status == raw);
  }
}

TEST_CASE("lifecycle: STARTING-PENDING backoff, preemption, failure", "[skypilot]") {
  SkyPilotFake fake;  // jobs advance one step per queue call
  fake.Script(
      "skydeck-life-",
      {"PENDING", "STARTING", "PENDING", "STARTING", "RUNNING", "RECOVERING", "RUNNING", "FAILED"},
      {{"failure_reason", "user code exited 1"}});
  auto backend = MakeBackend(Options(fake));
  absl::StatusOr<std::string> id = backend->Launch(Spec("skydeck-life-1-1"));
  REQUIRE(id.ok());
  std::string current = *id;
  std::vector<std::string> seen;
  std::vector<int> recoveries;
  JobObservation last;
  for (int poll = 0; poll < 20; ++poll) {
    last = QueryOne(*backend, current);
    if (!last.resolved_job_id.empty()) current = last.resolved_job_id;  // as the store does
    seen.push_back(last.raw_status);
    recoveries.push_back(last.recovery_count);
    if (IsTerminal(last.status)) break;
  }
  CHECK(seen == std::vector<std::string>{"PENDING", "STARTING", "PENDING", "STARTING", "RUNNING",
                                         "RECOVERING", "RUNNING", "FAILED"});
  CHECK(recoveries == std::vector<int>{0, 0, 0, 0, 0, 1, 1, 1});
  CHECK(last.status == JobStatus::kFailed);
  CHECK(last.failure_reason == "user code exited 1");
  CHECK(last.start_ms > 0);
  CHECK(last.end_ms >= last.start_ms);
}

TEST_CASE("ClusterNotUpError means no live managed jobs, not an outage", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  auto backend = MakeBackend(Options(fake));
  auto empty = backend->Query({"1", "2"});  // no jobs ever: no controller
  REQUIRE(empty.ok());
  CHECK(empty->empty());
  CHECK(backend->Cancel("1").ok());

  std::string job = LaunchResolved(*backend, "skydeck-n-1-1");
  fake.Configure({{"controller_stopped", true}});
  auto stopped = backend->Query({job});
  REQUIRE(stopped.ok());
  CHECK(stopped->empty());
  CHECK(backend->Cancel(job).ok());
  absl::Status logs;
  CollectLogs(*backend, job, false, LogTail{}, &logs);
  CHECK(absl::IsNotFound(logs));
}

TEST_CASE("SkyPilot is polled every 30 s unless told otherwise", "[skypilot]") {
  SkyPilotOptions options;
  options.user_id = kUserId;
  auto backend = MakeBackend(options);
  CHECK(backend->DefaultPollIntervalMs() == 30000);
}

TEST_CASE("NoCloudAccessError from the launch and from the controller are one failure",
          "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  // Default mode: the launch request fails.
  fake.Script("skydeck-nc-1-", {"PENDING"},
              {{"launch_error",
                {{"type", "NoCloudAccessError"},
                 {"message", "Cloud access is not set up. Run: \x1b[1msky check\x1b[0m"}}}});
  // Consolidation mode: the controller ends the job FAILED_PRECHECKS.
  fake.Script("skydeck-nc-2-", {"PENDING", "STARTING", "FAILED_PRECHECKS"},
              {{"failure_reason", kNoCloudReason}});
  auto backend = MakeBackend(Options(fake));
  absl::StatusOr<std::string> launched = backend->Launch(Spec("skydeck-nc-1-1"));
  REQUIRE(launched.ok());
  JobObservation at_launch = QueryOne(*backend, *launched);
  std::string job = LaunchResolved(*backend, "skydeck-nc-2-1");
  fake.Tick(2);
  JobObservation in_controller = QueryOne(*backend, job);
  for (const JobObservation& obs : {at_launch, in_controller}) {
    INFO(obs.raw_status << ": " << obs.failure_reason);
    CHECK(obs.status == JobStatus::kFailedPrechecks);
    CHECK(obs.failure_reason.find('\x1b') == std::string::npos);
    FailureClass c = backend->ClassifyFailure(obs.status, obs.failure_reason);
    CHECK(c.kind == FailureKind::kEnvironment);
    CHECK(c.reason == "NoCloudAccess");
  }
}

TEST_CASE("a slow queue answer is slow, not an outage", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  SkyPilotOptions options = Options(fake);
  options.unreachable_backoff_initial = absl::Seconds(5);
  auto backend = MakeBackend(options);
  std::string job = LaunchResolved(*backend, "skydeck-sq-1-1");
  // The first queue answers after a real server restarted took 24-38 s.
  fake.Control("/_fake/restart", {{"queue_delay_ms", 1500}, {"queue_delay_count", 2}});
  SECTION("within the queue timeout it is only slow") {
    CHECK(QueryOne(*backend, job).status == JobStatus::kPending);
  }
  SECTION("past it: DEADLINE_EXCEEDED saying so, and the next call still goes out") {
    // A fresh backend so only the queue timeout is short.
    SkyPilotOptions short_queue = options;
    short_queue.timeouts.queue = absl::Milliseconds(300);
    auto impatient = MakeBackend(short_queue);
    absl::Status slow = impatient->Query({job}).status();
    REQUIRE(absl::IsDeadlineExceeded(slow));
    CHECK(slow.message().find("accepted request") != absl::string_view::npos);
    CHECK(slow.message().find("did not finish it within 300ms") != absl::string_view::npos);
    int before = fake.Counter("queue_calls");
    // Not refused locally by the unreachable backoff: the server answers.
    CHECK(absl::IsDeadlineExceeded(impatient->Query({job}).status()));
    CHECK(fake.Counter("queue_calls") == before + 1);
    CHECK(impatient->Probe().reachable);
  }
}

}  // namespace
}  // namespace skydeck::backend::skypilot
