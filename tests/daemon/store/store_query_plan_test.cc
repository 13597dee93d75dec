// File: tests/daemon/store/store_query_plan_test.cc
//
// Every read of one experiment (its record, jobs, events, live job) walks an
// index. A full scan of experiments, jobs or events costs 80-250 ms at
// 100,000 experiments and 6M events, under the store's single lock, so one
// client paging an experiment's events stalls every other client.
#include <string>

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

#include "tests/daemon/store/store_fixture.h"

namespace skydeck::store {
namespace {

// The plan steps that read a whole table ("SCAN events"); "SCAN" of a
// subquery's result or a constant row is fine.
std::vector<std::string> FullScans(const std::string& plan) {
  std::vector<std::string> scans;
  for (absl::string_view step : absl::StrSplit(plan, '\n')) {
    for (const char* table : {"SCAN experiments", "SCAN jobs", "SCAN events"}) {
      if (absl::StartsWith(step, table)) scans.emplace_back(step);
    }
  }
  return scans;
}

}  // namespace

TEST_CASE_METHOD(StoreFixture, "reads of one experiment use an index, not a table scan",
                 "[store]") {
  ExperimentRecord a = Create("a");
  Create("b");
  auto job = store->CreateLaunchIntent(Intent(a.id), "t");
  REQUIRE(job.ok());

  // The statement cache then holds every statement these reads use.
  REQUIRE(store->GetExperiment(a.id).ok());
  REQUIRE(store->LiveJob(a.id).ok());
  REQUIRE(store->ListJobs(a.id, 0, 20).ok());
  REQUIRE(store->ListJobs(a.id, job->id + 1, 20).ok());
  REQUIRE(store->ListEvents(a.id, 0, 20).ok());
  REQUIRE(store->ListEvents(a.id, 1000, 20).ok());
  REQUIRE(store->EventsAfter(0, a.id, 20).ok());
  REQUIRE(store->ListEvents(0, 0, 20).ok());
  REQUIRE(store->EventsAfter(1, 0, 20).ok());

  auto plans = store->QueryPlansForTesting();
  REQUIRE(plans.ok());
  int checked = 0;
  for (const auto& [sql, plan] : *plans) {
    // The statements that read by experiment or by id, and all event reads.
    if (!absl::StrContains(sql, "experiment_id") && !absl::StrContains(sql, "FROM events") &&
        !absl::StrContains(sql, "WHERE id =") && !absl::StrContains(sql, "WHERE e.id =")) {
      continue;
    }
    INFO(sql << "\n" << plan);
    CHECK(FullScans(plan).empty());
    ++checked;
  }
  // Events (4 shapes), jobs of an experiment, the live job, the record.
  CHECK(checked >= 6);
}

}  // namespace skydeck::store
