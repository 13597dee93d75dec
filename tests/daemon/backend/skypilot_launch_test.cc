// Launching against the fake API server: Probe, the launch request,
// asynchronous resolution, Find after a crash (no duplicate launch), the
// bound on launches in flight.
// Shared helpers: skypilot_backend_fixture.h.
#include <catch2/catch.hpp>

#include "daemon/backend/skypilot_backend_fixture.h"

namespace skydeck::backend::skypilot {
namespace {

TEST_CASE("Probe reports the server and refuses API versions below 11", "[skypilot]") {
  SECTION("a current server") {
    SkyPilotFake fake;
    auto backend = MakeBackend(Options(fake));
    BackendInfo info = backend->Probe();
    CHECK(info.name == "skypilot");
    CHECK(info.reachable);
    CHECK(info.api_version == "31");
    CHECK(info.version == "1.0.0-dev0");
    CHECK(info.error.empty());
  }
  SECTION("an old server") {
    SkyPilotFake fake(FakeArgs(10));
    auto backend = MakeBackend(Options(fake));
    BackendInfo info = backend->Probe();
    CHECK(info.reachable);
    CHECK(info.api_version == "10");
    CHECK_THAT(info.error, Catch::Contains("API version 10") && Catch::Contains(">= 11"));
    absl::StatusOr<std::string> launched = backend->Launch(Spec("skydeck-old-1-1"));
    CHECK(absl::IsFailedPrecondition(launched.status()));
    CHECK_THAT(std::string(launched.status().message()), Catch::Contains("upgrade"));
    CHECK(absl::IsFailedPrecondition(backend->Query({"1"}).status()));
    CHECK(absl::IsFailedPrecondition(backend->Find("skydeck-old-1-1").status()));
    CHECK(fake.Counter("launch_calls") == 0);
  }
  SECTION("endpoints without a scheme are http; other schemes and bad tokens are refused") {
    SkyPilotFake fake;
    SkyPilotOptions options = Options(fake);
    options.endpoint = "127.0.0.1:" + std::to_string(fake.port());
    CHECK(MakeBackend(options)->Probe().error.empty());
    options.endpoint = "ftp://127.0.0.1:1";
    CHECK(absl::IsInvalidArgument(SkyPilotBackend::Create(options).status()));
    options = Options(fake);
    options.token = "sky_abc\r\nX-Injected: 1";
    absl::Status bad_token = SkyPilotBackend::Create(options).status();
    CHECK(absl::IsInvalidArgument(bad_token));
    CHECK_FALSE(absl::StrContains(bad_token.message(), "sky_abc"));
    options = Options(fake);
    options.user_id.clear();
    CHECK(absl::IsInvalidArgument(SkyPilotBackend::Create(options).status()));
  }
  SECTION("no server") {
    SkyPilotFake fake;
    SkyPilotOptions options = Options(fake);
    fake.Down();
    BackendInfo info = MakeBackend(options)->Probe();
    CHECK_FALSE(info.reachable);
    CHECK_THAT(info.error, Catch::Contains("cannot connect"));
  }
}

TEST_CASE("launch sends the task YAML and a stable SkyPilot identity", "[skypilot]") {
  SkyPilotFake fake;
  auto backend = MakeBackend(Options(fake));
  absl::StatusOr<std::string> first = backend->Launch(Spec("skydeck-l-1-1"));
  absl::StatusOr<std::string> second = backend->Launch(Spec("skydeck-l-2-1"));
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(absl::StartsWith(*first, "request:"));
  CHECK(*first != *second);

  nlohmann::json state = fake.State();
  REQUIRE(state["launches"].size() == 2);
  for (const nlohmann::json& launch : state["launches"]) {
    const nlohmann::json& body = launch["body"];
    CHECK(body["env_vars"]["SKYPILOT_USER_ID"] == kUserId);
    CHECK(body["env_vars"]["SKYPILOT_USER"] == "skydeck-test");
    CHECK(body["name"] == launch["name"]);
    std::vector<YAML::Node> docs = YAML::LoadAll(body["task"].get<std::string>());
    REQUIRE(docs.size() == 2);
    CHECK(docs[0]["name"].as<std::string>() == launch["name"].get<std::string>());
    CHECK(docs[1]["resources"]["accelerators"].as<std::string>() == "H100:4");
    CHECK(docs[1]["run"].as<std::string>() == Spec("x").command);
  }
  CHECK(state["launches"][0]["name"] == "skydeck-l-1-1");
  CHECK(state["counters"]["launches_by_name"]["skydeck-l-1-1"] == 1);
  CHECK(state["counters"]["missing_version_headers"] == 0);

  SECTION("specs SkyPilot cannot take never reach the server") {
    JobSpec bad = Spec("skydeck-l-3-1");
    bad.gpu_type.clear();
    CHECK(absl::IsInvalidArgument(backend->Launch(bad).status()));
    CHECK(fake.Counter("launch_calls") == 2);
  }
}

TEST_CASE("a launch resolves asynchronously to its managed job id", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  fake.Configure({{"launch_hold", true}});
  auto backend = MakeBackend(Options(fake));

  auto started = Clock::now();
  absl::StatusOr<std::string> id = backend->Launch(Spec("skydeck-r-1-1"));
  REQUIRE(id.ok());
  // The launch request is still running on the server: Launch did not wait.
  CHECK(Clock::now() - started < std::chrono::seconds(5));
  CHECK(fake.State()["requests"][0]["status"] == "RUNNING");

  JobObservation obs = QueryOne(*backend, *id);
  CHECK(obs.backend_job_id == *id);
  CHECK(obs.resolved_job_id.empty());
  CHECK(obs.name == "skydeck-r-1-1");
  CHECK(obs.status == JobStatus::kLaunching);
  CHECK(obs.raw_status == "LAUNCH_RUNNING");
  CHECK(fake.Counter("queue_calls") == 0);    // nothing to ask the queue yet
  CHECK(fake.Counter("api_get_calls") == 0);  // never blocked on the launch

  REQUIRE(fake.ReleaseLaunches() == 1);
  obs = QueryOne(*backend, *id);
  CHECK(obs.backend_job_id == *id);
  CHECK(obs.resolved_job_id == "1");
  CHECK(obs.status == JobStatus::kPending);
  CHECK(obs.raw_status == "PENDING");
  CHECK(obs.name == "skydeck-r-1-1");

  // A fresh process (after a restart) resolves the stored provisional id too.
  auto restarted = MakeBackend(Options(fake));
  CHECK(QueryOne(*restarted, *id).resolved_job_id == "1");
  CHECK(QueryOne(*restarted, "1").status == JobStatus::kPending);

  SECTION("failed launches become terminal with the reason") {
    fake.Configure({{"launch_hold", false}});
    const std::vector<std::tuple<std::string, std::string, JobStatus>> cases = {
        {"skydeck-nores-", "ResourcesUnavailableError", JobStatus::kFailedNoResource},
        {"skydeck-badcfg-", "InvalidSkyPilotConfigError", JobStatus::kFailedPrechecks},
        {"skydeck-weird-", "SomeNewError", JobStatus::kFailed},
    };
    for (const auto& [prefix, type, status] : cases) {
      INFO(type);
      fake.Script(prefix, {"PENDING"},
                  {{"launch_error", {{"type", type}, {"message", "no H100 in aws"}}}});
      absl::StatusOr<std::string> failed = backend->Launch(Spec(prefix + "1-1"));
      REQUIRE(failed.ok());
      JobObservation f = QueryOne(*backend, *failed);
      CHECK(f.status == status);
      CHECK(f.raw_status == "LAUNCH_FAILED");
      CHECK(f.resolved_job_id.empty());
      CHECK_THAT(f.failure_reason, Catch::Contains(type) && Catch::Contains("no H100"));
      CHECK(f.end_ms > 0);
    }
  }
}

TEST_CASE("Find sees a launch in flight after a crash: no duplicate launch", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  fake.Configure({{"launch_hold", true}});
  std::string launched;
  {
    auto crashed = MakeBackend(Options(fake));
    absl::StatusOr<std::string> id = crashed->Launch(Spec("skydeck-c-1-1"));
    REQUIRE(id.ok());
    launched = *id;
  }  // the daemon dies before storing the id

  auto backend = MakeBackend(Options(fake));
  auto found = backend->Find("skydeck-c-1-1");
  REQUIRE(found.ok());
  REQUIRE(found->size() == 1);
  CHECK((*found)[0].backend_job_id == launched);
  CHECK((*found)[0].status == JobStatus::kLaunching);
  CHECK((*found)[0].name == "skydeck-c-1-1");

  auto none = backend->Find("skydeck-c-2-1");  // no jobs at all: ClusterNotUpError
  REQUIRE(none.ok());
  CHECK(none->empty());

  REQUIRE(fake.ReleaseLaunches() == 1);
  found = backend->Find("skydeck-c-1-1");
  REQUIRE(found.ok());
  REQUIRE(found->size() == 1);
  CHECK((*found)[0].backend_job_id == "1");
  CHECK((*found)[0].status == JobStatus::kPending);
  CHECK(fake.State()["counters"]["launches_by_name"]["skydeck-c-1-1"] == 1);

  SECTION("the launch bound counts launches found in flight") {
    SkyPilotOptions options = Options(fake);
    options.max_concurrent_launches = 1;
    auto bounded = MakeBackend(options);
    REQUIRE(bounded->Launch(Spec("skydeck-c-3-1")).ok());
    auto fresh = MakeBackend(options);
    REQUIRE(fresh->Find("skydeck-c-3-1").ok());
    CHECK(absl::IsResourceExhausted(fresh->Launch(Spec("skydeck-c-4-1")).status()));
  }
}

// Found by tests/chaos: a launch POST the server registers only after the
// restarted daemon looked (a slow server, a delayed packet) was launched a
// second time, and the first managed job ran on, owned by nobody.
TEST_CASE("a launch that reaches the server after a crash is not launched twice", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  // The server acts on a launch 1 s after it arrived.
  fake.Fault({{"slow_ms", 1000}, {"slow_routes", {"/jobs/launch"}}});
  SkyPilotOptions options = Options(fake);
  options.launch_settle = absl::Seconds(30);
  const std::string name = "skydeck-late-1-1";
  auto crashed = MakeBackend(options);
  std::thread sender([&] { (void)crashed->Launch(Spec(name)); });
  // The POST is at the server (after the version check's GET /api/health).
  REQUIRE(fake.WaitFor(
      [](const nlohmann::json& s) { return s["counters"]["api_requests"].get<int>() >= 2; }));

  auto restarted = MakeBackend(options);  // the daemon died and came back
  absl::Status early = restarted->Find(name).status();
  // Not "no such job": the reconciler would launch it again.
  CHECK(absl::IsUnavailable(early));
  CHECK_THAT(std::string(early.message()), Catch::Contains("may still reach"));
  REQUIRE(fake.WaitFor(
      [](const nlohmann::json& s) { return s["counters"]["launch_calls"].get<int>() == 1; }));
  auto found = restarted->Find(name);
  REQUIRE(found.ok());
  CHECK(found->size() == 1);
  sender.join();
  CHECK(fake.State()["counters"]["launches_by_name"][name] == 1);
}

TEST_CASE("a launch whose answer timed out is waited for, one answered or never sent is not",
          "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  SkyPilotOptions options = Options(fake);
  options.launch_settle = absl::Seconds(30);
  options.timeouts.SetCalls(absl::Milliseconds(400));
  auto backend = MakeBackend(options);

  SECTION("timed out: the server may still act on it") {
    fake.Fault({{"slow_ms", 1500}, {"slow_routes", {"/jobs/launch"}}});
    CHECK_FALSE(backend->Launch(Spec("skydeck-w-1-1")).ok());
    CHECK(absl::IsUnavailable(backend->Find("skydeck-w-1-1").status()));
    REQUIRE(fake.WaitFor(
        [](const nlohmann::json& s) { return s["counters"]["launch_calls"].get<int>() == 1; }));
    auto found = backend->Find("skydeck-w-1-1");
    REQUIRE(found.ok());
    CHECK(found->size() == 1);
  }
  SECTION("answered, even with a 500: Find is conclusive at once") {
    fake.Fault({{"http500", 1}, {"http500_routes", {"/jobs/launch"}}});
    CHECK_FALSE(backend->Launch(Spec("skydeck-w-3-1")).ok());
    auto none = backend->Find("skydeck-w-3-1");
    REQUIRE(none.ok());
    CHECK(none->empty());
  }
  SECTION("connection refused: nothing can arrive, Find is conclusive at once") {
    fake.Down();
    CHECK(absl::IsUnavailable(backend->Launch(Spec("skydeck-w-2-1")).status()));
    fake.Up();
    auto none = backend->Find("skydeck-w-2-1");
    REQUIRE(none.ok());
    CHECK(none->empty());
  }
}

TEST_CASE("names a new process never sent are settled once launch_settle passed", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  SkyPilotOptions options = Options(fake);
  options.launch_settle = absl::Milliseconds(300);
  auto backend = MakeBackend(options);
  // Its crashed predecessor may have sent this one just before dying.
  CHECK(absl::IsUnavailable(backend->Find("skydeck-n-1-1").status()));
  absl::SleepFor(absl::Milliseconds(400));  // the rule is about elapsed time
  auto none = backend->Find("skydeck-n-1-1");
  REQUIRE(none.ok());
  CHECK(none->empty());
}

TEST_CASE("Find only adopts SkyDeck's jobs, by exact name", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  auto backend = MakeBackend(Options(fake));
  LaunchResolved(*backend, "other-team-job");
  LaunchResolved(*backend, "skydeck-f-1-1");
  LaunchResolved(*backend, "skydeck-f-1-10");
  int status_calls = fake.Counter("status_calls");
  auto foreign = backend->Find("other-team-job");
  REQUIRE(foreign.ok());
  CHECK(foreign->empty());
  CHECK(fake.Counter("status_calls") == status_calls);  // not even asked

  auto found = backend->Find("skydeck-f-1-1");
  REQUIRE(found.ok());
  REQUIRE(found->size() == 1);
  CHECK((*found)[0].backend_job_id == "2");
  CHECK((*found)[0].name == "skydeck-f-1-1");
}

TEST_CASE("launch requests in flight are bounded", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  fake.Configure({{"launch_hold", true}});
  SkyPilotOptions options = Options(fake);
  options.max_concurrent_launches = 2;
  auto backend = MakeBackend(options);
  REQUIRE(backend->Launch(Spec("skydeck-q-1-1")).ok());
  REQUIRE(backend->Launch(Spec("skydeck-q-2-1")).ok());
  absl::StatusOr<std::string> third = backend->Launch(Spec("skydeck-q-3-1"));
  CHECK(absl::IsResourceExhausted(third.status()));
  CHECK(fake.Counter("launch_calls") == 2);
  // Once a launch finishes (seen by nobody yet), a slot frees up.
  REQUIRE(fake.Control("/_fake/release_launches", {{"count", 1}})["released"] == 1);
  CHECK(backend->Launch(Spec("skydeck-q-3-1")).ok());
  CHECK(fake.Counter("launch_calls") == 3);
}

TEST_CASE("a launch cancelled mid-way leaves no managed job on the server", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  // A real server had created the job when /api/cancel landed; it stayed
  // PENDING for 15+ minutes.
  fake.Configure({{"launch_hold", true}, {"launch_cancel_leaves_job", true}});
  auto backend = MakeBackend(Options(fake));
  absl::StatusOr<std::string> id = backend->Launch(Spec("skydeck-lc-1-1"));
  REQUIRE(id.ok());
  REQUIRE(backend->Cancel(*id).ok());
  nlohmann::json jobs = fake.State()["jobs"];
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0]["status"] == "CANCELLED");  // not PENDING
  // The SkyDeck job follows the managed job, not the request.
  JobObservation obs = QueryOne(*backend, *id);
  CHECK(obs.resolved_job_id == std::to_string(jobs[0]["job_id"].get<int>()));
  CHECK(obs.status == JobStatus::kCancelled);
}

