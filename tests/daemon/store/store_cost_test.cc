// What GetCost and /metrics read: jobs that ran after a time, GPU time
// summed in SQL, preemption gaps and experiment links kept.
#include <catch2/catch.hpp>

#include "common/model/gpu_usage.h"
#include "store_fixture.h"

namespace skydeck::store {
namespace {

constexpr int64_t kHour = 3'600'000;

JobRecord StartJob(StoreFixture& f, int64_t experiment_id, const std::string& gpu_type, int gpus,
                   int64_t started, int64_t ended, int64_t paused = 0, int64_t paused_since = 0) {
  JobRecord intent = StoreFixture::Intent(experiment_id);
  intent.nodes = 2;
  intent.gpus = gpus;
  intent.gpu_type = gpu_type;
  auto created = f.store->CreateLaunchIntent(intent, "tester");
  REQUIRE(created.ok());
  auto updated = f.store->UpdateJob(created->id, [&](JobRecord& j, std::vector<NewEvent>*) {
    j.status = ended ? JobStatus::kSucceeded : JobStatus::kRunning;
    j.started_ms = started;
    j.ended_ms = ended;
    j.paused_ms = paused;
    j.paused_since_ms = paused_since;
    return absl::OkStatus();
  });
  REQUIRE(updated.ok());
  return *updated;
}

TEST_CASE_METHOD(StoreFixture, "jobs keep their preemption gaps", "[store][cost]") {
  ExperimentRecord e = Create("a");
  JobRecord j = StartJob(*this, e.id, "H100", 8, now_ms - 3 * kHour, 0, kHour, now_ms - kHour);
  auto read = store->GetJob(j.id);
  REQUIRE(read.ok());
  CHECK(read->paused_ms == kHour);
  CHECK(read->paused_since_ms == now_ms - kHour);
}

TEST_CASE_METHOD(StoreFixture, "an experiment keeps its link", "[store][links]") {
  ExperimentSpec spec = Spec("linked");
  spec.link = "https://wandb.ai/o/p/runs/x";
  auto created = store->CreateExperiment(spec, "tester");
  REQUIRE(created.ok());
  auto read = store->GetExperiment(created->id);
  REQUIRE(read.ok());
  CHECK(read->spec.link == "https://wandb.ai/o/p/runs/x");
}

TEST_CASE_METHOD(StoreFixture, "jobs that ran after a time", "[store][cost]") {
  ExperimentRecord a = Create("a");
  ExperimentRecord b = Create("b");
  JobRecord old_job = StartJob(*this, a.id, "H100", 8, now_ms - 10 * kHour, now_ms - 9 * kHour);
  JobRecord recent = StartJob(*this, a.id, "H100", 8, now_ms - 5 * kHour, now_ms - kHour);
  JobRecord live = StartJob(*this, b.id, "L4", 1, now_ms - kHour, 0);
  ExperimentRecord c = Create("c");
  REQUIRE(store->CreateLaunchIntent(Intent(c.id), "tester").ok());
  auto all = store->ListJobsRunningAfter(0);
  REQUIRE(all.ok());
  CHECK(all->size() == 3);  // the intent never started
  auto after = store->ListJobsRunningAfter(now_ms - 2 * kHour);
  REQUIRE(after.ok());
  REQUIRE(after->size() == 2);
  CHECK((*after)[0].id == recent.id);
  CHECK((*after)[1].id == live.id);
  (void)old_job;
}

TEST_CASE_METHOD(StoreFixture, "GPU time summed in SQL equals RunningMs", "[store][cost]") {
  ExperimentRecord a = Create("a");
  ExperimentRecord b = Create("b");
  std::vector<JobRecord> jobs = {
      StartJob(*this, a.id, "h100", 8, now_ms - 10 * kHour, now_ms - 9 * kHour),
      StartJob(*this, a.id, "H100", 8, now_ms - 5 * kHour, now_ms - kHour, kHour / 2),
      // Live and recovering for the last half hour.
      StartJob(*this, b.id, "L4", 1, now_ms - 2 * kHour, 0, kHour / 4, now_ms - kHour / 2),
  };
  int64_t h100 = 0, l4 = 0;
  for (const JobRecord& j : jobs) {
    int64_t gpu_ms = j.nodes * j.gpus * RunningMs(j, now_ms);
    (j.gpu_type == "L4" ? l4 : h100) += gpu_ms;
  }
  auto sums = store->SumGpuTime(now_ms);
  REQUIRE(sums.ok());
  REQUIRE(sums->size() == 2);
  CHECK((*sums)[0].gpu_type == "H100");  // compared without case, as prices are
  CHECK((*sums)[0].gpu_ms == h100);
  CHECK((*sums)[1].gpu_type == "L4");
  CHECK((*sums)[1].gpu_ms == l4);
  CHECK(l4 == 2 * 1 * (kHour + kHour / 4));
}

}  // namespace
}  // namespace skydeck::store
