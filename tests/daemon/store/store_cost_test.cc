// What GetCost and /metrics read: jobs that ran after a time, GPU time
// summed in SQL, preemption gaps and experiment links kept.
#include <map>
#include <utility>

#include <catch2/catch.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/model/gpu_usage.h"
#include "daemon/store/sqlite.h"
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

using GpuSums = std::map<std::pair<std::string, bool>, int64_t>;

// What SumGpuTime must answer: every started job's RunningMs, read job by
// job (zero sums left out: a group whose jobs were purged may keep a 0).
GpuSums Recomputed(Store& store, int64_t now_ms) {
  auto jobs = store.ListJobsRunningAfter(0);
  REQUIRE(jobs.ok());
  GpuSums sums;
  for (const JobRecord& j : *jobs) {
    if (j.gpus <= 0 || j.nodes <= 0) continue;
    sums[{absl::AsciiStrToUpper(j.gpu_type), j.spot}] += j.nodes * j.gpus * RunningMs(j, now_ms);
  }
  std::erase_if(sums, [](const auto& kv) { return kv.second == 0; });
  return sums;
}

GpuSums Summed(Store& store, int64_t now_ms) {
  auto rows = store.SumGpuTime(now_ms);
  REQUIRE(rows.ok());
  GpuSums sums;
  for (const Store::GpuTime& t : *rows) {
    if (t.gpu_ms != 0) sums[{t.gpu_type, t.spot}] = t.gpu_ms;
  }
  return sums;
}

absl::Status EditJob(Store& store, int64_t id, const std::function<void(JobRecord&)>& edit) {
  return store
      .UpdateJob(id,
                 [&](JobRecord& j, std::vector<NewEvent>*) {
                   edit(j);
                   return absl::OkStatus();
                 })
      .status();
}

TEST_CASE_METHOD(StoreFixture,
                 "the ended jobs' GPU time stays equal to the jobs' through ends, edits and "
                 "purges",
                 "[store][cost]") {
  ExperimentRecord a = Create("a");
  ExperimentRecord b = Create("b");
  StartJob(*this, a.id, "H100", 8, now_ms - 10 * kHour, now_ms - 9 * kHour, kHour / 4);
  JobRecord b_old = StartJob(*this, b.id, "l4", 1, now_ms - 8 * kHour, now_ms - 7 * kHour);
  JobRecord live = StartJob(*this, b.id, "L4", 1, now_ms - 2 * kHour, 0, 0, now_ms - kHour);
  StartJob(*this, a.id, "A100", 0, now_ms - kHour, now_ms - kHour / 2);  // no GPUs
  CHECK(Summed(*store, now_ms) == Recomputed(*store, now_ms));
  CHECK(Summed(*store, now_ms).size() == 2);

  SECTION("a live job ends, its pause ending with it") {
    now_ms += kHour;
    EndJob(live.id, JobStatus::kFailed);
    CHECK(Summed(*store, now_ms) == Recomputed(*store, now_ms));
    // Ended: later scrapes add nothing for it.
    CHECK(Summed(*store, now_ms + 5 * kHour) == Summed(*store, now_ms));
  }
  SECTION("an ended job is corrected: other GPU type, spot, pause and size") {
    REQUIRE(EditJob(*store, b_old.id, [&](JobRecord& j) {
              j.gpu_type = "H100";
              j.spot = true;
              j.paused_ms = kHour / 2;
              j.nodes = 4;
            }).ok());
    CHECK(Summed(*store, now_ms) == Recomputed(*store, now_ms));
    REQUIRE(EditJob(*store, b_old.id, [&](JobRecord& j) { j.gpus = 0; }).ok());
    CHECK(Summed(*store, now_ms) == Recomputed(*store, now_ms));
  }
  SECTION("a change rolled back leaves the sums as they were") {
    GpuSums before = Summed(*store, now_ms);
    auto refused = store->UpdateJob(b_old.id, [](JobRecord& j, std::vector<NewEvent>*) {
      j.gpus = 64;
      return absl::InvalidArgumentError("no");
    });
    CHECK_FALSE(refused.ok());
    CHECK(Summed(*store, now_ms) == before);
  }
  SECTION("a purged experiment's jobs leave the sums") {
    REQUIRE(store->Purge(a.id, "tester").ok());
    CHECK(Summed(*store, now_ms) == Recomputed(*store, now_ms));
    CHECK(Summed(*store, now_ms).count({"H100", false}) == 0);
  }
}

TEST_CASE_METHOD(StoreFixture, "a scrape of the GPU time reads no whole table", "[store][cost]") {
  ExperimentRecord a = Create("a");
  StartJob(*this, a.id, "H100", 8, now_ms - kHour, 0);
  REQUIRE(store->SumGpuTime(now_ms).ok());
  auto plans = store->QueryPlansForTesting();
  REQUIRE(plans.ok());
  int checked = 0;
  for (const auto& [sql, plan] : *plans) {
    if (!absl::StrContains(sql, "FROM gpu_time_ended")) continue;
    INFO(sql << "\n" << plan);
    CHECK_FALSE(absl::StrContains(plan, "SCAN jobs"));
    ++checked;
  }
  CHECK(checked == 1);
}

TEST_CASE("migration 10 sums the GPU time of the jobs already ended", "[store][cost]") {
  TempDir dir;
  const std::string path = dir.File("skydeck.db");
  int64_t now_ms = 1'700'000'000'000;
  int64_t live_id = 0;
  {
    auto opened = Store::Open(path, [&] { return now_ms; });
    REQUIRE(opened.ok());
    StoreFixture f;
    f.store = std::move(*opened);
    f.now_ms = now_ms;
    ExperimentRecord a = f.Create("a");
    ExperimentRecord b = f.Create("b");
    StartJob(f, a.id, "H100", 8, now_ms - 10 * kHour, now_ms - 9 * kHour, kHour / 4);
    StartJob(f, b.id, "L4", 1, now_ms - 8 * kHour, now_ms - 7 * kHour);
    live_id = StartJob(f, a.id, "H100", 8, now_ms - kHour, 0).id;
  }
  {
    // Back to schema 9, with the sums gone: the migration must rebuild
    // them from the jobs.
    auto conn = Connection::Open(path);
    REQUIRE(conn.ok());
    REQUIRE((*conn)
                ->Exec("DROP TRIGGER gpu_time_ended_insert; DROP TRIGGER gpu_time_ended_delete; "
                       "DROP TRIGGER gpu_time_ended_update; DROP TABLE gpu_time_ended; "
                       "PRAGMA user_version = 9")
                .ok());
  }
  auto opened = Store::Open(path, [&] { return now_ms; });
  REQUIRE(opened.ok());
  Store& store = **opened;
  CHECK(Summed(store, now_ms) == Recomputed(store, now_ms));
  REQUIRE(EditJob(store, live_id, [&](JobRecord& j) {
            j.status = JobStatus::kSucceeded;
            j.ended_ms = now_ms;
          }).ok());
  CHECK(Summed(store, now_ms) == Recomputed(store, now_ms));
  CHECK(Summed(store, now_ms).at({"H100", false}) == 8 * 2 * (kHour - kHour / 4 + kHour));
}

}  // namespace
}  // namespace skydeck::store