TEST_CASE("a launch request cancelled by someone else is reported as the job it left",
          "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  fake.Configure({{"launch_hold", true}, {"launch_cancel_leaves_job", true}});
  auto backend = MakeBackend(Options(fake));
  absl::StatusOr<std::string> id = backend->Launch(Spec("skydeck-lc-2-1"));
  REQUIRE(id.ok());
  // `sky api cancel` from elsewhere.
  httplib::Client cli("127.0.0.1", fake.port());
  httplib::Headers headers = {{"X-SkyPilot-API-Version", "31"}, {"X-SkyPilot-Version", "x"}};
  nlohmann::json body = {{"request_ids", {ParseLaunchRequestId(*id).value()}},
                         {"env_vars", {{"SKYPILOT_USER_ID", "x"}, {"SKYPILOT_USER", "x"}}}};
  REQUIRE(cli.Post("/api/cancel", headers, body.dump(), "application/json"));
  JobObservation obs = QueryOne(*backend, *id);
  CHECK_FALSE(obs.resolved_job_id.empty());
  CHECK(obs.status == JobStatus::kPending);  // live on the server: not CANCELLED
}

TEST_CASE("a launch refused at the bound is marked never sent", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  fake.Configure({{"launch_hold", true}});
  SkyPilotOptions options = Options(fake);
  options.max_concurrent_launches = 1;
  auto backend = MakeBackend(options);
  REQUIRE(backend->Launch(Spec("skydeck-nb-1-1")).ok());
  absl::StatusOr<std::string> refused = backend->Launch(Spec("skydeck-nb-2-1"));
  REQUIRE(absl::IsResourceExhausted(refused.status()));
  CHECK(WasNeverSent(refused.status()));
  CHECK(fake.Counter("launch_calls") == 1);
}

}  // namespace
}  // namespace skydeck::backend::skypilot
