// Tests of the `skypilot` backend: pure helpers (task YAML, status mapping,
// log filtering, queue parsing), then the backend against the wire-level
// fake API server (tests/skypilot_fake), one fake process per test case.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "daemon/backend/never_sent.h"
#include "daemon/backend/skypilot/backend_job_id.h"
#include "daemon/backend/skypilot/log_filter.h"
#include "daemon/backend/skypilot/managed_job_queue.h"
#include "daemon/backend/skypilot/skypilot_backend.h"
#include "daemon/backend/skypilot/skypilot_options.h"
#include "daemon/backend/skypilot/status_mapping.h"
#include "daemon/backend/skypilot/task_yaml.h"
#include "daemon/backend/skypilot_fake_fixture.h"
#include "yaml-cpp/yaml.h"

namespace skydeck::backend::skypilot {
namespace {

using testing::SkyPilotFake;
using Clock = std::chrono::steady_clock;

constexpr char kUserId[] = "ab12cd34";

SkyPilotFake::Args FakeArgs(int api_version, const std::string& tick_mode = "queue",
                            const std::string& token = "") {
  SkyPilotFake::Args args;
  args.api_version = api_version;
  args.tick_mode = tick_mode;
  args.token = token;
  return args;
}

JobSpec Spec(const std::string& name) {
  JobSpec spec;
  spec.name = name;
  spec.command = "python train.py 'trainer.lr=0.0003' 'name=it'\\''s'";
  spec.nodes = 2;
  spec.gpus_per_node = 4;
  spec.gpu_type = "H100";
  spec.infra = "aws";
  spec.spot = true;
  spec.env = {{"SKYDECK_EXPERIMENT", "exp"}, {"SKYDECK_JOB", "42"}, {"SKYDECK_ATTEMPT", "1"},
              {"SKYDECK_RUN_NAME", "yes"}};
  return spec;
}

SkyPilotOptions Options(const SkyPilotFake& fake) {
  SkyPilotOptions options;
  options.endpoint = fake.endpoint();
  options.user_id = kUserId;
  options.user_name = "skydeck-test";
  options.timeouts.SetCalls(absl::Seconds(10));
  options.timeouts.connect = absl::Seconds(2);
  options.unreachable_backoff_initial = absl::ZeroDuration();
  // Find is conclusive at once unless a test is about launch_settle.
  options.launch_settle = absl::ZeroDuration();
  return options;
}

std::unique_ptr<SkyPilotBackend> MakeBackend(const SkyPilotOptions& options) {
  auto backend = SkyPilotBackend::Create(options);
  REQUIRE(backend.ok());
  return std::move(*backend);
}

// Launches and returns the managed job id once the launch resolved (the
// fake resolves launches at once unless told to hold them).
std::string LaunchResolved(Backend& backend, const std::string& name) {
  absl::StatusOr<std::string> id = backend.Launch(Spec(name));
  REQUIRE(id.ok());
  auto obs = backend.Query({*id});
  REQUIRE(obs.ok());
  REQUIRE(obs->size() == 1);
  REQUIRE_FALSE((*obs)[0].resolved_job_id.empty());
  return (*obs)[0].resolved_job_id;
}

JobObservation QueryOne(Backend& backend, const std::string& id) {
  auto obs = backend.Query({id});
  INFO(obs.status().ToString());
  REQUIRE(obs.ok());
  REQUIRE(obs->size() == 1);
  return (*obs)[0];
}

std::string CollectLogs(Backend& backend, const std::string& id, bool follow, LogTail tail,
                        absl::Status* status) {
  std::string out;
  *status = backend.StreamLogs(
      id, follow, tail,
      [&](absl::string_view chunk) {
        out.append(chunk.data(), chunk.size());
        return true;
      },
      [] { return false; });
  return out;
}

// ----- pure helpers ---------------------------------------------------------

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

TEST_CASE("task YAML carries every field of the spec", "[skypilot]") {
  JobSpec spec = Spec("skydeck-a1-7-2");
  spec.command += "\necho done";
  TaskYamlOptions options;
  options.setup = "pip install -r requirements.txt";
  options.workdir = WorkdirSource{"https://github.com/org/repo.git", "v1.2"};
  options.job_recovery_strategy = "EAGER_NEXT_REGION";
  absl::StatusOr<std::string> yaml = RenderTaskYaml(spec, options);
  REQUIRE(yaml.ok());
  INFO(*yaml);
  std::vector<YAML::Node> docs = YAML::LoadAll(*yaml);
  REQUIRE(docs.size() == 2);
  CHECK(docs[0].size() == 1);
  CHECK(docs[0]["name"].as<std::string>() == "skydeck-a1-7-2");
  const YAML::Node& task = docs[1];
  CHECK(task["name"].as<std::string>() == "skydeck-a1-7-2");
  CHECK(task["num_nodes"].as<int>() == 2);
  CHECK(task["resources"]["accelerators"].as<std::string>() == "H100:4");
  CHECK(task["resources"]["infra"].as<std::string>() == "aws");
  CHECK(task["resources"]["use_spot"].as<bool>());
  CHECK(task["resources"]["job_recovery"]["strategy"].as<std::string>() == "EAGER_NEXT_REGION");
  CHECK(task["resources"]["job_recovery"]["max_restarts_on_errors"].as<int>() == 0);
  CHECK(task["envs"]["SKYDECK_JOB"].as<std::string>() == "42");
  // Quoted, so YAML 1.1 readers (PyYAML) keep "42" and "yes" as strings.
  CHECK(task["envs"]["SKYDECK_JOB"].Tag() == "!");
  CHECK(task["envs"]["SKYDECK_RUN_NAME"].Tag() == "!");
  CHECK(task["run"].as<std::string>() == spec.command);
  CHECK(task["setup"].as<std::string>() == "pip install -r requirements.txt");
  CHECK(task["workdir"]["url"].as<std::string>() == "https://github.com/org/repo.git");
  CHECK(task["workdir"]["ref"].as<std::string>() == "v1.2");
  CHECK(TaskYamlName(*yaml) == "skydeck-a1-7-2");

  SECTION("CPU-only tasks have no accelerators, empty infra is omitted") {
    spec.gpus_per_node = 0;
    spec.infra.clear();
    auto cpu = RenderTaskYaml(spec, {});
    REQUIRE(cpu.ok());
    YAML::Node t = YAML::LoadAll(*cpu)[1];
    CHECK_FALSE(t["resources"]["accelerators"]);
    CHECK_FALSE(t["resources"]["infra"]);
    CHECK_FALSE(t["resources"]["job_recovery"]["strategy"]);
    CHECK_FALSE(t["setup"]);
    CHECK_FALSE(t["workdir"]);
  }
  SECTION("specs SkyPilot cannot take are refused") {
    JobSpec bad = Spec("skydeck-x-1-1");
    bad.gpu_type.clear();
    CHECK(absl::IsInvalidArgument(RenderTaskYaml(bad, {}).status()));
    bad = Spec("skydeck-x-1-1");
    bad.nodes = 0;
    CHECK(absl::IsInvalidArgument(RenderTaskYaml(bad, {}).status()));
    bad = Spec("");
    CHECK(absl::IsInvalidArgument(RenderTaskYaml(bad, {}).status()));
  }
  CHECK(TaskYamlName("{{{not yaml") == "");
}

constexpr char kTemplate[] = R"yaml(name: h100-train
resources:
  accelerators: H100:8
  cloud: aws
  region: us-east-1
  image_id: docker:nvcr.io/nvidia/pytorch:24.01-py3
  disk_size: 512
  job_recovery: FAILOVER
  any_of:
    - infra: aws
    - infra: gcp
      accelerators: {A100-80GB: 8}
envs:
  WANDB_PROJECT: llm
file_mounts:
  /data: s3://bucket/data
  /ckpt:
    name: ckpts
    store: gcs
volumes:
  /mnt/v: vol-1
config:
  kubernetes:
    provision_timeout: 600
)yaml";

// The task document of a rendering.
YAML::Node Task(const JobSpec& spec, const TaskYamlOptions& options = {},
                SecretMode secrets = SecretMode::kValues) {
  absl::StatusOr<std::string> yaml = RenderTaskYaml(spec, options, secrets);
  REQUIRE(yaml.ok());
  INFO(*yaml);
  std::vector<YAML::Node> docs = YAML::LoadAll(*yaml);
  REQUIRE(docs.size() == 2);
  return docs[1];
}

TEST_CASE("a template's fields come first, the experiment's on top", "[skypilot][template]") {
  JobSpec spec = Spec("skydeck-a1-7-2");
  spec.template_yaml = kTemplate;
  spec.gpus_per_node = 0;
  spec.gpu_type.clear();
  spec.infra.clear();
  spec.spot = false;
  spec.env["WANDB_PROJECT"] = "from-experiment";  // the planner merged these
  spec.secrets = {{"WANDB_API_KEY", "s3cr3t"}};
  YAML::Node task = Task(spec);
  const YAML::Node& r = task["resources"];
  CHECK(r["accelerators"].as<std::string>() == "H100:8");
  CHECK(r["cloud"].as<std::string>() == "aws");
  CHECK(r["image_id"].as<std::string>() == "docker:nvcr.io/nvidia/pytorch:24.01-py3");
  CHECK(r["disk_size"].as<int>() == 512);
  CHECK(r["any_of"].size() == 2);
  CHECK(r["any_of"][1]["accelerators"]["A100-80GB"].as<int>() == 8);
  CHECK_FALSE(r["use_spot"].as<bool>());
  CHECK(r["job_recovery"]["strategy"].as<std::string>() == "FAILOVER");
  CHECK(r["job_recovery"]["max_restarts_on_errors"].as<int>() == 0);
  CHECK(task["envs"]["WANDB_PROJECT"].as<std::string>() == "from-experiment");
  CHECK(task["secrets"]["WANDB_API_KEY"].as<std::string>() == "s3cr3t");
  CHECK(task["file_mounts"]["/data"].as<std::string>() == "s3://bucket/data");
  CHECK(task["file_mounts"]["/ckpt"]["store"].as<std::string>() == "gcs");
  CHECK(task["volumes"]["/mnt/v"].as<std::string>() == "vol-1");
  CHECK(task["config"]["kubernetes"]["provision_timeout"].as<int>() == 600);
  CHECK(task["num_nodes"].as<int>() == 2);
  CHECK(task["name"].as<std::string>() == "skydeck-a1-7-2");  // never the template's
  CHECK(task["run"].as<std::string>() == spec.command);

  SECTION("gpu type and count set every accelerator") {
    spec.gpus_per_node = 4;
    spec.gpu_type = "H200";
    YAML::Node t = Task(spec);
    CHECK(t["resources"]["accelerators"].as<std::string>() == "H200:4");
    CHECK_FALSE(t["resources"]["any_of"][1]["accelerators"]);
  }
  SECTION("a count alone changes the count of the template's accelerators") {
    spec.gpus_per_node = 2;
    YAML::Node t = Task(spec);
    CHECK(t["resources"]["accelerators"].as<std::string>() == "H100:2");
    CHECK(t["resources"]["any_of"][1]["accelerators"]["A100-80GB"].as<int>() == 2);
  }
  SECTION("a type alone changes the type, keeping the count") {
    spec.gpu_type = "H200";
    YAML::Node t = Task(spec);
    CHECK(t["resources"]["accelerators"].as<std::string>() == "H200:8");
  }
  SECTION("infra replaces the template's cloud and region; spot forces use_spot") {
    spec.infra = "gcp/us-central1";
    spec.spot = true;
    YAML::Node t = Task(spec);
    CHECK(t["resources"]["infra"].as<std::string>() == "gcp/us-central1");
    CHECK_FALSE(t["resources"]["cloud"]);
    CHECK_FALSE(t["resources"]["region"]);
    CHECK(t["resources"]["use_spot"].as<bool>());
  }
  SECTION("recorded tasks show no secret value") {
    absl::StatusOr<std::string> shown = RenderTaskYaml(spec, {}, SecretMode::kRedacted);
    REQUIRE(shown.ok());
    CHECK_FALSE(absl::StrContains(*shown, "s3cr3t"));
    CHECK(YAML::LoadAll(*shown)[1]["secrets"]["WANDB_API_KEY"].as<std::string>() == "<redacted>");
  }
}

TEST_CASE("set-form and list-form accelerators get the experiment's count",
          "[skypilot][template]") {
  JobSpec spec = Spec("skydeck-a1-7-2");
  spec.gpu_type.clear();
  spec.gpus_per_node = 4;
  spec.template_yaml = "resources:\n  accelerators: '{A100:8, H100:8}'\n";
  CHECK(Task(spec)["resources"]["accelerators"].as<std::string>() == "{A100:4, H100:4}");
  spec.template_yaml = "resources:\n  accelerators: [A100:8, H100]\n";
  YAML::Node list = Task(spec)["resources"]["accelerators"];
  CHECK(list[0].as<std::string>() == "A100:4");
  CHECK(list[1].as<std::string>() == "H100:4");
}

TEST_CASE("GPUs without a type need a template accelerator", "[skypilot][template]") {
  JobSpec spec = Spec("skydeck-a1-7-2");
  spec.gpu_type.clear();
  spec.template_yaml = "resources:\n  cpus: 8\n";
  absl::Status refused = RenderTaskYaml(spec, {}).status();
  CHECK(absl::IsInvalidArgument(refused));
  CHECK(absl::StrContains(refused.message(), "--gpu-type"));
}

TEST_CASE("a local workdir is sent only to an API server on this machine",
          "[skypilot][template]") {
  JobSpec spec = Spec("skydeck-a1-7-2");
  spec.workdir = {Workdir::Kind::kLocal, "/home/me/project", "", ""};
  CHECK(Task(spec)["workdir"].as<std::string>() == "/home/me/project");
  TaskYamlOptions remote;
  remote.local_workdir_refusal = "not on this machine";
  absl::Status refused = RenderTaskYaml(spec, remote).status();
  CHECK(absl::IsInvalidArgument(refused));
  CHECK(refused.message() == "workdir /home/me/project: not on this machine");
  // A git workdir goes anywhere; the experiment's beats the daemon's.
  spec.workdir = {Workdir::Kind::kGit, "", "https://github.com/org/exp.git", "feature/x"};
  remote.workdir = WorkdirSource{"https://github.com/org/daemon.git", "main"};
  YAML::Node git = Task(spec, remote)["workdir"];
  CHECK(git["url"].as<std::string>() == "https://github.com/org/exp.git");
  CHECK(git["ref"].as<std::string>() == "feature/x");

  SkyPilotOptions remote_options;
  remote_options.endpoint = "http://10.1.2.3:46580";
  remote_options.user_id = kUserId;
  auto backend = SkyPilotBackend::Create(remote_options);
  REQUIRE(backend.ok());
  spec.workdir = {Workdir::Kind::kLocal, "/home/me/project", "", ""};
  absl::Status remote_refusal = (*backend)->RenderTask(spec).status();
  CHECK(absl::IsInvalidArgument(remote_refusal));
  CHECK(absl::StrContains(remote_refusal.message(),
                          "http://10.1.2.3:46580 is not on this machine"));
  SkyPilotOptions local_options = remote_options;
  local_options.endpoint = "http://127.0.0.1:46580";
  auto local = SkyPilotBackend::Create(local_options);
  REQUIRE(local.ok());
  CHECK((*local)->RenderTask(spec).ok());
}

TEST_CASE("every managed-job status maps, unknown strings are live", "[skypilot]") {
  const std::vector<std::pair<std::string, JobStatus>> table = {
      {"PENDING", JobStatus::kPending},
      {"SUBMITTED", JobStatus::kSubmitted},
      {"STARTING", JobStatus::kStarting},
      {"RUNNING", JobStatus::kRunning},
      {"RECOVERING", JobStatus::kRecovering},
      {"CANCELLING", JobStatus::kCancelling},
      {"SUCCEEDED", JobStatus::kSucceeded},
      {"CANCELLED", JobStatus::kCancelled},
      {"FAILED", JobStatus::kFailed},
      {"FAILED_SETUP", JobStatus::kFailedSetup},
      {"FAILED_PRECHECKS", JobStatus::kFailedPrechecks},
      {"FAILED_NO_RESOURCE", JobStatus::kFailedNoResource},
      {"FAILED_CONTROLLER", JobStatus::kFailedController},
  };
  for (const auto& [raw, status] : table) {
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
       {{{"job_id", 2}, {"job_name", "b"}, {"status", "RUNNING"}, {"new_key", {1, 2}},
         {"start_at", 1700000000.5}, {"end_at", nullptr}, {"recovery_count", nullptr}},
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
       {{"job_id", 5}, {"task_id", 1}, {"job_name", "p"}, {"status", "RUNNING"},
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

// ----- against the fake API server --------------------------------------------

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
  CHECK(fake.Counter("queue_calls") == 0);  // nothing to ask the queue yet
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
TEST_CASE("a launch that reaches the server after a crash is not launched twice",
          "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  // The server acts on a launch 1 s after it arrived.
  fake.Fault({{"slow_ms", 1000}, {"slow_routes", {"/jobs/launch"}}});
  SkyPilotOptions options = Options(fake);
  options.launch_settle = absl::Seconds(30);
  const std::string name = "skydeck-late-1-1";
  auto crashed = MakeBackend(options);
  std::thread sender([&] { (void)crashed->Launch(Spec(name)); });
  // The POST is at the server (after the version check's GET /api/health).
  REQUIRE(fake.WaitFor([](const nlohmann::json& s) {
    return s["counters"]["api_requests"].get<int>() >= 2;
  }));

  auto restarted = MakeBackend(options);  // the daemon died and came back
  absl::Status early = restarted->Find(name).status();
  // Not "no such job": the reconciler would launch it again.
  CHECK(absl::IsUnavailable(early));
  CHECK_THAT(std::string(early.message()), Catch::Contains("may still reach"));
  REQUIRE(fake.WaitFor([](const nlohmann::json& s) {
    return s["counters"]["launch_calls"].get<int>() == 1;
  }));
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
    REQUIRE(fake.WaitFor([](const nlohmann::json& s) {
      return s["counters"]["launch_calls"].get<int>() == 1;
    }));
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

TEST_CASE("names a new process never sent are settled once launch_settle passed",
          "[skypilot]") {
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
  const std::vector<std::pair<std::string, JobStatus>> statuses = {
      {"PENDING", JobStatus::kPending},
      {"SUBMITTED", JobStatus::kSubmitted},
      {"STARTING", JobStatus::kStarting},
      {"RUNNING", JobStatus::kRunning},
      {"RECOVERING", JobStatus::kRecovering},
      {"CANCELLING", JobStatus::kCancelling},
      {"SUCCEEDED", JobStatus::kSucceeded},
      {"CANCELLED", JobStatus::kCancelled},
      {"FAILED", JobStatus::kFailed},
      {"FAILED_SETUP", JobStatus::kFailedSetup},
      {"FAILED_PRECHECKS", JobStatus::kFailedPrechecks},
      {"FAILED_NO_RESOURCE", JobStatus::kFailedNoResource},
      {"FAILED_CONTROLLER", JobStatus::kFailedController},
      {"HIBERNATING", JobStatus::kUnknown},
  };
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
  fake.Script("skydeck-life-",
              {"PENDING", "STARTING", "PENDING", "STARTING", "RUNNING", "RECOVERING", "RUNNING",
               "FAILED"},
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
    REQUIRE(fake.WaitFor([&](const nlohmann::json& s) {
      return s["counters"]["logs_calls"].get<int>() > calls;
    }));
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
  CHECK(CollectLogs(*backend, job, false, {.lines = 0, .bytes = 1000}, &status) ==
        line1 + last2);
  CHECK(status.ok());

  // The byte bound applies on top of the line bound.
  options.default_log_tail_bytes = 10;
  auto bytes_bounded = MakeBackend(options);
  CHECK(CollectLogs(*bytes_bounded, job, false, LogTail{}, &status) ==
        last2.substr(last2.size() - 10));
  CHECK(status.ok());
}

TEST_CASE("SkyPilot is polled every 30 s unless told otherwise", "[skypilot]") {
  SkyPilotOptions options;
  options.user_id = kUserId;
  auto backend = MakeBackend(options);
  CHECK(backend->DefaultPollIntervalMs() == 30000);
}

TEST_CASE("fault: server down is UNAVAILABLE and converges without duplicates", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  auto backend = MakeBackend(Options(fake));
  std::string job = LaunchResolved(*backend, "skydeck-d-1-1");
  fake.Down();
  auto polled = backend->Query({job});
  CHECK(absl::IsUnavailable(polled.status()));
  absl::StatusOr<std::string> launched = backend->Launch(Spec("skydeck-d-2-1"));
  CHECK(absl::IsUnavailable(launched.status()));
  CHECK(absl::IsUnavailable(backend->Find("skydeck-d-2-1").status()));
  CHECK(absl::IsUnavailable(backend->Cancel(job)));
  CHECK_FALSE(backend->Probe().reachable);

  fake.Up();
  CHECK(QueryOne(*backend, job).status == JobStatus::kPending);
  // As the reconciler does after a failed launch: resolve by name first.
  auto found = backend->Find("skydeck-d-2-1");
  REQUIRE(found.ok());
  CHECK(found->empty());
  REQUIRE(backend->Launch(Spec("skydeck-d-2-1")).ok());
  CHECK(fake.State()["counters"]["launches_by_name"]["skydeck-d-2-1"] == 1);
}

TEST_CASE("fault: an unreachable server is retried after a jittered backoff", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  SkyPilotOptions options = Options(fake);
  options.unreachable_backoff_initial = absl::Seconds(30);
  auto backend = MakeBackend(options);
  std::string job = LaunchResolved(*backend, "skydeck-b-1-1");
  fake.Down();
  CHECK(absl::IsUnavailable(backend->Query({job}).status()));
  fake.Up();
  int health = fake.Counter("health_calls");
  int queue = fake.Counter("queue_calls");
  // Within the backoff: refused locally, the server is not bothered.
  absl::Status refused = backend->Query({job}).status();
  CHECK(absl::IsUnavailable(refused));
  CHECK_THAT(std::string(refused.message()), Catch::Contains("not retrying"));
  CHECK(fake.Counter("health_calls") == health);
  CHECK(fake.Counter("queue_calls") == queue);
  // A successful health probe re-opens the way at once.
  CHECK(backend->Probe().reachable);
  CHECK(backend->Query({job}).ok());
}

TEST_CASE("fault: HTTP 500s and failed requests map to retryable codes", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  auto backend = MakeBackend(Options(fake));
  std::string job = LaunchResolved(*backend, "skydeck-e-1-1");

  fake.Fault({{"http500", 1}, {"http500_routes", {"/jobs/launch"}}});
  absl::StatusOr<std::string> launched = backend->Launch(Spec("skydeck-e-2-1"));
  CHECK(absl::IsInternal(launched.status()));
  CHECK(fake.Counter("launch_calls") == 1);
  CHECK(backend->Launch(Spec("skydeck-e-2-1")).ok());  // the fault was one-shot

  fake.Fault({{"http500", -1}, {"http500_routes", {"/jobs/queue"}}});
  CHECK(absl::IsInternal(backend->Query({job}).status()));
  fake.Fault({{"clear", true}});

  fake.Fault({{"queue_error", {{"type", "RuntimeError"}, {"message", "controller crashed"}}}});
  absl::Status failed = backend->Query({job}).status();
  CHECK(absl::IsInternal(failed));
  CHECK_THAT(std::string(failed.message()),
             Catch::Contains("RuntimeError") && Catch::Contains("controller crashed"));
  fake.Fault({{"queue_error", {{"type", "ValueError"}, {"message", "bad"}}}});
  CHECK(absl::IsInvalidArgument(backend->Query({job}).status()));
  fake.Fault({{"clear", true}});
  CHECK(backend->Query({job}).ok());
}

TEST_CASE("fault: malformed or truncated JSON is an error, never a crash", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  auto backend = MakeBackend(Options(fake));
  std::string job = LaunchResolved(*backend, "skydeck-j-1-1");
  for (const char* kind : {"truncated", "garbage", "return_value"}) {
    INFO(kind);
    fake.Fault({{"malformed", kind}, {"malformed_count", 1}});
    absl::Status s = backend->Query({job}).status();
    CHECK(absl::IsInternal(s));
    CHECK(backend->Query({job}).ok());  // one-shot: the next poll works
  }
  fake.Fault({{"malformed", "truncated"}, {"malformed_count", 1}});
  absl::StatusOr<std::string> id = backend->Launch(Spec("skydeck-j-2-1"));
  REQUIRE(id.ok());  // launching never reads /api/get
  CHECK(absl::IsInternal(backend->Query({*id}).status()));  // resolving it does
  CHECK_FALSE(QueryOne(*backend, *id).resolved_job_id.empty());
}

TEST_CASE("fault: unknown fields are ignored", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  fake.Fault({{"extra_fields", true}});
  auto backend = MakeBackend(Options(fake));
  CHECK(backend->Probe().error.empty());
  std::string job = LaunchResolved(*backend, "skydeck-u-1-1");
  fake.Tick(2);
  JobObservation obs = QueryOne(*backend, job);
  CHECK(obs.status == JobStatus::kRunning);
  CHECK(obs.name == "skydeck-u-1-1");
  auto found = backend->Find("skydeck-u-1-1");
  REQUIRE(found.ok());
  CHECK(found->size() == 1);
}

TEST_CASE("fault: slow answers time out instead of hanging", "[skypilot]") {
  SkyPilotFake fake(FakeArgs(31, "explicit"));
  SkyPilotOptions options = Options(fake);
  options.timeouts.SetCalls(absl::Milliseconds(400));
  auto backend = MakeBackend(options);
  std::string job = LaunchResolved(*backend, "skydeck-s-1-1");

  fake.Fault({{"slow_ms", 5000}});
  auto started = Clock::now();
  absl::Status slow = backend->Query({job}).status();
  CHECK((absl::IsDeadlineExceeded(slow) || absl::IsUnavailable(slow)));
  // It gave up instead of waiting for the (much later) answer.
  CHECK(Clock::now() - started < std::chrono::milliseconds(5000));

  // The server may still act on a launch whose answer timed out.
  fake.Fault({{"slow_ms", 1000}, {"slow_routes", {"/jobs/launch"}}});
  absl::StatusOr<std::string> launched = backend->Launch(Spec("skydeck-s-2-1"));
  CHECK_FALSE(launched.ok());
  fake.Fault({{"clear", true}});
  REQUIRE(fake.WaitFor([](const nlohmann::json& s) {
    return s["counters"]["launch_calls"].get<int>() == 2;
  }));
  auto found = backend->Find("skydeck-s-2-1");
  REQUIRE(found.ok());
  REQUIRE(found->size() == 1);  // found, so the reconciler will not launch it again
  CHECK(fake.State()["counters"]["launches_by_name"]["skydeck-s-2-1"] == 1);
}

TEST_CASE("the bearer token is sent, required, and never logged", "[skypilot]") {
  const std::string token = "sky_secret_token_value";
  SkyPilotFake fake(FakeArgs(31, "explicit", token));

  // Capture everything the backend logs to stderr meanwhile.
  std::string log_path = "/tmp/skypilot_backend_log_" + std::to_string(getpid());
  std::fflush(stderr);
  int saved = dup(STDERR_FILENO);
  int log_fd = open(log_path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
  REQUIRE(log_fd >= 0);
  dup2(log_fd, STDERR_FILENO);

  SkyPilotOptions options = Options(fake);
  options.token = token;
  auto backend = MakeBackend(options);
  absl::StatusOr<std::string> id = backend->Launch(Spec("skydeck-t-1-1"));
  auto polled = backend->Query({id.ok() ? *id : ""});

  SkyPilotOptions anonymous = Options(fake);
  auto without = MakeBackend(anonymous);
  absl::Status refused = without->Query({"1"}).status();
  BackendInfo info = without->Probe();

  SkyPilotOptions wrong_options = Options(fake);
  wrong_options.token = "sky_wrong";
  auto wrong = MakeBackend(wrong_options);
  absl::Status wrong_status = wrong->Launch(Spec("skydeck-t-2-1")).status();
  fake.Down();
  absl::Status down = backend->Query({"1"}).status();

  std::fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(log_fd);
  std::string logged;
  {
    FILE* f = std::fopen(log_path.c_str(), "r");
    REQUIRE(f != nullptr);
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) logged.append(buf, n);
    std::fclose(f);
  }
  std::remove(log_path.c_str());

  REQUIRE(id.ok());
  REQUIRE(polled.ok());
  CHECK(polled->size() == 1);
  CHECK(absl::IsUnauthenticated(refused));
  CHECK_THAT(std::string(refused.message()), Catch::Contains("token"));
  CHECK(info.reachable);
  CHECK_THAT(info.error, Catch::Contains("authentication"));
  CHECK(absl::IsUnauthenticated(wrong_status));
  CHECK(absl::IsUnavailable(down));
  CHECK_FALSE(logged.empty());  // the backend did log, e.g. the launch
  CHECK_FALSE(absl::StrContains(logged, token));
  for (const absl::Status& s : {refused, wrong_status, down}) {
    CHECK_FALSE(absl::StrContains(s.ToString(), token));
  }
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

// ----- what a real API server did (issue 16), reproduced by the fake ---------

constexpr char kNoCloudReason[] =
    "[sky.exceptions.NoCloudAccessError] Cloud access is not set up. Run: \x1b[1msky check\x1b[0m";

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
