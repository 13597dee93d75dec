#include "common/model/task_template.h"

#include <catch2/catch.hpp>

#include "absl/strings/match.h"

namespace skydeck {
namespace {

// A SkyPilot user's task.yaml (without run and num_nodes).
constexpr char kFull[] = R"yaml(name: h100-train
resources:
  accelerators: H100:8
  cpus: 32+
  memory: 256+
  disk_size: 512
  image_id: docker:nvcr.io/nvidia/pytorch:24.01-py3
  use_spot: true
  job_recovery: EAGER_NEXT_REGION
  any_of:
    - infra: aws
    - infra: gcp/us-central1
      accelerators: {A100-80GB: 8}
  ports: [8080]
envs:
  WANDB_PROJECT: llm
  NCCL_DEBUG: INFO
  RUN_TAG:
secrets:
  WANDB_API_KEY: null
  HF_TOKEN:
file_mounts:
  /data: s3://my-bucket/data
  /ckpt:
    name: my-ckpts
    store: gcs
    mode: MOUNT
volumes:
  /mnt/vol: my-volume
workdir:
  url: https://github.com/org/repo.git
  ref: v1.2
setup: |
  pip install -r requirements.txt
config:
  kubernetes:
    pod_config:
      metadata:
        labels: {team: nlp}
)yaml";

TEST_CASE("a SkyPilot task without run and num_nodes is a template", "[template]") {
  absl::StatusOr<TaskTemplate> t = ParseTaskTemplate(kFull);
  REQUIRE(t.ok());
  CHECK(t->name == "h100-train");
  CHECK(t->envs.at("WANDB_PROJECT") == "llm");
  CHECK_FALSE(t->envs.at("RUN_TAG").has_value());  // the experiment must set it
  CHECK(t->secrets == std::vector<std::string>{"WANDB_API_KEY", "HF_TOKEN"});
  CHECK(t->setup == "pip install -r requirements.txt\n");
  REQUIRE(t->workdir);
  CHECK(t->workdir->url == "https://github.com/org/repo.git");
  CHECK(t->workdir->ref == "v1.2");
  CHECK(t->accelerators == std::vector<std::string>{"H100:8", "A100-80GB:8"});
}

// The refusal's message, which must name the line.
std::string Refusal(const std::string& yaml) {
  absl::StatusOr<TaskTemplate> t = ParseTaskTemplate(yaml);
  REQUIRE_FALSE(t.ok());
  CHECK(absl::IsInvalidArgument(t.status()));
  return std::string(t.status().message());
}

TEST_CASE("templates are refused with the line that is wrong", "[template]") {
  CHECK(absl::StartsWith(Refusal("resources:\n  accelerators: H100:8\nrun: python train.py\n"),
                         "line 3: run: the command is the experiment's"));
  CHECK(absl::StartsWith(Refusal("num_nodes: 2\n"), "line 1: num_nodes"));
  CHECK(absl::StartsWith(Refusal("setup: x\nservice:\n  replicas: 2\n"),
                         "line 2: unknown key \"service\""));
  CHECK(absl::StartsWith(Refusal("resources:\n  acelerators: H100\n"),
                         "line 2: resources: unknown key \"acelerators\""));
  CHECK(absl::StartsWith(Refusal("resources:\n  any_of:\n    - gpus: 8\n"),
                         "line 3: resources.any_of[0]: unknown key \"gpus\""));
  CHECK(absl::StartsWith(Refusal("envs:\n  A: 1\n  A: 2\n"), "line 3: envs: A given twice"));
  CHECK(absl::StartsWith(Refusal("resources: {accelerators: [H100\n"), "line 2: invalid YAML"));
  CHECK(absl::StartsWith(Refusal("name: a\n---\nname: b\n"), "line 3: a template is one task"));
  CHECK(absl::StrContains(Refusal("- a\n- b\n"), "must be a mapping"));
  CHECK(absl::StrContains(Refusal(""), "empty"));
}

TEST_CASE("templates hold secret names, never values", "[template]") {
  std::string why = Refusal("secrets:\n  WANDB_API_KEY: abc123\n");
  CHECK(absl::StartsWith(why, "line 2: secrets.WANDB_API_KEY: a template lists secret names"));
  CHECK_FALSE(absl::StrContains(why, "abc123"));
  CHECK(absl::StrContains(Refusal("secrets:\n  SKYDECK_AUTH_TOKEN: null\n"), "reserved"));
  CHECK(
      absl::StrContains(Refusal("secrets:\n  SKYPILOT_SERVICE_ACCOUNT_TOKEN: null\n"), "reserved"));
  // SkyPilot's private-registry login may be listed.
  CHECK(ParseTaskTemplate("secrets:\n  SKYPILOT_DOCKER_PASSWORD: null\n").ok());
  CHECK(absl::StrContains(Refusal("envs:\n  1BAD: x\n"), "must match"));
}

TEST_CASE("local file mount sources are listed; a local workdir is refused", "[template]") {
  absl::StatusOr<TaskTemplate> t = ParseTaskTemplate(
      "file_mounts:\n  /data: ./data\n  /cfg: /etc/cfg.yaml\n  /again: ./data\n"
      "  /store:\n    source: ~/data\n    mode: COPY\n"
      "  /list:\n    source: [s3://a, ./more]\n  /bucket: s3://b/c\n");
  REQUIRE(t.ok());
  CHECK(t->local_sources ==
        std::vector<std::string>{"./data", "/etc/cfg.yaml", "~/data", "./more"});
  CHECK(IsLocalMountSource("./x"));
  CHECK_FALSE(IsLocalMountSource("gs://bucket/x"));
  CHECK(absl::StrContains(Refusal("workdir: /home/me/project\n"), "must be a git repository"));
  CHECK(absl::StrContains(Refusal("workdir: {ref: main}\n"), "url is required"));
  CHECK(ParseTaskTemplate("workdir: https://github.com/org/repo.git@main\n").ok());
  CHECK(ParseTaskTemplate("file_mounts:\n  /d:\n    source: [s3://a, gs://b]\n").ok());
}

TEST_CASE("SkyDeck owns the restart budget", "[template]") {
  CHECK(absl::StrContains(Refusal("resources:\n  job_recovery:\n    max_restarts_on_errors: 3\n"),
                          "--max-restarts"));
  CHECK(ParseTaskTemplate("resources:\n  job_recovery: {strategy: FAILOVER}\n").ok());
}

TEST_CASE("types SkyDeck reads are checked", "[template]") {
  CHECK(absl::StrContains(Refusal("resources:\n  use_spot: maybe\n"), "true or false"));
  CHECK(absl::StrContains(Refusal("resources:\n  any_of: {infra: aws}\n"), "must be a list"));
  CHECK(absl::StrContains(
      Refusal("resources:\n  any_of: [{infra: aws}]\n  ordered: [{infra: gcp}]\n"), "cannot both"));
  CHECK(absl::StrContains(Refusal("envs: [A, B]\n"), "must be a mapping"));
  CHECK(absl::StrContains(Refusal("setup: {a: b}\n"), "single value"));
  CHECK(absl::StrContains(Refusal("config:\n  api_server: {}\n"), "cannot be set in a task"));
  CHECK(absl::StrContains(Refusal(std::string(kMaxTemplateBytes + 1, '#')), "at most"));
}

TEST_CASE("EmitYamlNode keeps how each scalar was written", "[template]") {
  YAML::Node n = YAML::Load("a: yes\nb: 'yes'\nc: ~\nd: !!str 12\ne: [1, '2']\n");
  YAML::Emitter out;
  EmitYamlNode(out, n);
  CHECK(std::string(out.c_str()) == "a: yes\nb: \"yes\"\nc: ~\nd: \"12\"\ne:\n  - 1\n  - \"2\"");
  YAML::Emitter quoted;
  EmitYamlNode(quoted, QuotedScalar("null"));
  CHECK(std::string(quoted.c_str()) == "\"null\"");
}

}  // namespace
}  // namespace skydeck
