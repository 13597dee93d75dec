// SetDesiredState and DeleteExperiments over many experiments: one
// request by filter, one transaction, the reconciler told once.
#include <chrono>
#include <mutex>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "service_fixture.h"

#include "daemon/service/skydeck_service.h"

namespace skydeck::service {
namespace {

using grpc::StatusCode;

// Records what the service enqueues. With `end_jobs`, it plays the
// reconciler of a forced delete: every live job of an enqueued experiment
// whose desired state is TERMINATED ends (cancelled).
class RecordingControlPlane final : public ControlPlane {
 public:
  store::Store* store = nullptr;
  bool end_jobs = false;

  void Enqueue(int64_t id) override { EnqueueMany({id}); }
  void EnqueueMany(const std::vector<int64_t>& ids) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      batches_.push_back(ids);
    }
    if (!end_jobs) return;
    for (int64_t id : ids) {
      auto live = store->LiveJob(id);
      if (!live.ok() || !*live) continue;
      REQUIRE(store
                  ->UpdateJob((*live)->id,
                              [](JobRecord& j, std::vector<NewEvent>*) {
                                j.status = JobStatus::kCancelled;
                                j.ended_ms = 1;
                                return absl::OkStatus();
                              })
                  .ok());
    }
  }
  absl::StatusOr<int> Refresh() override { return 0; }
  BackendHealth Health() override { return {}; }
  absl::Status CheckLaunchable(const ExperimentSpec&) override { return absl::OkStatus(); }
  std::string DefaultWorkdirRefusal() override { return ""; }
  absl::StatusOr<JobRecord> StreamLogs(const JobRecord&, bool, const backend::LogTail&,
                                       const reconcile::LogSinks&,
                                       const std::function<bool()>&) override {
    return absl::UnimplementedError("no logs here");
  }
  std::vector<std::vector<int64_t>> batches() {
    std::lock_guard<std::mutex> lock(mu_);
    return batches_;
  }

 private:
  std::mutex mu_;
  std::vector<std::vector<int64_t>> batches_;
};

// n experiments labelled sweep=big (through the store: fast).
void CreateMany(ServiceFixture& f, int n, const std::string& sweep = "big") {
  for (int i = 0; i < n; ++i) {
    ExperimentSpec spec;
    spec.name = absl::StrCat(sweep, "-", i);
    spec.base_command = "python train.py";
    spec.labels = {{"sweep", sweep}};
    REQUIRE(f.store().CreateExperiment(spec, "t").ok());
  }
}

void StartLiveJob(ServiceFixture& f, int64_t experiment_id) {
  JobRecord intent;
  intent.experiment_id = experiment_id;
  intent.backend = "local";
  intent.backend_name = absl::StrCat("skydeck-", experiment_id, "-{attempt}");
  intent.command = "true";
  REQUIRE(f.store().CreateLaunchIntent(intent, "r").ok());
}

TEST_CASE("a filter changes more than 1000 experiments in one request and one transaction",
          "[service][bulk]") {
  RecordingControlPlane control;
  ServiceFixture f(&control);
  CreateMany(f, 1500);
  CreateMany(f, 3, "small");
  int64_t transactions = f.store().TransactionCountForTesting();

  pb::SetDesiredStateRequest req;
  req.mutable_filter()->set_label_selector("sweep=big");
  req.set_desired_state(pb::DESIRED_STATE_RUNNING);
  pb::SetDesiredStateResponse resp;
  REQUIRE(f.stub().SetDesiredState(ServiceFixture::Ctx().get(), req, &resp).ok());
  CHECK(resp.matched() == 1500);
  CHECK(resp.changed() == 1500);
  CHECK(resp.ids_size() == 1500);
  CHECK(resp.experiments_size() == 0);  // more than 1000: ids only
  CHECK(f.store().TransactionCountForTesting() == transactions + 1);
  // The reconciler is handed exactly the changed ids, at once.
  REQUIRE(control.batches().size() == 1);
  CHECK(control.batches()[0] == std::vector<int64_t>(resp.ids().begin(), resp.ids().end()));
  auto small = f.store().FindExperimentByName("small-0");
  CHECK(small->spec.desired_state == DesiredState::kStopped);

  // Stop them, then stop them again: the second changes nothing and hands
  // the reconciler nothing.
  req.set_desired_state(pb::DESIRED_STATE_STOPPED);
  REQUIRE(f.stub().SetDesiredState(ServiceFixture::Ctx().get(), req, &resp).ok());
  CHECK(resp.changed() == 1500);
  REQUIRE(f.stub().SetDesiredState(ServiceFixture::Ctx().get(), req, &resp).ok());
  CHECK(resp.matched() == 1500);
  CHECK(resp.changed() == 0);
  REQUIRE(control.batches().size() == 3);
  CHECK(control.batches()[2].empty());
}

TEST_CASE("a filter narrows by state and search text; small answers carry the experiments",
          "[service][bulk]") {
  ServiceFixture f;
  CreateMany(f, 4);
  pb::SetDesiredStateRequest first;
  first.add_ids("big-0");
  first.add_ids("big-1");
  first.set_desired_state(pb::DESIRED_STATE_TERMINATED);
  pb::SetDesiredStateResponse resp;
  REQUIRE(f.stub().SetDesiredState(ServiceFixture::Ctx().get(), first, &resp).ok());
  REQUIRE(resp.experiments_size() == 2);
  CHECK(resp.experiments(0).name() == "big-0");

  pb::SetDesiredStateRequest req;
  req.mutable_filter()->add_desired_states(pb::DESIRED_STATE_STOPPED);
  req.mutable_filter()->set_text("BIG-3 train.py");
  req.set_desired_state(pb::DESIRED_STATE_RUNNING);
  REQUIRE(f.stub().SetDesiredState(ServiceFixture::Ctx().get(), req, &resp).ok());
  REQUIRE(resp.experiments_size() == 1);
  CHECK(resp.experiments(0).name() == "big-3");
  CHECK(resp.experiments(0).desired_state() == pb::DESIRED_STATE_RUNNING);

  // An empty filter is every live experiment.
  pb::SetDesiredStateRequest all;
  all.mutable_filter();
  all.set_desired_state(pb::DESIRED_STATE_STOPPED);
  REQUIRE(f.stub().SetDesiredState(ServiceFixture::Ctx().get(), all, &resp).ok());
  CHECK(resp.matched() == 4);
  CHECK(resp.changed() == 3);
}

