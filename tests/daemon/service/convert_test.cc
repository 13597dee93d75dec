// Store records <-> API messages (daemon/service/convert.h): defaults,
// validation at the API edge, field masks, and round trips.
#include "daemon/service/convert.h"

#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace skydeck::service {
namespace {

ExperimentSpec FullSpec() {
  ExperimentSpec s;
  s.name = "lr-sweep-1";
  s.description = "a sweep\nover two lines";
  s.base_command = "python train.py";
  s.flags = {{"trainer.lr", 0.0003},
             {"model.layers", int64_t{4}},
             {"ppo.enabled", true},
             {"tag", std::string("42")}};
  s.run_name = "run-\"quoted\"";
  s.nodes = 2;
  s.gpus = 8;
  s.gpu_type = "H100";
  s.infra = "k8s/ctx";
  s.spot = true;
  s.labels = {{"team", "rl"}, {"sweep", "lr"}};
  s.max_restarts = 0;
  s.desired_state = DesiredState::kRunning;
  s.template_name = "h100-train";
  s.envs = {{"WANDB_PROJECT", "llm"}, {"EMPTY", ""}};
  s.secrets = {"WANDB_API_KEY"};
  s.workdir = "https://github.com/org/repo.git@v1";
  return s;
}

TEST_CASE("convert: a spec survives ToProto and SpecFromProto unchanged", "[service][convert]") {
  ExperimentRecord record;
  record.id = 7;
  record.spec = FullSpec();
  pb::Experiment message;
  ToProto(record, &message);
  CHECK(message.id() == 7);
  CHECK(message.desired_state() == pb::DESIRED_STATE_RUNNING);
  absl::StatusOr<ExperimentSpec> back = SpecFromProto(message);
  REQUIRE(back.ok());
  CHECK(*back == record.spec);
}

TEST_CASE("convert: a create request gets the documented defaults", "[service][convert]") {
  pb::Experiment message;
  message.set_name("minimal");
  message.set_base_command("true");
  // Output-only fields and the snapshot are the service's, never the caller's.
  message.set_id(99);
  message.set_generation(5);
  message.set_restart_count(3);
  message.mutable_code_snapshot()->set_id("abc");
  absl::StatusOr<ExperimentSpec> spec = SpecFromProto(message);
  REQUIRE(spec.ok());
  CHECK(spec->nodes == 1);
  CHECK(spec->max_restarts == 3);
  CHECK(spec->desired_state == DesiredState::kStopped);
  CHECK(spec->code.empty());
  // An explicit zero budget is kept (max_restarts is optional in the proto).
  message.set_max_restarts(0);
  CHECK(SpecFromProto(message)->max_restarts == 0);
}

TEST_CASE("convert: every invalid field is INVALID_ARGUMENT naming it", "[service][convert]") {
  struct Case {
    const char* field;
    std::function<void(pb::Experiment&)> spoil;
  };
  std::vector<Case> cases = {
      {"base_command", [](pb::Experiment& e) { e.set_base_command("   "); }},
      {"run_name", [](pb::Experiment& e) { e.set_run_name("two\nlines"); }},
      {"nodes", [](pb::Experiment& e) { e.set_nodes(-1); }},
      {"gpus", [](pb::Experiment& e) { e.set_gpus(-2); }},
      {"gpu_type", [](pb::Experiment& e) { e.set_gpu_type("H100; rm -rf /"); }},
      {"infra", [](pb::Experiment& e) { e.set_infra("aws us-east-1"); }},
      {"gpu_type", [](pb::Experiment& e) { e.set_gpu_type(std::string(1000, 'A')); }},
      {"max_restarts", [](pb::Experiment& e) { e.set_max_restarts(-1); }},
      {"template", [](pb::Experiment& e) { e.set_template_("no spaces allowed"); }},
      {"WANDB_API_KEY",
       [](pb::Experiment& e) {
         (*e.mutable_envs())["WANDB_API_KEY"] = "x";
         e.add_secrets("WANDB_API_KEY");
       }},
  };
  for (const Case& c : cases) {
    pb::Experiment message;
    message.set_name("valid-name");
    message.set_base_command("python train.py");
    c.spoil(message);
    absl::Status status = SpecFromProto(message).status();
    INFO(c.field << ": " << status.ToString());
    CHECK(absl::IsInvalidArgument(status));
    CHECK(absl::StrContains(status.message(), c.field));
  }
}

TEST_CASE("convert: times are set only when known", "[service][convert]") {
  ExperimentRecord record;
  record.spec = FullSpec();
  record.created_ms = 1'700'000'000'123;
  record.conditions.push_back({"Ready", true, "Running", "", 0});
  pb::Experiment message;
  ToProto(record, &message);
  CHECK(message.has_create_time());
  CHECK(message.create_time().seconds() == 1'700'000'000);
  CHECK(message.create_time().nanos() == 123'000'000);
  CHECK_FALSE(message.has_update_time());
  CHECK_FALSE(message.has_delete_time());
  CHECK_FALSE(message.has_next_retry_time());
  REQUIRE(message.conditions_size() == 1);
  CHECK_FALSE(message.conditions(0).has_last_transition_time());
  CHECK_FALSE(message.has_code_snapshot());
}

TEST_CASE("convert: a job's exit code is absent until it exited", "[service][convert]") {
  JobRecord job;
  job.id = 3;
  job.status = JobStatus::kRunning;
  pb::Job running;
  ToProto(job, &running);
  CHECK_FALSE(running.has_exit_code());
  CHECK_FALSE(running.has_end_time());
  job.status = JobStatus::kFailed;
  job.exit_code = 0;  // zero is an exit code too
  job.ended_ms = 5'000;
  pb::Job ended;
  ToProto(job, &ended);
  CHECK(ended.has_exit_code());
  CHECK(ended.exit_code() == 0);
  CHECK(ended.end_time().seconds() == 5);
}

TEST_CASE("convert: a field mask copies only the named fields", "[service][convert]") {
  ExperimentSpec spec = FullSpec();
  spec.code.id = "snap-1";
  pb::Experiment update;
  update.set_nodes(4);
  update.set_gpus(1);
  update.set_workdir("/home/me/code");
  google::protobuf::FieldMask mask;
  mask.add_paths("nodes");
  mask.add_paths("workdir");
  REQUIRE(ApplyFieldMask(update, mask, &spec).ok());
  CHECK(spec.nodes == 4);
  CHECK(spec.gpus == 8);  // not in the mask
  CHECK(spec.workdir == "/home/me/code");
  CHECK(spec.code.empty());  // the service resolves the new workdir's snapshot

  google::protobuf::FieldMask restarts;
  restarts.add_paths("max_restarts");
  REQUIRE(ApplyFieldMask(pb::Experiment(), restarts, &spec).ok());
  CHECK(spec.max_restarts == 3);  // unset in the message: the default
}

TEST_CASE("convert: an empty or unknown mask says what can be updated", "[service][convert]") {
  ExperimentSpec spec = FullSpec();
  absl::Status empty = ApplyFieldMask(pb::Experiment(), {}, &spec);
  CHECK(absl::IsInvalidArgument(empty));
  CHECK(absl::StrContains(empty.message(), "update_mask"));
  for (const char* path : {"id", "generation", "observed_state", "nope"}) {
    google::protobuf::FieldMask mask;
    mask.add_paths(path);
    absl::Status status = ApplyFieldMask(pb::Experiment(), mask, &spec);
    INFO(path);
    CHECK(absl::IsInvalidArgument(status));
    CHECK(absl::StrContains(status.message(), absl::StrCat("\"", path, "\"")));
    CHECK(absl::StrContains(status.message(), "base_command"));
  }
  CHECK(spec == FullSpec());  // nothing applied
}

}  // namespace
}  // namespace skydeck::service
