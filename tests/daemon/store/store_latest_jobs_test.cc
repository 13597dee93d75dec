// File: tests/daemon/store/store_latest_jobs_test.cc
//
// ListExperiments with include_latest_jobs: each listed experiment's newest
// job comes with the page (the dashboard's one request instead of one per
// experiment), read from the jobs_by_experiment index.
#include <catch2/catch.hpp>

#include "tests/daemon/store/store_fixture.h"

namespace skydeck::store {
namespace {

// Launches and ends `n` jobs of `experiment_id`; returns the last one's id.
int64_t RunJobs(StoreFixture& f, int64_t experiment_id, int n) {
  int64_t last = 0;
  for (int i = 0; i < n; ++i) {
    auto job = f.store->CreateLaunchIntent(StoreFixture::Intent(experiment_id), "t");
    REQUIRE(job.ok());
    REQUIRE(f.store
                ->UpdateJob(job->id,
                            [&](JobRecord& j, std::vector<NewEvent>*) {
                              j.status = JobStatus::kSucceeded;
                              j.ended_ms = f.now_ms;
                              return absl::OkStatus();
                            })
                .ok());
    last = job->id;
  }
  return last;
}

}  // namespace

TEST_CASE_METHOD(StoreFixture, "a list page carries each listed experiment's newest job",
                 "[store]") {
  ExperimentRecord a = Create("a");
  ExperimentRecord none = Create("no-jobs");
  ExperimentSpec hidden_spec = Spec("hidden");
  hidden_spec.labels = {{"sweep", "other"}};
  auto hidden = store->CreateExperiment(hidden_spec, "t");
  REQUIRE(hidden.ok());
  ExperimentRecord d = Create("d");
  // Interleaved, so "newest" must mean the highest id of that experiment.
  int64_t a_first = RunJobs(*this, a.id, 1);
  int64_t d_last = RunJobs(*this, d.id, 2);
  RunJobs(*this, hidden->id, 1);
  int64_t a_last = RunJobs(*this, a.id, 2);
  REQUIRE(a_last > a_first);

  ExperimentQuery q;
  q.selector = *LabelSelector::Parse("sweep=lr");
  q.include_latest_jobs = true;
  auto page = store->ListExperiments(q);
  REQUIRE(page.ok());
  REQUIRE(page->experiments.size() == 3);  // a, no-jobs, d
  REQUIRE(page->latest_jobs.size() == 2);
  CHECK(page->latest_jobs[0].id == a_last);
  CHECK(page->latest_jobs[0].experiment_id == a.id);
  CHECK(page->latest_jobs[0].status == JobStatus::kSucceeded);
  CHECK(page->latest_jobs[1].id == d_last);
  CHECK(page->latest_jobs[1].experiment_id == d.id);

  SECTION("pages carry only their own experiments' jobs") {
    q.limit = 1;
    q.after_id = a.id;  // the page holds no-jobs alone
    auto second = store->ListExperiments(q);
    REQUIRE(second.ok());
    CHECK(second->experiments.front().id == none.id);
    CHECK(second->latest_jobs.empty());
  }
  SECTION("without the option no jobs are read") {
    q.include_latest_jobs = false;
    CHECK(store->ListExperiments(q)->latest_jobs.empty());
  }
}

}  // namespace skydeck::store
