// The reconciler with task templates, envs, secrets and workdirs: what a
// launch needs is resolved at launch, and what is missing stalls the
// experiment at once with a reason naming it.
#include <filesystem>

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "reconcile_fixture.h"

namespace skydeck::reconcile {
namespace {

constexpr char kTemplate[] =
    "resources:\n  accelerators: H100:8\nenvs:\n  WANDB_PROJECT: from-template\n  NCCL_DEBUG: "
    "INFO\nsecrets:\n  HF_TOKEN: null\nsetup: pip install -r requirements.txt\n";

struct WorkloadFixture : ReconcileFixture {
  int64_t CreateWith(const std::string& name, const std::function<void(ExperimentSpec&)>& edit) {
    ExperimentSpec s;
    s.name = name;
    s.base_command = "python train.py";
    s.desired_state = DesiredState::kRunning;
    edit(s);
    auto r = store->CreateExperiment(s, "test");
    REQUIRE(r.ok());
    return r->id;
  }
  void Template(const std::string& name, const std::string& yaml) {
    REQUIRE(store->ApplyTaskTemplate(name, yaml, "test").ok());
  }
  const skydeck::Condition& Stalled(int64_t id) {
    static skydeck::Condition none;
    ExperimentRecord r = Get(id);
    for (const auto& c : r.conditions) {
      if (c.type == "Stalled") {
        none = c;
        return none;
      }
    }
    FAIL("no Stalled condition");
    return none;
  }
};

// Before: the refused intent left the experiment LAUNCHING until the next
// periodic resync (~1 minute) noticed the failed job.
TEST_CASE_METHOD(WorkloadFixture, "a refused launch is Stalled in the same reconcile",
                 "[reconcile][workload]") {
  int64_t id = Create("refused");
  backend.launch_error = absl::InvalidArgumentError("unknown accelerator");
  Reconcile(id);
  ExperimentRecord r = Get(id);
  CHECK(r.observed_state == ObservedState::kFailed);
  CHECK(Stalled(id).status);
  CHECK(Stalled(id).reason == "LaunchRefused");
  CHECK(absl::StrContains(Stalled(id).message, "unknown accelerator"));
  CHECK(Jobs(id).front().status == JobStatus::kFailedPrechecks);
  Reconcile(id);
  CHECK(backend.launch_calls == 1);
}

TEST_CASE_METHOD(WorkloadFixture, "a missing secret stalls at once, naming it, with no job",
                 "[reconcile][workload]") {
  int64_t id = CreateWith("secret", [](ExperimentSpec& s) { s.secrets = {"WANDB_API_KEY"}; });
  Reconcile(id);
  CHECK(Jobs(id).empty());
  CHECK(backend.launch_calls == 0);
  CHECK(Get(id).observed_state == ObservedState::kFailed);
  CHECK(Stalled(id).reason == "SecretMissing");
  CHECK(absl::StrContains(Stalled(id).message, "WANDB_API_KEY"));
  CHECK(Reconcile(id).requeue_after == absl::ZeroDuration());  // no retry loop
  CHECK(backend.launch_calls == 0);

  // Once the value is there, the next reconcile (a resync, a start) launches.
  secrets.values["WANDB_API_KEY"] = "s3cr3t-value";
  Reconcile(id);
  REQUIRE(backend.launch_calls == 1);
  auto job = Live(id);
  REQUIRE(job);
  CHECK(job->secrets == std::vector<std::string>{"WANDB_API_KEY"});
  const backend::JobSpec& spec = backend.specs.at(job->backend_job_id);
  CHECK(spec.secrets.at("WANDB_API_KEY") == "s3cr3t-value");
  CHECK(spec.env.count("WANDB_API_KEY") == 0);
  CHECK(absl::StrContains(job->rendered_task, "secret WANDB_API_KEY: <redacted>"));
  CHECK_FALSE(absl::StrContains(job->rendered_task, "s3cr3t-value"));
  CHECK_FALSE(Stalled(id).status);
  auto events = store->ListEvents(id, 0, 1000);
  REQUIRE(events.ok());
  for (const auto& e : *events) CHECK_FALSE(absl::StrContains(e.message, "s3cr3t-value"));
}

TEST_CASE_METHOD(WorkloadFixture, "the template renders under the experiment's fields",
                 "[reconcile][workload]") {
  int64_t id = CreateWith("tmpl", [](ExperimentSpec& s) {
    s.template_name = "h100";
    s.envs = {{"WANDB_PROJECT", "mine"}};
  });
  Reconcile(id);
  CHECK(Stalled(id).reason == "TemplateNotFound");
  CHECK(absl::StrContains(Stalled(id).message, "skydeck template apply"));
  Template("h100", kTemplate);
  Reconcile(id);
  CHECK(Stalled(id).reason == "SecretMissing");  // the template's secret
  CHECK(absl::StrContains(Stalled(id).message, "HF_TOKEN"));
  secrets.values["HF_TOKEN"] = "hf-value";
  Reconcile(id);
  auto job = Live(id);
  REQUIRE(job);
  CHECK(job->template_name == "h100");
  CHECK(job->template_version == 1);
  const backend::JobSpec& spec = backend.specs.at(job->backend_job_id);
  CHECK(spec.template_yaml == kTemplate);
  CHECK(spec.env.at("WANDB_PROJECT") == "mine");  // the experiment's wins
  CHECK(spec.env.at("NCCL_DEBUG") == "INFO");
  CHECK(spec.env.at("SKYDECK_EXPERIMENT") == "tmpl");
  CHECK(spec.secrets.at("HF_TOKEN") == "hf-value");
  CHECK(spec.setup == "pip install -r requirements.txt");

  // A new version of the template does not make the running job outdated;
  // naming another template does.
  Template("h100", std::string(kTemplate) + "# v2\n");
  Reconcile(id);
  ExperimentRecord r = Get(id);
  CHECK(r.observed_generation == r.generation);
  Template("a100", "resources:\n  accelerators: A100:8\n");
  REQUIRE(store
              ->UpdateSpec(
                  id,
                  [](ExperimentSpec& s) {
                    s.template_name = "a100";
                    return absl::OkStatus();
                  },
                  "test")
              .ok());
  Reconcile(id);
  r = Get(id);
  CHECK(Condition(r, "Outdated")->status);
  CHECK(backend.launch_calls == 1);
}

TEST_CASE_METHOD(WorkloadFixture, "a value the template requires must be set",
                 "[reconcile][workload]") {
  Template("needs", "envs:\n  RUN_TAG:\n");
  int64_t id = CreateWith("needs", [](ExperimentSpec& s) { s.template_name = "needs"; });
  Reconcile(id);
  CHECK(Stalled(id).reason == "EnvMissing");
  CHECK(absl::StrContains(Stalled(id).message, "--env RUN_TAG=VALUE"));
  REQUIRE(store
              ->UpdateSpec(
                  id,
                  [](ExperimentSpec& s) {
                    s.envs["RUN_TAG"] = "a";
                    return absl::OkStatus();
                  },
                  "test")
              .ok());
  Reconcile(id);
  CHECK(backend.launch_calls == 1);
}

TEST_CASE_METHOD(WorkloadFixture, "a job records its workdir's code version",
                 "[reconcile][workload]") {
  std::string dir = std::filesystem::temp_directory_path().string();
  code[dir] = CodeVersion{std::string(40, 'c'), true};
  int64_t missing = CreateWith("gone", [](ExperimentSpec& s) { s.workdir = "/nonexistent/dir"; });
  Reconcile(missing);
  CHECK(Stalled(missing).reason == "WorkdirMissing");
  CHECK(Jobs(missing).empty());

  int64_t id = CreateWith("code", [&](ExperimentSpec& s) { s.workdir = dir; });
  Reconcile(id);
  auto job = Live(id);
  REQUIRE(job);
  CHECK(job->workdir == dir);
  CHECK(job->code_commit == std::string(40, 'c'));
  CHECK(job->code_dirty);
  CHECK(backend.specs.at(job->backend_job_id).workdir.path == dir);
}

TEST_CASE_METHOD(WorkloadFixture, "what the backend can never run stalls before any intent",
                 "[reconcile][workload]") {
  int64_t id = Create("never");
  backend.render_error = absl::InvalidArgumentError("4 GPUs per node requested without a type");
  Reconcile(id);
  CHECK(Jobs(id).empty());
  CHECK(backend.launch_calls == 0);
  CHECK(Stalled(id).reason == "LaunchRefused");
  CHECK(absl::StrContains(Stalled(id).message, "without a type"));
}

}  // namespace
}  // namespace skydeck::reconcile
