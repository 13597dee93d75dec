#include <filesystem>

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "service_fixture.h"

namespace skydeck::service {
namespace {

using grpc::StatusCode;

constexpr char kH100[] =
    "name: h100\nresources:\n  accelerators: H100:8\nsecrets:\n  HF_TOKEN: null\n";

grpc::Status ApplyTemplate(ServiceFixture& f, const std::string& name, const std::string& yaml,
                           pb::ApplyTaskTemplateResponse* resp, bool validate_only = false) {
  pb::ApplyTaskTemplateRequest req;
  req.mutable_template_()->set_name(name);
  req.mutable_template_()->set_yaml(yaml);
  req.set_validate_only(validate_only);
  return f.stub().ApplyTaskTemplate(ServiceFixture::Ctx().get(), req, resp);
}

grpc::Status Create(ServiceFixture& f, pb::CreateExperimentRequest req,
                    pb::CreateExperimentResponse* resp) {
  return f.stub().CreateExperiment(ServiceFixture::Ctx().get(), req, resp);
}

pb::CreateExperimentRequest CreateRequest(const std::string& name) {
  pb::CreateExperimentRequest req;
  *req.mutable_experiment() = ServiceFixture::Experiment(name);
  return req;
}

TEST_CASE("task templates over gRPC: apply, get, list, delete", "[service][template]") {
  ServiceFixture f;
  pb::ApplyTaskTemplateResponse applied;
  REQUIRE(ApplyTemplate(f, "", kH100, &applied).ok());  // the YAML names it
  CHECK(applied.template_().name() == "h100");
  CHECK(applied.template_().version() == 1);
  CHECK(applied.changed());
  CHECK(applied.template_().actor() == "tester");
  CHECK(applied.template_().secrets(0) == "HF_TOKEN");
  CHECK(applied.template_().accelerators(0) == "H100:8");

  pb::ApplyTaskTemplateResponse again;
  REQUIRE(ApplyTemplate(f, "h100", kH100, &again).ok());
  CHECK_FALSE(again.changed());
  pb::ApplyTaskTemplateResponse dry;
  REQUIRE(ApplyTemplate(f, "h100", std::string(kH100) + "setup: x\n", &dry, true).ok());
  CHECK(dry.template_().version() == 2);
  CHECK(dry.changed());

  pb::ApplyTaskTemplateResponse bad;
  grpc::Status refused = ApplyTemplate(f, "bad", "resources:\n  gpus: 8\n", &bad);
  CHECK(refused.error_code() == StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(refused.error_message(), "line 2: resources: unknown key \"gpus\""));
  CHECK(ApplyTemplate(f, "", "setup: x\n", &bad).error_code() == StatusCode::INVALID_ARGUMENT);
  CHECK(ApplyTemplate(f, "9bad", "setup: x\n", &bad).error_code() == StatusCode::INVALID_ARGUMENT);

  pb::GetTaskTemplateRequest get;
  get.set_name("h100");
  pb::GetTaskTemplateResponse got;
  REQUIRE(f.stub().GetTaskTemplate(ServiceFixture::Ctx().get(), get, &got).ok());
  CHECK(got.template_().yaml() == kH100);
  get.set_version(5);
  CHECK(f.stub().GetTaskTemplate(ServiceFixture::Ctx().get(), get, &got).error_code() ==
        StatusCode::NOT_FOUND);

  pb::ListTaskTemplatesResponse list;
  REQUIRE(f.stub()
              .ListTaskTemplates(ServiceFixture::Ctx().get(), pb::ListTaskTemplatesRequest(), &list)
              .ok());
  REQUIRE(list.templates_size() == 1);

  pb::DeleteTaskTemplateRequest del;
  del.set_name("h100");
  pb::DeleteTaskTemplateResponse deleted;
  REQUIRE(f.stub().DeleteTaskTemplate(ServiceFixture::Ctx().get(), del, &deleted).ok());
  CHECK(deleted.version() == 2);
  get.set_version(0);
  CHECK(f.stub().GetTaskTemplate(ServiceFixture::Ctx().get(), get, &got).error_code() ==
        StatusCode::NOT_FOUND);
}

TEST_CASE("experiments name templates that exist; the daemon may set a default",
          "[service][template]") {
  ServiceFixture f;
  pb::CreateExperimentRequest req = CreateRequest("t1");
  req.mutable_experiment()->set_template_("h100");
  pb::CreateExperimentResponse resp;
  grpc::Status missing = Create(f, req, &resp);
  CHECK(missing.error_code() == StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(missing.error_message(), "\"h100\" does not exist"));

  pb::ApplyTaskTemplateResponse applied;
  REQUIRE(ApplyTemplate(f, "h100", "resources:\n  accelerators: H100:8\n", &applied).ok());
  REQUIRE(Create(f, req, &resp).ok());
  CHECK(resp.experiment().template_() == "h100");

  f.service().set_default_template("missing");
  grpc::Status no_default = Create(f, CreateRequest("t2"), &resp);
  CHECK(no_default.error_code() == StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(no_default.error_message(), "--default-template"));
  f.service().set_default_template("h100");
  REQUIRE(Create(f, CreateRequest("t2"), &resp).ok());
  CHECK(resp.experiment().template_() == "h100");
  pb::CreateExperimentRequest none = CreateRequest("t3");
  none.mutable_experiment()->set_template_("");
  REQUIRE(Create(f, none, &resp).ok());
  CHECK(resp.experiment().template_().empty());

  // A template in use is not deleted.
  pb::DeleteTaskTemplateRequest del;
  del.set_name("h100");
  pb::DeleteTaskTemplateResponse deleted;
  grpc::Status in_use = f.stub().DeleteTaskTemplate(ServiceFixture::Ctx().get(), del, &deleted);
  CHECK(in_use.error_code() == StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(in_use.error_message(), "t1, t2"));
}

TEST_CASE("envs, secrets and workdir are spec fields", "[service][template]") {
  ServiceFixture f;
  pb::CreateExperimentRequest req = CreateRequest("w");
  (*req.mutable_experiment()->mutable_envs())["WANDB_PROJECT"] = "llm";
  req.mutable_experiment()->add_secrets("WANDB_API_KEY");
  req.mutable_experiment()->set_workdir("https://github.com/org/repo.git@main");
  pb::CreateExperimentResponse resp;
  REQUIRE(Create(f, req, &resp).ok());
  CHECK(resp.experiment().envs().at("WANDB_PROJECT") == "llm");
  CHECK(resp.experiment().secrets(0) == "WANDB_API_KEY");
  CHECK(resp.experiment().workdir() == "https://github.com/org/repo.git@main");

  pb::UpdateExperimentRequest update;
  update.set_id("w");
  (*update.mutable_experiment()->mutable_envs())["NCCL_DEBUG"] = "INFO";
  update.mutable_update_mask()->add_paths("envs");
  update.mutable_update_mask()->add_paths("workdir");
  pb::UpdateExperimentResponse updated;
  REQUIRE(f.stub().UpdateExperiment(ServiceFixture::Ctx().get(), update, &updated).ok());
  CHECK(updated.experiment().envs_size() == 1);
  CHECK(updated.experiment().envs().at("NCCL_DEBUG") == "INFO");
  CHECK(updated.experiment().workdir().empty());
  CHECK(updated.experiment().generation() == 2);

  pb::CreateExperimentRequest clash = CreateRequest("clash");
  (*clash.mutable_experiment()->mutable_envs())["A"] = "1";
  clash.mutable_experiment()->add_secrets("A");
  CHECK(Create(f, clash, &resp).error_code() == StatusCode::INVALID_ARGUMENT);
  pb::CreateExperimentRequest reserved = CreateRequest("reserved");
  reserved.mutable_experiment()->add_secrets("SKYDECK_AUTH_TOKEN");
  CHECK(Create(f, reserved, &resp).error_code() == StatusCode::INVALID_ARGUMENT);
  pb::CreateExperimentRequest relative = CreateRequest("relative");
  relative.mutable_experiment()->set_workdir("src");
  CHECK(Create(f, relative, &resp).error_code() == StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("the client's directory is the default workdir when it can be", "[service][template]") {
  ServiceFixture f;
  std::string here = std::filesystem::temp_directory_path().string();
  pb::CreateExperimentRequest req = CreateRequest("d1");
  req.set_default_workdir(here);
  pb::CreateExperimentResponse resp;
  REQUIRE(Create(f, req, &resp).ok());
  CHECK(resp.experiment().workdir() == here);
  CHECK(resp.warnings().empty());

  // Not on the daemon's machine: left out, with a warning.
  pb::CreateExperimentRequest elsewhere = CreateRequest("d2");
  elsewhere.set_default_workdir("/nonexistent/on/this/machine");
  REQUIRE(Create(f, elsewhere, &resp).ok());
  CHECK(resp.experiment().workdir().empty());
  REQUIRE(resp.warnings_size() == 1);
  CHECK(absl::StrContains(resp.warnings(0), "not on the daemon's machine"));

  // The experiment's own workdir, or the template's, wins.
  pb::CreateExperimentRequest own = CreateRequest("d3");
  own.set_default_workdir(here);
  own.mutable_experiment()->set_workdir("https://github.com/org/repo.git");
  REQUIRE(Create(f, own, &resp).ok());
  CHECK(resp.experiment().workdir() == "https://github.com/org/repo.git");
  pb::ApplyTaskTemplateResponse applied;
  REQUIRE(ApplyTemplate(f, "git", "workdir: https://github.com/org/repo.git\n", &applied).ok());
  pb::CreateExperimentRequest templated = CreateRequest("d4");
  templated.set_default_workdir(here);
  templated.mutable_experiment()->set_template_("git");
  REQUIRE(Create(f, templated, &resp).ok());
  CHECK(resp.experiment().workdir().empty());

  pb::CreateExperimentRequest bad = CreateRequest("d5");
  bad.set_default_workdir("relative/dir");
  CHECK(Create(f, bad, &resp).error_code() == StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace skydeck::service
