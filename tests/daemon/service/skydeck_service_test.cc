#include "daemon/service/skydeck_service.h"

#include <thread>

#include <catch2/catch.hpp>

#include "service_fixture.h"

namespace skydeck::service {
namespace {

using grpc::StatusCode;

StatusCode CreateCode(ServiceFixture& f, const pb::Experiment& e) {
  pb::CreateExperimentRequest req;
  *req.mutable_experiment() = e;
  pb::CreateExperimentResponse resp;
  return f.stub().CreateExperiment(ServiceFixture::Ctx().get(), req, &resp).error_code();
}

TEST_CASE("create applies defaults and records the actor", "[service]") {
  ServiceFixture f;
  pb::Experiment e = f.Create("exp-a");
  CHECK(e.id() > 0);
  CHECK(e.nodes() == 1);
  CHECK(e.max_restarts() == 3);
  CHECK(e.desired_state() == pb::DESIRED_STATE_STOPPED);
  CHECK(e.observed_state() == pb::OBSERVED_STATE_IDLE);
  CHECK(e.generation() == 1);
  CHECK(e.create_time().seconds() > 0);
  auto events = f.store().ListEvents(e.id(), 0, 10);
  REQUIRE(events.ok());
  CHECK(events->front().actor == "tester");
}

TEST_CASE("malformed experiments are INVALID_ARGUMENT", "[service][validation]") {
  ServiceFixture f;
  pb::Experiment e = ServiceFixture::Experiment("ok");

  pb::Experiment bad_name = e;
  bad_name.set_name("1bad");
  CHECK(CreateCode(f, bad_name) == StatusCode::INVALID_ARGUMENT);

  pb::Experiment no_cmd = e;
  no_cmd.set_base_command("  ");
  CHECK(CreateCode(f, no_cmd) == StatusCode::INVALID_ARGUMENT);

  pb::Experiment bad_flag = e;
  (*bad_flag.mutable_flags())["bad key"].set_int_value(1);
  CHECK(CreateCode(f, bad_flag) == StatusCode::INVALID_ARGUMENT);

  pb::Experiment empty_flag = e;
  (*empty_flag.mutable_flags())["empty"];  // no kind set
  CHECK(CreateCode(f, empty_flag) == StatusCode::INVALID_ARGUMENT);

  pb::Experiment nodes = e;
  nodes.set_nodes(10000);
  CHECK(CreateCode(f, nodes) == StatusCode::INVALID_ARGUMENT);

  pb::Experiment gpus = e;
  gpus.set_gpus(-1);
  CHECK(CreateCode(f, gpus) == StatusCode::INVALID_ARGUMENT);

  pb::Experiment infra = e;
  infra.set_infra("aws; rm -rf /");
  CHECK(CreateCode(f, infra) == StatusCode::INVALID_ARGUMENT);

  pb::Experiment label = e;
  (*label.mutable_labels())["k"] = "a,b";
  CHECK(CreateCode(f, label) == StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("huge payloads are refused with INVALID_ARGUMENT", "[service][validation]") {
  ServiceFixture f;
  pb::Experiment e = ServiceFixture::Experiment("big");
  e.set_base_command(std::string(1 << 20, 'x'));  // 1 MiB command
  CHECK(CreateCode(f, e) == StatusCode::INVALID_ARGUMENT);

  pb::Experiment desc = ServiceFixture::Experiment("big2");
  desc.set_description(std::string(5000, 'd'));
  CHECK(CreateCode(f, desc) == StatusCode::INVALID_ARGUMENT);

  pb::Experiment many = ServiceFixture::Experiment("big3");
  for (int i = 0; i < 300; ++i) (*many.mutable_flags())["f" + std::to_string(i)].set_int_value(i);
  CHECK(CreateCode(f, many) == StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("bulk requests are bounded", "[service][validation]") {
  ServiceFixture f;
  f.Create("one");
  pb::SetDesiredStateRequest set;
  set.set_desired_state(pb::DESIRED_STATE_RUNNING);
  for (int i = 0; i < 1001; ++i) set.add_ids("one");
  pb::SetDesiredStateResponse set_resp;
  grpc::Status s = f.stub().SetDesiredState(ServiceFixture::Ctx().get(), set, &set_resp);
  CHECK(s.error_code() == StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(s.error_message(), Catch::Contains("label selector"));

  pb::UpdateFlagsRequest flags;
  flags.set_id("one");
  for (int i = 0; i < 257; ++i) flags.add_unset("f" + std::to_string(i));
  pb::UpdateFlagsResponse flags_resp;
  CHECK(f.stub().UpdateFlags(ServiceFixture::Ctx().get(), flags, &flags_resp).error_code() ==
        StatusCode::INVALID_ARGUMENT);

  pb::ListExperimentsRequest list;
  list.set_label_selector(std::string(5000, 'a') + "=b");
  pb::ListExperimentsResponse list_resp;
  s = f.stub().ListExperiments(ServiceFixture::Ctx().get(), list, &list_resp);
  CHECK(s.error_code() == StatusCode::INVALID_ARGUMENT);  // not RESOURCE_EXHAUSTED
}

TEST_CASE("ids and names resolve and bad ids are INVALID_ARGUMENT and unknown NOT_FOUND",
          "[service][validation]") {
  ServiceFixture f;
  pb::Experiment e = f.Create("findme");
  pb::GetExperimentResponse resp;
  pb::GetExperimentRequest by_id;
  by_id.set_id(std::to_string(e.id()));
  REQUIRE(f.stub().GetExperiment(ServiceFixture::Ctx().get(), by_id, &resp).ok());
  CHECK(resp.experiment().name() == "findme");
  pb::GetExperimentRequest by_name;
  by_name.set_id("findme");
  REQUIRE(f.stub().GetExperiment(ServiceFixture::Ctx().get(), by_name, &resp).ok());
  CHECK(resp.experiment().id() == e.id());

  for (const char* bad : {"", "0", "-3", "a b", "x;y", "99999999999999999999999"}) {
    pb::GetExperimentRequest req;
    req.set_id(bad);
    INFO(bad);
    CHECK(f.stub().GetExperiment(ServiceFixture::Ctx().get(), req, &resp).error_code() ==
          StatusCode::INVALID_ARGUMENT);
  }
  for (const char* unknown : {"12345", "nobody"}) {
    pb::GetExperimentRequest req;
    req.set_id(unknown);
    CHECK(f.stub().GetExperiment(ServiceFixture::Ctx().get(), req, &resp).error_code() ==
          StatusCode::NOT_FOUND);
  }
  pb::GetJobRequest job;
  job.set_id(777);
  pb::GetJobResponse job_resp;
  CHECK(f.stub().GetJob(ServiceFixture::Ctx().get(), job, &job_resp).error_code() ==
        StatusCode::NOT_FOUND);
}

TEST_CASE("duplicate live names are ALREADY_EXISTS", "[service]") {
  ServiceFixture f;
  f.Create("twice");
  CHECK(CreateCode(f, ServiceFixture::Experiment("twice")) == StatusCode::ALREADY_EXISTS);
}

TEST_CASE("update changes only masked fields and validates the result", "[service]") {
  ServiceFixture f;
  pb::Experiment e = f.Create("upd");
  pb::UpdateExperimentRequest req;
  req.set_id("upd");
  req.mutable_experiment()->set_nodes(4);
  req.mutable_experiment()->set_gpus(8);
  req.mutable_experiment()->set_description("ignored: not in the mask");
  req.mutable_update_mask()->add_paths("nodes");
  req.mutable_update_mask()->add_paths("gpus");
  pb::UpdateExperimentResponse resp;
  REQUIRE(f.stub().UpdateExperiment(ServiceFixture::Ctx().get(), req, &resp).ok());
  CHECK(resp.experiment().nodes() == 4);
  CHECK(resp.experiment().gpus() == 8);
  CHECK(resp.experiment().description().empty());
  CHECK(resp.experiment().generation() == 2);

  req.mutable_update_mask()->add_paths("generation");
  CHECK(f.stub().UpdateExperiment(ServiceFixture::Ctx().get(), req, &resp).error_code() ==
        StatusCode::INVALID_ARGUMENT);
  pb::UpdateExperimentRequest no_mask;
  no_mask.set_id("upd");
  CHECK(f.stub().UpdateExperiment(ServiceFixture::Ctx().get(), no_mask, &resp).error_code() ==
        StatusCode::INVALID_ARGUMENT);
  pb::UpdateExperimentRequest zero_nodes;
  zero_nodes.set_id("upd");
  zero_nodes.mutable_update_mask()->add_paths("nodes");
  CHECK(f.stub().UpdateExperiment(ServiceFixture::Ctx().get(), zero_nodes, &resp).error_code() ==
        StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("flags can be set and unset without replacing the rest", "[service]") {
  ServiceFixture f;
  f.Create("flags");
  pb::UpdateFlagsRequest req;
  req.set_id("flags");
  (*req.mutable_set())["model.layers"].set_int_value(16);
  (*req.mutable_set())["ppo.enabled"].set_bool_value(true);
  pb::UpdateFlagsResponse resp;
  REQUIRE(f.stub().UpdateFlags(ServiceFixture::Ctx().get(), req, &resp).ok());
  CHECK(resp.experiment().flags().size() == 3);
  CHECK(resp.experiment().flags().at("trainer.lr").double_value() == 3e-4);

  pb::UpdateFlagsRequest unset;
  unset.set_id("flags");
  unset.add_unset("trainer.lr");
  REQUIRE(f.stub().UpdateFlags(ServiceFixture::Ctx().get(), unset, &resp).ok());
  CHECK(resp.experiment().flags().size() == 2);
  CHECK(resp.experiment().flags().count("trainer.lr") == 0);

  pb::UpdateFlagsRequest bad;
  bad.set_id("flags");
  bad.add_unset("no good");
  CHECK(f.stub().UpdateFlags(ServiceFixture::Ctx().get(), bad, &resp).error_code() ==
        StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("desired state changes by id list or selector all or nothing", "[service]") {
  ServiceFixture f;
  pb::Experiment a = f.Create("a");
  f.Create("b");
  pb::Experiment c = ServiceFixture::Experiment("c");
  (*c.mutable_labels())["sweep"] = "other";
  REQUIRE(CreateCode(f, c) == StatusCode::OK);

  pb::SetDesiredStateRequest typo;
  typo.add_ids("a");
  typo.add_ids("missing");
  typo.set_desired_state(pb::DESIRED_STATE_RUNNING);
  pb::SetDesiredStateResponse resp;
  CHECK(f.stub().SetDesiredState(ServiceFixture::Ctx().get(), typo, &resp).error_code() ==
        StatusCode::NOT_FOUND);
  CHECK(f.store().GetExperiment(a.id())->spec.desired_state == DesiredState::kStopped);

  pb::SetDesiredStateRequest by_label;
  by_label.set_label_selector("sweep=lr");
  by_label.set_desired_state(pb::DESIRED_STATE_RUNNING);
  REQUIRE(f.stub().SetDesiredState(ServiceFixture::Ctx().get(), by_label, &resp).ok());
  CHECK(resp.experiments_size() == 2);
  for (const auto& e : resp.experiments()) {
    CHECK(e.desired_state() == pb::DESIRED_STATE_RUNNING);
  }
  pb::SetDesiredStateRequest unspecified;
  unspecified.set_id("a");
  CHECK(f.stub().SetDesiredState(ServiceFixture::Ctx().get(), unspecified, &resp).error_code() ==
        StatusCode::INVALID_ARGUMENT);
  pb::SetDesiredStateRequest nothing;
  nothing.set_desired_state(pb::DESIRED_STATE_STOPPED);
  CHECK(f.stub().SetDesiredState(ServiceFixture::Ctx().get(), nothing, &resp).error_code() ==
        StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("delete refuses a live job and undelete needs the numeric id", "[service]") {
  ServiceFixture f;
  pb::Experiment e = f.Create("del");
  JobRecord intent;
  intent.experiment_id = e.id();
  intent.backend = "local";
  intent.backend_name = "skydeck-x-{attempt}";
  intent.command = "true";
  REQUIRE(f.store().CreateLaunchIntent(intent, "r").ok());
  pb::DeleteExperimentRequest del;
  del.set_id("del");
  pb::DeleteExperimentResponse resp;
  CHECK(f.stub().DeleteExperiment(ServiceFixture::Ctx().get(), del, &resp).error_code() ==
        StatusCode::FAILED_PRECONDITION);

  pb::Experiment idle = f.Create("idle");
  del.set_id("idle");
  REQUIRE(f.stub().DeleteExperiment(ServiceFixture::Ctx().get(), del, &resp).ok());
  CHECK(resp.experiment().has_delete_time());
  pb::UndeleteExperimentRequest undel;
  undel.set_id("idle");
  pb::UndeleteExperimentResponse uresp;
  CHECK(f.stub().UndeleteExperiment(ServiceFixture::Ctx().get(), undel, &uresp).error_code() ==
        StatusCode::INVALID_ARGUMENT);
  undel.set_id(std::to_string(idle.id()));
  REQUIRE(f.stub().UndeleteExperiment(ServiceFixture::Ctx().get(), undel, &uresp).ok());
  CHECK_FALSE(uresp.experiment().has_delete_time());
}

TEST_CASE("bad actor metadata is refused", "[service][validation]") {
  ServiceFixture f;
  pb::CreateExperimentRequest req;
  *req.mutable_experiment() = ServiceFixture::Experiment("actor");
  pb::CreateExperimentResponse resp;
  CHECK(f.stub()
            .CreateExperiment(ServiceFixture::Ctx(std::string(100, 'a')).get(), req, &resp)
            .error_code() == StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("pagination tokens walk every experiment once", "[service]") {
  ServiceFixture f;
  for (int i = 0; i < 7; ++i) f.Create("p" + std::to_string(i));
  pb::ListExperimentsRequest req;
  req.set_page_size(3);
  int seen = 0, pages = 0;
  while (true) {
    pb::ListExperimentsResponse resp;
    REQUIRE(f.stub().ListExperiments(ServiceFixture::Ctx().get(), req, &resp).ok());
    seen += resp.experiments_size();
    ++pages;
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  CHECK(seen == 7);
  CHECK(pages == 3);
  req.set_page_token("garbage");
  pb::ListExperimentsResponse resp;
  CHECK(f.stub().ListExperiments(ServiceFixture::Ctx().get(), req, &resp).error_code() ==
        StatusCode::INVALID_ARGUMENT);
  req.set_page_token("");
  req.set_page_size(5000);
  CHECK(f.stub().ListExperiments(ServiceFixture::Ctx().get(), req, &resp).error_code() ==
        StatusCode::INVALID_ARGUMENT);
  req.set_page_size(0);
  req.set_label_selector("a in (");
  CHECK(f.stub().ListExperiments(ServiceFixture::Ctx().get(), req, &resp).error_code() ==
        StatusCode::INVALID_ARGUMENT);
}

// Reads a whole StreamExperiments call: its messages and the final status.
struct StreamedList {
  std::vector<pb::ListExperimentsResponse> messages;
  grpc::Status status;
};

StreamedList StreamList(ServiceFixture& f, const pb::ListExperimentsRequest& req) {
  StreamedList out;
  auto ctx = ServiceFixture::Ctx();
  auto reader = f.stub().StreamExperiments(ctx.get(), req);
  pb::ListExperimentsResponse msg;
  while (reader->Read(&msg)) out.messages.push_back(msg);
  out.status = reader->Finish();
  return out;
}

TEST_CASE("the experiment stream sends every page of the list in one call", "[service]") {
  ServiceFixture f;
  std::vector<int64_t> ids;
  for (int i = 0; i < 7; ++i) ids.push_back(f.Create("s" + std::to_string(i)).id());
  JobRecord job;
  job.experiment_id = ids[4];
  job.backend = "local";
  job.backend_name = "skydeck-s4-{attempt}";
  job.command = "python train.py";
  REQUIRE(f.store().CreateLaunchIntent(job, "tester").ok());

  pb::ListExperimentsRequest req;
  req.set_page_size(3);
  req.set_include_latest_jobs(true);
  StreamedList list = StreamList(f, req);
  REQUIRE(list.status.ok());
  // Pages of 3, 3 and 1; each names where the next begins, the last nothing.
  REQUIRE(list.messages.size() == 3);
  std::vector<int64_t> seen;
  for (const auto& m : list.messages) {
    for (const auto& e : m.experiments()) seen.push_back(e.id());
  }
  CHECK(seen == ids);
  CHECK(list.messages[0].next_page_token() == std::to_string(ids[2]));
  CHECK(list.messages[1].next_page_token() == std::to_string(ids[5]));
  CHECK(list.messages[2].next_page_token().empty());
  // The newest job comes with the page of its experiment.
  REQUIRE(list.messages[1].latest_jobs_size() == 1);
  CHECK(list.messages[1].latest_jobs(0).experiment_id() == ids[4]);
  CHECK(list.messages[0].latest_jobs_size() == 0);

  // A token resumes after it, as ListExperiments' does.
  req.set_page_token(list.messages[0].next_page_token());
  StreamedList rest = StreamList(f, req);
  REQUIRE(rest.status.ok());
  REQUIRE(rest.messages.size() == 2);
  CHECK(rest.messages[0].experiments(0).id() == ids[3]);
}

TEST_CASE("an experiment stream that matches nothing sends one empty last page", "[service]") {
  ServiceFixture f;
  f.Create("only");
  pb::ListExperimentsRequest req;
  req.set_name_contains("absent");
  StreamedList list = StreamList(f, req);
  REQUIRE(list.status.ok());
  REQUIRE(list.messages.size() == 1);
  CHECK(list.messages[0].experiments_size() == 0);
  CHECK(list.messages[0].next_page_token().empty());
}

TEST_CASE("the experiment stream checks its request as ListExperiments does", "[service]") {
  ServiceFixture f;
  f.Create("one");
  pb::ListExperimentsRequest req;
  req.set_page_size(5000);
  StreamedList list = StreamList(f, req);
  CHECK(list.status.error_code() == StatusCode::INVALID_ARGUMENT);
  CHECK(list.messages.empty());
  req.set_page_size(0);
  req.set_label_selector("a in (");
  CHECK(StreamList(f, req).status.error_code() == StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("watch streams history and then live changes", "[service][watch]") {
  ServiceFixture f;
  pb::Experiment e = f.Create("watched");
  grpc::ClientContext ctx;
  pb::WatchRequest req;
  auto reader = f.stub().Watch(&ctx, req);
  pb::WatchResponse msg;
  REQUIRE(reader->Read(&msg));
  CHECK(msg.event().type() == "Created");
  CHECK(msg.experiment().name() == "watched");

  pb::UpdateFlagsRequest upd;
  upd.set_id("watched");
  (*upd.mutable_set())["x"].set_int_value(1);
  pb::UpdateFlagsResponse uresp;
  REQUIRE(f.stub().UpdateFlags(ServiceFixture::Ctx().get(), upd, &uresp).ok());
  REQUIRE(reader->Read(&msg));
  CHECK(msg.event().type() == "Updated");
  CHECK(msg.experiment().flags().at("x").int_value() == 1);
  CHECK(msg.event().id() > 0);
  ctx.TryCancel();
  while (reader->Read(&msg)) {
  }
  CHECK(reader->Finish().error_code() == StatusCode::CANCELLED);
}

TEST_CASE("watching an unknown experiment is NOT_FOUND, not a silent wait", "[service][watch]") {
  ServiceFixture f;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  pb::WatchRequest req;
  req.set_experiment_id(424242);
  auto reader = f.stub().Watch(&ctx, req);
  pb::WatchResponse msg;
  CHECK_FALSE(reader->Read(&msg));
  CHECK(reader->Finish().error_code() == StatusCode::NOT_FOUND);
}

TEST_CASE("health reports counts and the revision", "[service]") {
  ServiceFixture f;
  f.Create("h1");
  f.Create("h2");
  pb::GetHealthResponse resp;
  REQUIRE(f.stub().GetHealth(ServiceFixture::Ctx().get(), pb::GetHealthRequest(), &resp).ok());
  CHECK(resp.health().status() == pb::Health::STATUS_SERVING);
  CHECK(resp.health().experiments_by_state().at("IDLE") == 2);
  CHECK(resp.health().revision() == 2);
}

TEST_CASE("GetHealth answers from the background counts, not a count per call") {
  ServiceFixture f;
  f.Create("h1");
  pb::GetHealthResponse first;
  REQUIRE(f.stub().GetHealth(ServiceFixture::Ctx().get(), pb::GetHealthRequest(), &first).ok());
  REQUIRE(first.health().experiments_by_state().at("IDLE") == 1);
  // A change the counts have not caught up with (nothing recounts here:
  // the counts were never started): the revision is current, the counts
  // are the earlier ones.
  f.Create("h2");
  for (int i = 0; i < 50; ++i) {
    pb::GetHealthResponse resp;
    REQUIRE(f.stub().GetHealth(ServiceFixture::Ctx().get(), pb::GetHealthRequest(), &resp).ok());
    CHECK(resp.health().revision() == 2);
    CHECK(resp.health().experiments_by_state().at("IDLE") == 1);
  }
  CHECK(f.service().state_counts().counts_taken() == 1);
}

}  // namespace
}  // namespace skydeck::service
