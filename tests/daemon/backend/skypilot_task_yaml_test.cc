// The task YAML SkyDeck sends (task_yaml.h): the spec's fields, templates
// under the experiment's, accelerators, workdirs.
// Shared helpers: skypilot_backend_fixture.h.
#include <catch2/catch.hpp>

#include "daemon/backend/skypilot_backend_fixture.h"

namespace skydeck::backend::skypilot {
namespace {

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

TEST_CASE("a local workdir is sent only to an API server on this machine", "[skypilot][template]") {
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
  CHECK(
      absl::StrContains(remote_refusal.message(), "http://10.1.2.3:46580 is not on this machine"));
  SkyPilotOptions local_options = remote_options;
  local_options.endpoint = "http://127.0.0.1:46580";
  auto local = SkyPilotBackend::Create(local_options);
  REQUIRE(local.ok());
  CHECK((*local)->RenderTask(spec).ok());
}

// The contract of task_yaml.h: what SkyDeck writes reads back exactly,
// as a string, whatever it holds.
TEST_CASE("task YAML: written strings read back exactly, as strings", "[skypilot][task_yaml]") {
  const std::vector<std::string> hostile = {"yes",
                                            "no",
                                            "null",
                                            "~",
                                            "1e3",
                                            "0x10",
                                            "010",
                                            ".inf",
                                            "true",
                                            "a: b",
                                            "- item",
                                            "# not a comment",
                                            "'single'",
                                            "\"double\"",
                                            "back\\slash",
                                            "line one\nline two\n",
                                            "  leading and trailing  ",
                                            "tab\there",
                                            "{flow: map}",
                                            "[list]",
                                            "&anchor *alias",
                                            "!tag value",
                                            "%directive",
                                            "@at `tick`",
                                            "",
                                            "unicode: é ✓ 🚀",
                                            std::string("ctrl\x01\x7f", 6)};
  for (const std::string& value : hostile) {
    INFO("value: " << value);
    JobSpec spec = Spec("skydeck-esc-1-1");
    spec.command = "echo " + value;
    spec.env = {{"VALUE", value}};
    spec.secrets = {{"SECRET", value}};
    YAML::Node task = Task(spec);
    CHECK(task["run"].as<std::string>() == spec.command);
    CHECK(task["envs"]["VALUE"].as<std::string>() == value);
    CHECK(task["envs"]["VALUE"].Tag() == "!");  // quoted: never a bool, number or null
    CHECK(task["secrets"]["SECRET"].as<std::string>() == value);
  }
}

TEST_CASE("task YAML: redacted renderings never hold a secret's value", "[skypilot][task_yaml]") {
  JobSpec spec = Spec("skydeck-sec-1-1");
  spec.secrets = {{"WANDB_API_KEY", "s3cr3t-value"}, {"HF_TOKEN", "hf-value"}};
  absl::StatusOr<std::string> sent = RenderTaskYaml(spec, {}, SecretMode::kValues);
  absl::StatusOr<std::string> shown = RenderTaskYaml(spec, {}, SecretMode::kRedacted);
  REQUIRE(sent.ok());
  REQUIRE(shown.ok());
  CHECK(absl::StrContains(*sent, "s3cr3t-value"));
  CHECK_FALSE(absl::StrContains(*shown, "s3cr3t-value"));
  CHECK_FALSE(absl::StrContains(*shown, "hf-value"));
  YAML::Node task = YAML::LoadAll(*shown)[1];
  CHECK(task["secrets"]["WANDB_API_KEY"].as<std::string>() == kRedactedSecret);
  CHECK(task["secrets"]["HF_TOKEN"].as<std::string>() == kRedactedSecret);
  // Everything else is the same document.
  YAML::Node sent_task = YAML::LoadAll(*sent)[1];
  CHECK(sent_task["run"].as<std::string>() == task["run"].as<std::string>());
  CHECK(sent_task["envs"].size() == task["envs"].size());
}

TEST_CASE("task YAML: the managed job's name is the first document's", "[skypilot][task_yaml]") {
  absl::StatusOr<std::string> yaml = RenderTaskYaml(Spec("skydeck-name-3-9"), {});
  REQUIRE(yaml.ok());
  CHECK(TaskYamlName(*yaml) == "skydeck-name-3-9");
  CHECK(TaskYamlName("name: only-one\n") == "only-one");
  CHECK(TaskYamlName("run: echo\n") == "");
  CHECK(TaskYamlName("- a list\n") == "");
  CHECK(TaskYamlName("") == "");
}

TEST_CASE("task YAML: code snapshots are named once each, sorted", "[skypilot][task_yaml]") {
  CHECK(SnapshotServerPath("9f3c") == "/skydeck/snapshots/9f3c");
  JobSpec spec = Spec("skydeck-snap-1-1");
  CHECK(SnapshotIdsOf(spec).empty());
  spec.workdir.kind = Workdir::Kind::kLocal;
  spec.workdir.path = "/home/me/code";
  spec.workdir_snapshot = CodeRef{"bbbb", ""};
  spec.mount_snapshots = {{"/home/me/data", CodeRef{"aaaa", ""}},
                          {"/home/me/config.yaml", CodeRef{"bbbb", "config.yaml"}},
                          {"/home/me/none", CodeRef{}}};
  CHECK(SnapshotIdsOf(spec) == std::vector<std::string>{"aaaa", "bbbb"});
  // A git workdir has no snapshot, whatever the field holds.
  spec.workdir.kind = Workdir::Kind::kGit;
  spec.mount_snapshots.clear();
  CHECK(SnapshotIdsOf(spec).empty());
}

}  // namespace
}  // namespace skydeck::backend::skypilot
