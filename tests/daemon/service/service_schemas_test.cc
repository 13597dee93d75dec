#include <catch2/catch.hpp>

#include "service_fixture.h"

namespace skydeck::service {
namespace {

using grpc::StatusCode;

// python train.py: trainer.lr float >= 0, model.layers int in [1, 64],
// optim choice adam|sgd.
pb::CommandFlagSchema TrainSchema(bool strict) {
  pb::CommandFlagSchema s;
  s.set_base_command("python train.py");
  s.set_strict(strict);
  auto* lr = s.add_flags();
  lr->set_name("trainer.lr");
  lr->set_type(pb::FlagSchema::TYPE_FLOAT);
  lr->set_min(0);
  auto* layers = s.add_flags();
  layers->set_name("model.layers");
  layers->set_type(pb::FlagSchema::TYPE_INT);
  layers->set_min(1);
  layers->set_max(64);
  auto* optim = s.add_flags();
  optim->set_name("optim");
  optim->set_type(pb::FlagSchema::TYPE_CHOICE);
  optim->add_choices("adam");
  optim->add_choices("sgd");
  return s;
}

grpc::Status Apply(ServiceFixture& f, const pb::CommandFlagSchema& s,
                   pb::ApplyFlagSchemaResponse* resp) {
  pb::ApplyFlagSchemaRequest req;
  *req.mutable_schema() = s;
  return f.stub().ApplyFlagSchema(ServiceFixture::Ctx().get(), req, resp);
}

grpc::Status Create(ServiceFixture& f, const pb::Experiment& e, pb::Experiment* out) {
  pb::CreateExperimentRequest req;
  *req.mutable_experiment() = e;
  pb::CreateExperimentResponse resp;
  grpc::Status s = f.stub().CreateExperiment(ServiceFixture::Ctx().get(), req, &resp);
  *out = resp.experiment();
  return s;
}

pb::ListFlagSchemasResponse List(ServiceFixture& f, const std::string& command = "") {
  pb::ListFlagSchemasRequest req;
  req.set_base_command(command);
  pb::ListFlagSchemasResponse resp;
  REQUIRE(f.stub().ListFlagSchemas(ServiceFixture::Ctx().get(), req, &resp).ok());
  return resp;
}

TEST_CASE("apply versions schemas and declared ones win over inferred", "[service][schema]") {
  ServiceFixture f;
  f.Create("exp-a");  // infers python train.py
  pb::ListFlagSchemasResponse before = List(f);
  REQUIRE(before.schemas_size() == 1);
  CHECK(before.schemas(0).inferred());

  pb::ApplyFlagSchemaResponse resp;
  REQUIRE(Apply(f, TrainSchema(false), &resp).ok());
  CHECK(resp.schema().version() == 1);
  REQUIRE(Apply(f, TrainSchema(true), &resp).ok());
  CHECK(resp.schema().version() == 2);

  pb::ListFlagSchemasResponse after = List(f);
  REQUIRE(after.schemas_size() == 1);
  CHECK_FALSE(after.schemas(0).inferred());
  CHECK(after.schemas(0).version() == 2);
  CHECK(after.schemas(0).strict());
  CHECK(after.schemas(0).flags_size() == 3);

  pb::ListFlagSchemasRequest old_req;
  old_req.set_base_command("python train.py");
  old_req.set_version(1);
  pb::ListFlagSchemasResponse old;
  REQUIRE(f.stub().ListFlagSchemas(ServiceFixture::Ctx().get(), old_req, &old).ok());
  REQUIRE(old.schemas_size() == 1);
  CHECK_FALSE(old.schemas(0).strict());

  pb::DeleteFlagSchemaRequest del;
  del.set_base_command("python train.py");
  pb::DeleteFlagSchemaResponse del_resp;
  REQUIRE(f.stub().DeleteFlagSchema(ServiceFixture::Ctx().get(), del, &del_resp).ok());
  CHECK(del_resp.version() == 3);
  CHECK(List(f).schemas(0).inferred());
  CHECK(f.stub().DeleteFlagSchema(ServiceFixture::Ctx().get(), del, &del_resp).error_code() ==
        StatusCode::NOT_FOUND);
}

TEST_CASE("invalid schemas are INVALID_ARGUMENT", "[service][schema]") {
  ServiceFixture f;
  pb::CommandFlagSchema s = TrainSchema(true);
  s.mutable_flags(2)->clear_choices();
  pb::ApplyFlagSchemaResponse resp;
  CHECK(Apply(f, s, &resp).error_code() == StatusCode::INVALID_ARGUMENT);
  s = TrainSchema(true);
  s.mutable_flags(0)->set_type(pb::FlagSchema::TYPE_UNSPECIFIED);
  CHECK(Apply(f, s, &resp).error_code() == StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("create validates and normalises flags against the schema", "[service][schema]") {
  ServiceFixture f;
  pb::ApplyFlagSchemaResponse applied;
  REQUIRE(Apply(f, TrainSchema(true), &applied).ok());

  pb::Experiment e = ServiceFixture::Experiment("typed");
  (*e.mutable_flags())["model.layers"].set_string_value("4");
  (*e.mutable_flags())["trainer.lr"].set_int_value(1);
  pb::Experiment out;
  REQUIRE(Create(f, e, &out).ok());
  CHECK(out.flags().at("model.layers").int_value() == 4);
  CHECK(out.flags().at("trainer.lr").kind_case() == pb::FlagValue::kDoubleValue);
  CHECK(out.flags().at("trainer.lr").double_value() == 1.0);

  pb::Experiment wrong = ServiceFixture::Experiment("wrong");
  (*wrong.mutable_flags())["model.layers"].set_string_value("four");
  grpc::Status s = Create(f, wrong, &out);
  CHECK(s.error_code() == StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(s.error_message(), Catch::Contains("model.layers"));
  CHECK_THAT(s.error_message(), Catch::Contains("expected int"));
  CHECK_THAT(s.error_message(), Catch::Contains("four"));

  pb::Experiment range = ServiceFixture::Experiment("range");
  (*range.mutable_flags())["model.layers"].set_int_value(65);
  CHECK(Create(f, range, &out).error_code() == StatusCode::INVALID_ARGUMENT);

  pb::Experiment choice = ServiceFixture::Experiment("choice");
  (*choice.mutable_flags())["optim"].set_string_value("adamw");
  CHECK(Create(f, choice, &out).error_code() == StatusCode::INVALID_ARGUMENT);

  pb::Experiment unknown = ServiceFixture::Experiment("unknown");
  (*unknown.mutable_flags())["trainer.lrr"].set_double_value(0.1);
  CHECK(Create(f, unknown, &out).error_code() == StatusCode::INVALID_ARGUMENT);

  pb::Experiment other = ServiceFixture::Experiment("other-command");
  other.set_base_command("python eval.py");
  (*other.mutable_flags())["anything"].set_string_value("goes");
  CHECK(Create(f, other, &out).ok());
}

TEST_CASE("lenient schemas record unknown flags as warning events", "[service][schema]") {
  ServiceFixture f;
  pb::ApplyFlagSchemaResponse applied;
  REQUIRE(Apply(f, TrainSchema(false), &applied).ok());
  pb::Experiment e = ServiceFixture::Experiment("lenient");
  (*e.mutable_flags())["trainer.lrr"].set_double_value(0.1);
  pb::Experiment out;
  REQUIRE(Create(f, e, &out).ok());
  CHECK(out.flags().contains("trainer.lrr"));
  auto events = f.store().ListEvents(out.id(), 0, 10);
  REQUIRE(events.ok());
  bool warned = false;
  for (const auto& ev : *events) {
    if (ev.type == "FlagWarning") {
      warned = true;
      CHECK_THAT(ev.message, Catch::Contains("trainer.lrr"));
    }
  }
  CHECK(warned);
}

TEST_CASE("flag warnings commit in the same transaction as the change", "[service][schema]") {
  ServiceFixture f;
  pb::ApplyFlagSchemaResponse applied;
  REQUIRE(Apply(f, TrainSchema(false), &applied).ok());

  // Create: one transaction for the experiment and its warning.
  pb::Experiment e = ServiceFixture::Experiment("atomic");
  (*e.mutable_flags())["trainer.lrr"].set_double_value(0.1);
  int64_t before = f.store().TransactionCountForTesting();
  pb::Experiment out;
  REQUIRE(Create(f, e, &out).ok());
  CHECK(f.store().TransactionCountForTesting() == before + 1);

  // UpdateFlags: likewise, and the commit's revision is the warning's.
  int64_t revision = f.store().LatestRevision().value();
  pb::UpdateFlagsRequest req;
  req.set_id("atomic");
  (*req.mutable_set())["optimizer.beta"].set_double_value(0.9);
  pb::UpdateFlagsResponse resp;
  before = f.store().TransactionCountForTesting();
  REQUIRE(f.stub().UpdateFlags(ServiceFixture::Ctx().get(), req, &resp).ok());
  CHECK(f.store().TransactionCountForTesting() == before + 1);
  REQUIRE(resp.warnings_size() >= 1);
  auto events = f.store().EventsAfter(revision, out.id(), 10);
  REQUIRE(events.ok());
  REQUIRE(events->size() >= 2);
  CHECK(events->front().type == "Updated");
  bool warned = false;
  for (size_t i = 1; i < events->size(); ++i) {
    CHECK((*events)[i].type == "FlagWarning");
    if ((*events)[i].message.find("optimizer.beta") != std::string::npos) warned = true;
  }
  CHECK(warned);
}

TEST_CASE("UpdateFlags and UpdateExperiment validate against the schema", "[service][schema]") {
  ServiceFixture f;
  pb::Experiment created = f.Create("exp-u");  // before the schema: not checked
  pb::ApplyFlagSchemaResponse applied;
  REQUIRE(Apply(f, TrainSchema(true), &applied).ok());

  pb::UpdateFlagsRequest uf;
  uf.set_id("exp-u");
  (*uf.mutable_set())["model.layers"].set_string_value("x");
  pb::UpdateFlagsResponse uf_resp;
  grpc::Status s = f.stub().UpdateFlags(ServiceFixture::Ctx().get(), uf, &uf_resp);
  CHECK(s.error_code() == StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(s.error_message(), Catch::Contains("model.layers"));

  (*uf.mutable_set())["model.layers"].set_string_value("8");
  REQUIRE(f.stub().UpdateFlags(ServiceFixture::Ctx().get(), uf, &uf_resp).ok());
  CHECK(uf_resp.experiment().flags().at("model.layers").int_value() == 8);

  // Moving an experiment onto a command with a schema checks its flags.
  pb::Experiment eval = ServiceFixture::Experiment("exp-eval");
  eval.set_base_command("python eval.py");
  (*eval.mutable_flags())["model.layers"].set_int_value(100);
  pb::Experiment out;
  REQUIRE(Create(f, eval, &out).ok());
  pb::UpdateExperimentRequest ue;
  ue.set_id("exp-eval");
  ue.mutable_experiment()->set_base_command("python train.py");
  ue.mutable_update_mask()->add_paths("base_command");
  pb::UpdateExperimentResponse ue_resp;
  s = f.stub().UpdateExperiment(ServiceFixture::Ctx().get(), ue, &ue_resp);
  CHECK(s.error_code() == StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(s.error_message(), Catch::Contains("model.layers"));

  // A change that touches neither flags nor command is not re-validated.
  pb::UpdateExperimentRequest desc;
  desc.set_id("exp-u");
  desc.mutable_experiment()->set_description("hello");
  desc.mutable_update_mask()->add_paths("description");
  CHECK(f.stub().UpdateExperiment(ServiceFixture::Ctx().get(), desc, &ue_resp).ok());
}

TEST_CASE("validate_only checks and normalises but writes nothing", "[service][schema]") {
  ServiceFixture f;
  pb::ApplyFlagSchemaResponse applied;
  REQUIRE(Apply(f, TrainSchema(false), &applied).ok());
  auto revision = f.store().LatestRevision();
  REQUIRE(revision.ok());

  pb::CreateExperimentRequest create;
  *create.mutable_experiment() = ServiceFixture::Experiment("dry");
  (*create.mutable_experiment()->mutable_flags())["model.layers"].set_string_value("4");
  (*create.mutable_experiment()->mutable_flags())["trainer.lrr"].set_double_value(0.1);
  create.set_validate_only(true);
  pb::CreateExperimentResponse created;
  REQUIRE(f.stub().CreateExperiment(ServiceFixture::Ctx().get(), create, &created).ok());
  CHECK(created.experiment().id() == 0);
  CHECK(created.experiment().flags().at("model.layers").int_value() == 4);  // normalised
  REQUIRE(created.warnings_size() == 1);
  CHECK_THAT(created.warnings(0), Catch::Contains("trainer.lrr"));
  // Nothing was stored, announced or numbered.
  pb::GetExperimentRequest get;
  get.set_id("dry");
  pb::GetExperimentResponse got;
  CHECK(f.stub().GetExperiment(ServiceFixture::Ctx().get(), get, &got).error_code() ==
        StatusCode::NOT_FOUND);
  CHECK(*f.store().LatestRevision() == *revision);

  // Errors are those of the real write.
  (*create.mutable_experiment()->mutable_flags())["model.layers"].set_string_value("four");
  CHECK(f.stub().CreateExperiment(ServiceFixture::Ctx().get(), create, &created).error_code() ==
        StatusCode::INVALID_ARGUMENT);
  pb::Experiment taken = f.Create("taken");
  *create.mutable_experiment() = ServiceFixture::Experiment("taken");
  CHECK(f.stub().CreateExperiment(ServiceFixture::Ctx().get(), create, &created).error_code() ==
        StatusCode::ALREADY_EXISTS);

  // An update preview shows the normalised result; generation tells whether
  // it would change anything.
  revision = f.store().LatestRevision();
  pb::UpdateExperimentRequest update;
  update.set_id("taken");
  (*update.mutable_experiment()->mutable_flags())["model.layers"].set_string_value("8");
  update.mutable_update_mask()->add_paths("flags");
  update.set_validate_only(true);
  pb::UpdateExperimentResponse updated;
  REQUIRE(f.stub().UpdateExperiment(ServiceFixture::Ctx().get(), update, &updated).ok());
  CHECK(updated.experiment().flags().at("model.layers").int_value() == 8);
  CHECK(updated.experiment().generation() == taken.generation() + 1);
  CHECK(*f.store().LatestRevision() == *revision);
  REQUIRE(f.stub().GetExperiment(ServiceFixture::Ctx().get(), get, &got).error_code() ==
          StatusCode::NOT_FOUND);
  get.set_id("taken");
  REQUIRE(f.stub().GetExperiment(ServiceFixture::Ctx().get(), get, &got).ok());
  CHECK(got.experiment().generation() == taken.generation());
  CHECK_FALSE(got.experiment().flags().contains("model.layers"));

  pb::UpdateFlagsRequest flags;
  flags.set_id("taken");
  (*flags.mutable_set())["model.layers"].set_int_value(100);
  flags.set_validate_only(true);
  pb::UpdateFlagsResponse flags_resp;
  CHECK(f.stub().UpdateFlags(ServiceFixture::Ctx().get(), flags, &flags_resp).error_code() ==
        StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace skydeck::service
