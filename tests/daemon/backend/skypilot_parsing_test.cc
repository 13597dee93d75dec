// Pure helpers of the `skypilot` backend: endpoint and identity, backend
// job ids, status mapping, log control lines, queue answers, request names.
// Shared helpers: skypilot_backend_fixture.h.
#include <catch2/catch.hpp>

#include "daemon/backend/skypilot_backend_fixture.h"

namespace skydeck::backend::skypilot {
namespace {

TEST_CASE("endpoint, token and user id resolve like SkyPilot's client", "[skypilot]") {
  CHECK(ResolveEndpoint("http://api:1234/", "http://env:1") == "http://api:1234");
  CHECK(ResolveEndpoint("", " http://env:1 ") == "http://env:1");
  CHECK(ResolveEndpoint("", nullptr) == "http://127.0.0.1:46580");
  CHECK(ResolveEndpoint("  ", "") == "http://127.0.0.1:46580");

  CHECK(*LoadToken("", "sky_env\n") == "sky_env");
  CHECK(*LoadToken("", nullptr) == "");
  std::string path = "/tmp/skypilot_token_test_" + std::to_string(getpid());
  {
    FILE* f = std::fopen(path.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs("  sky_from_file\n", f);
    std::fclose(f);
  }
  CHECK(*LoadToken(path, "sky_env") == "sky_from_file");
  std::remove(path.c_str());
  CHECK(absl::IsNotFound(LoadToken(path, "sky_env").status()));

  std::string id = StableUserId("installation-1");
  CHECK(id.size() == 8);
  CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(id == StableUserId("installation-1"));
  CHECK(id != StableUserId("installation-2"));
}

TEST_CASE("backend job ids: managed job numbers and provisional launch ids", "[skypilot]") {
  CHECK(ParseManagedJobId("17") == 17);
  CHECK_FALSE(ParseManagedJobId(""));
  CHECK_FALSE(ParseManagedJobId("-1"));
  CHECK_FALSE(ParseManagedJobId("17a"));
  CHECK_FALSE(ParseManagedJobId("request:17"));
  std::string uuid = "0f0fedaa-33a9-4675-ad78-38907bf0a2d6";
  CHECK(LaunchId(uuid) == "request:" + uuid);
  CHECK(ParseLaunchRequestId(LaunchId(uuid)) == uuid);
  CHECK_FALSE(ParseLaunchRequestId("request:"));
  CHECK_FALSE(ParseLaunchRequestId("request:ab&all=1"));
  CHECK_FALSE(ParseLaunchRequestId(uuid));
  CHECK(JobIdFromLaunchResult({{"job_id", 3}, {"handle", "x"}}) == 3);
  CHECK(JobIdFromLaunchResult({{"job_id", {4, 5}}}) == 4);
  CHECK(JobIdFromLaunchResult(nlohmann::json(6)) == 6);
  CHECK_FALSE(JobIdFromLaunchResult({{"job_id", nullptr}}));
  CHECK_FALSE(JobIdFromLaunchResult(nlohmann::json("7")));
}

TEST_CASE("every managed-job status maps, unknown strings are live", "[skypilot]") {
  for (const auto& [raw, status] : ManagedJobStatusTable()) {
    INFO(raw);
    CHECK(MapManagedJobStatus(raw) == status);
  }
  for (const char* unknown : {"PAUSED", "running", "", "LOST", "UNKNOWN"}) {
    INFO(unknown);
    CHECK(MapManagedJobStatus(unknown) == JobStatus::kUnknown);
    CHECK_FALSE(IsTerminal(MapManagedJobStatus(unknown)));
  }
  CHECK(MapRequestPhase("WAITING") == RequestPhase::kActive);
  CHECK(MapRequestPhase("NEW_STATE") == RequestPhase::kActive);
  CHECK(MapRequestPhase("SUCCEEDED") == RequestPhase::kSucceeded);
}

TEST_CASE("sky-payload control lines are stripped across chunk boundaries", "[skypilot]") {
  SkyPayloadFilter f;
  std::string out;
  out += f.Feed("line 1\nline 2\n<sky-pay");
  out += f.Feed("load type=\"rich_status\">{\"a\": 1}</sky-pay");
  out += f.Feed("load>\npartial");
  out += f.Feed(" line\n<sky-payload>\"\"</sky-payload>\n");
  out += f.Feed("no newline at end");
  out += f.Finish();
  CHECK(out == "line 1\nline 2\npartial line\nno newline at end");
  CHECK(IsSkyPayloadLine("noise <sky-payload>{}</sky-payload>\n"));
  CHECK_FALSE(IsSkyPayloadLine("a <sky-payload> mentioned in text\n"));

  TailBuffer tail(5);
  tail.Append("abc");
  tail.Append("defgh");
  tail.Append("ij");
  CHECK(tail.Take() == "fghij");
}

TEST_CASE("queue answers parse tolerantly", "[skypilot]") {
  nlohmann::json v2 = {
      {"jobs",
       {{{"job_id", 2},
         {"job_name", "b"},
         {"status", "RUNNING"},
         {"new_key", {1, 2}},
         {"start_at", 1700000000.5},
         {"end_at", nullptr},
         {"recovery_count", nullptr}},
        {{"job_id", 1}, {"job_name", "a"}, {"status", "SUCCEEDED"}, {"end_at", 1700000100}},
        {{"job_name", "no id"}, {"status", "RUNNING"}},
        "not an object"}},
      {"total", 3},
      {"unknown", true}};
  auto records = ParseQueueResult(v2);
  REQUIRE(records.ok());
  REQUIRE(records->size() == 2);
  CHECK((*records)[0].job_id == 1);
  CHECK((*records)[1].name == "b");
  JobObservation obs = ToObservation((*records)[1]);
  CHECK(obs.backend_job_id == "2");
  CHECK(obs.status == JobStatus::kRunning);
  CHECK(obs.start_ms == 1700000000500);
  CHECK(obs.end_ms == 0);

  nlohmann::json v1 = nlohmann::json::array(
      {{{"job_id", 5}, {"task_id", 0}, {"job_name", "p"}, {"status", "SUCCEEDED"}},
       {{"job_id", 5},
        {"task_id", 1},
        {"job_name", "p"},
        {"status", "RUNNING"},
        {"recovery_count", 2}}});
  records = ParseQueueResult(v1);
  REQUIRE(records.ok());
  REQUIRE(records->size() == 1);
  CHECK((*records)[0].status == "RUNNING");  // the task in progress
  CHECK((*records)[0].recovery_count == 2);

  CHECK(absl::IsInternal(ParseQueueResult(nlohmann::json("text")).status()));
  CHECK(absl::IsInternal(ParseQueueResult(nlohmann::json{{"jobs", 3}}).status()));

  QueueCall v2_call = BuildQueueCall(31, std::vector<int64_t>{7, 8}, std::nullopt);
  CHECK(v2_call.route == "/jobs/queue/v2");
  CHECK(v2_call.body["refresh"] == false);
  CHECK(v2_call.body["job_ids"] == nlohmann::json({7, 8}));
  QueueCall v1_call = BuildQueueCall(17, std::nullopt, std::string("x"));
  CHECK(v1_call.route == "/jobs/queue");
  CHECK_FALSE(v1_call.body.contains("fields"));
  CHECK_FALSE(v1_call.body.contains("job_ids"));
}

TEST_CASE("SkyPilot's request names and endpoint", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  auto backend = MakeBackend(Options(fake));
  CHECK(backend->Probe().endpoint == fake.endpoint());
  RequestRecord real;
  real.name = "sky.jobs.launch";  // as a real server (API 31) lists it
  CHECK(IsJobsLaunch(real));
  real.name = "sky.jobs.queue_v2";
  CHECK_FALSE(IsJobsLaunch(real));
}

}  // namespace
}  // namespace skydeck::backend::skypilot