TEST_CASE("a bulk change cut off by the caller's deadline changes nothing", "[service][bulk]") {
  ServiceFixture f;
  CreateMany(f, 20000);
  pb::SetDesiredStateRequest req;
  req.mutable_filter()->set_label_selector("sweep=big");
  req.set_desired_state(pb::DESIRED_STATE_TERMINATED);
  pb::SetDesiredStateResponse resp;
  auto ctx = ServiceFixture::Ctx();
  // Far less than 20,000 changes take (about a second in a Debug build).
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(100));
  grpc::Status s = f.stub().SetDesiredState(ctx.get(), req, &resp);
  f.StopServer();  // the handler has finished, whatever the caller saw
  store::ExperimentQuery all;
  all.limit = 30000;
  int changed = 0;
  store::ExperimentPage page = *f.store().ListExperiments(all);
  for (const ExperimentRecord& r : page.experiments) {
    changed += r.spec.desired_state != DesiredState::kStopped;
  }
  // All or nothing, and the caller's answer says which. (A machine fast
  // enough to make 20,000 changes in 75 ms would see OK and all of them.)
  INFO(s.error_code() << ": " << s.error_message());
  if (s.ok()) {
    CHECK(changed == 20000);
  } else {
    CHECK(s.error_code() == StatusCode::DEADLINE_EXCEEDED);
    CHECK(changed == 0);
    CHECK(*f.store().LatestRevision() == 20000);  // the Created events only
  }
}

TEST_CASE("bulk filters are validated, naming the field", "[service][bulk][validation]") {
  ServiceFixture f;
  CreateMany(f, 2);
  auto code_and_message = [&](const pb::SetDesiredStateRequest& req) {
    pb::SetDesiredStateResponse resp;
    grpc::Status s = f.stub().SetDesiredState(ServiceFixture::Ctx().get(), req, &resp);
    return std::make_pair(s.error_code(), s.error_message());
  };
  pb::SetDesiredStateRequest both;
  both.set_label_selector("sweep=big");
  both.mutable_filter()->set_label_selector("sweep=big");
  both.set_desired_state(pb::DESIRED_STATE_RUNNING);
  auto [code, message] = code_and_message(both);
  CHECK(code == StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(message, Catch::Contains("not both"));

  pb::SetDesiredStateRequest long_text;
  long_text.mutable_filter()->set_text(std::string(2000, 'a'));
  long_text.set_desired_state(pb::DESIRED_STATE_RUNNING);
  std::tie(code, message) = code_and_message(long_text);
  CHECK(code == StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(message, Catch::Contains("filter.text"));

  pb::SetDesiredStateRequest bad_selector;
  bad_selector.mutable_filter()->set_label_selector("a in (");
  bad_selector.set_desired_state(pb::DESIRED_STATE_RUNNING);
  CHECK(code_and_message(bad_selector).first == StatusCode::INVALID_ARGUMENT);
  store::ExperimentPage page = *f.store().ListExperiments({});
  for (const ExperimentRecord& r : page.experiments) {
    CHECK(r.spec.desired_state == DesiredState::kStopped);
  }
}

TEST_CASE("bulk delete is all or nothing, and force terminates and waits first",
          "[service][bulk]") {
  RecordingControlPlane control;
  ServiceFixture f(&control);
  control.store = &f.store();
  CreateMany(f, 5);
  StartLiveJob(f, 2);
  StartLiveJob(f, 4);

  pb::DeleteExperimentsRequest req;
  req.mutable_filter()->set_label_selector("sweep=big");
  pb::DeleteExperimentsResponse resp;
  grpc::Status s = f.stub().DeleteExperiments(ServiceFixture::Ctx().get(), req, &resp);
  CHECK(s.error_code() == StatusCode::FAILED_PRECONDITION);
  CHECK_THAT(s.error_message(), Catch::Contains("big-1") && Catch::Contains("big-3"));
  CHECK(f.store().ListLiveExperimentIds()->size() == 5);

  control.end_jobs = true;
  req.set_force(true);
  REQUIRE(f.stub().DeleteExperiments(ServiceFixture::Ctx().get(), req, &resp).ok());
  CHECK(resp.deleted() == 5);
  CHECK(resp.experiments_size() == 5);
  CHECK(f.store().ListLiveExperimentIds()->empty());
  // The two that ran were terminated before they were archived.
  CHECK(f.store().GetExperiment(2)->spec.desired_state == DesiredState::kTerminated);
  CHECK(f.store().GetExperiment(1)->spec.desired_state == DesiredState::kStopped);

  // Purge by id, deleted ones included.
  pb::DeleteExperimentsRequest purge;
  purge.add_ids("1");
  purge.add_ids("2");
  purge.set_purge(true);
  REQUIRE(f.stub().DeleteExperiments(ServiceFixture::Ctx().get(), purge, &resp).ok());
  CHECK(resp.deleted() == 2);
  CHECK(absl::IsNotFound(f.store().GetExperiment(1).status()));
}

}  // namespace
}  // namespace skydeck::service
