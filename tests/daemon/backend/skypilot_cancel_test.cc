// Cancelling against the fake API server: by id, unknown ids, launches in
// flight, batched cancels.
// Shared helpers: skypilot_backend_fixture.h.
#include <catch2/catch.hpp>

#include "daemon/backend/skypilot_backend_fixture.h"

namespace skydeck::backend::skypilot {
namespace {

TEST_CASE("cancel: jobs by id, unknown ids, launches in flight", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  auto backend = MakeBackend(Options(fake));

  SECTION("a waiting job is cancelled at once") {
    std::string job = LaunchResolved(*backend, "skydeck-x-1-1");
    REQUIRE(backend->Cancel(job).ok());
    CHECK(QueryOne(*backend, job).status == JobStatus::kCancelled);
    nlohmann::json body = fake.State()["last_cancel"];
    CHECK(body["job_ids"] == nlohmann::json::array({std::stoi(job)}));
    CHECK((!body.contains("name") || body["name"].is_null()));
  }
  SECTION("a running job goes through CANCELLING") {
    std::string job = LaunchResolved(*backend, "skydeck-x-2-1");
    fake.Tick(2);
    CHECK(QueryOne(*backend, job).status == JobStatus::kRunning);
    REQUIRE(backend->Cancel(job).ok());
    CHECK(QueryOne(*backend, job).status == JobStatus::kCancelling);
    fake.Tick();
    CHECK(QueryOne(*backend, job).status == JobStatus::kCancelled);
    CHECK(backend->Cancel(job).ok());  // again: "No job to cancel."
  }
  SECTION("unknown and malformed ids") {
    LaunchResolved(*backend, "skydeck-x-3-1");
    CHECK(backend->Cancel("999").ok());
    CHECK(absl::IsInvalidArgument(backend->Cancel("job-7")));
    CHECK(absl::IsInvalidArgument(backend->Cancel("request:x&all_status=true")));
  }
  SECTION("a launch still in flight is cancelled on the server") {
    fake.Configure({{"launch_hold", true}});
    absl::StatusOr<std::string> id = backend->Launch(Spec("skydeck-x-4-1"));
    REQUIRE(id.ok());
    REQUIRE(backend->Cancel(*id).ok());
    CHECK(fake.Counter("api_cancel_calls") == 1);
    JobObservation obs = QueryOne(*backend, *id);
    CHECK(obs.status == JobStatus::kCancelled);
    CHECK(obs.raw_status == "LAUNCH_CANCELLED");
    CHECK(fake.ReleaseLaunches() == 0);
    CHECK(fake.State()["jobs"].empty());
  }
  SECTION("a launch that completed is cancelled as a job") {
    absl::StatusOr<std::string> id = backend->Launch(Spec("skydeck-x-5-1"));
    REQUIRE(id.ok());
    REQUIRE(backend->Cancel(*id).ok());
    CHECK(fake.Counter("api_cancel_calls") == 0);
    CHECK(fake.State()["jobs"][0]["status"] == "CANCELLED");
  }
}

TEST_CASE("concurrent cancels share one /jobs/cancel request", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  SkyPilotOptions options = Options(fake);
  options.cancel_batch_linger = absl::Milliseconds(500);
  auto backend = MakeBackend(options);
  std::vector<std::string> jobs;
  for (int i = 1; i <= 4; ++i) {
    jobs.push_back(LaunchResolved(*backend, "skydeck-cb-" + std::to_string(i) + "-1"));
  }
  std::vector<std::future<absl::Status>> cancels;
  for (const std::string& job : jobs) {
    cancels.push_back(std::async(std::launch::async, [&, job] { return backend->Cancel(job); }));
  }
  for (auto& c : cancels) CHECK(c.get().ok());
  nlohmann::json requests = fake.State()["counters"]["cancel_requests"];
  INFO(requests.dump());
  CHECK(requests.size() < jobs.size());
  std::set<int> ids;
  for (const auto& r : requests) {
    for (const auto& id : r) ids.insert(id.get<int>());
  }
  CHECK(ids.size() == jobs.size());
}

}  // namespace
}  // namespace skydeck::backend::skypilot
