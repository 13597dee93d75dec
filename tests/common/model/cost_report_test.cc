#include "common/model/cost_report.h"

#include <catch2/catch.hpp>

namespace skydeck {
namespace {

constexpr int64_t kHour = 3'600'000;
// Times are unix ms, 0 meaning unset: tests count hours from here.
constexpr int64_t kT0 = 1'700'000'000'000;

ExperimentRecord Experiment(int64_t id, const std::string& name, Labels labels = {}) {
  ExperimentRecord e;
  e.id = id;
  e.spec.name = name;
  e.spec.labels = std::move(labels);
  return e;
}

// Milliseconds after kT0; `started` < 0: never started; `ended` 0: live.
JobRecord Job(int64_t experiment_id, const std::string& gpu_type, int gpus, int64_t started,
              int64_t ended, bool spot = false) {
  JobRecord j;
  j.experiment_id = experiment_id;
  j.gpu_type = gpu_type;
  j.gpus = gpus;
  j.started_ms = started < 0 ? 0 : kT0 + started;
  j.ended_ms = ended == 0 ? 0 : kT0 + ended;
  j.spot = spot;
  return j;
}

PriceTable Prices() {
  auto t = PriceTable::Parse("gpu_type,on_demand,spot\nH100,2,0.5\n", "p.csv");
  REQUIRE(t.ok());
  return *t;
}

TEST_CASE("cost totals per experiment, label value and in all", "[cost]") {
  std::vector<ExperimentRecord> exps = {Experiment(1, "a", {{"sweep", "lr"}}),
                                        Experiment(2, "b", {{"sweep", "lr"}}),
                                        Experiment(3, "c")};
  std::vector<JobRecord> jobs = {
      Job(1, "H100", 8, 0, 2 * kHour),               // 16 GPU-h, $32
      Job(1, "H100", 8, 2 * kHour, 3 * kHour, true),  // 8 GPU-h spot, $4
      Job(2, "H100", 1, 0, 0),                        // live: 10 GPU-h at now, $20
      Job(3, "L4", 2, 0, kHour),                      // 2 GPU-h, no price
      Job(3, "H100", 8, -1, 0),                       // never started
  };
  CostQuery q;
  q.now_ms = kT0 + 10 * kHour;

  q.group_by = CostGrouping::kTotal;
  CostReport total = BuildCostReport(exps, jobs, Prices(), q);
  CHECK(total.groups.empty());
  CHECK(total.total.gpu_hours == Approx(36));
  CHECK(total.total.cost == Approx(56));
  CHECK(total.total.unpriced_gpu_hours == Approx(2));
  CHECK(total.total.job_count == 4);
  CHECK(total.total.live_job_count == 1);

  q.group_by = CostGrouping::kExperiment;
  CostReport by_exp = BuildCostReport(exps, jobs, Prices(), q);
  REQUIRE(by_exp.groups.size() == 3);
  CHECK(by_exp.groups[0].key == "a");  // most expensive first
  CHECK(by_exp.groups[0].experiment_id == 1);
  CHECK(by_exp.groups[0].cost == Approx(36));
  CHECK(by_exp.groups[1].key == "b");
  CHECK(by_exp.groups[2].key == "c");
  CHECK(by_exp.groups[2].unpriced_gpu_hours == Approx(2));

  q.group_by = CostGrouping::kLabel;
  q.label_key = "sweep";
  CostReport by_label = BuildCostReport(exps, jobs, Prices(), q);
  REQUIRE(by_label.groups.size() == 2);
  CHECK(by_label.groups[0].key == "lr");
  CHECK(by_label.groups[0].gpu_hours == Approx(34));
  CHECK(by_label.groups[1].key == "");  // experiments without the label
  CHECK(by_label.total.gpu_hours == Approx(36));

  q.group_by = CostGrouping::kGpuType;
  CostReport by_gpu = BuildCostReport(exps, jobs, Prices(), q);
  REQUIRE(by_gpu.groups.size() == 2);
  CHECK(by_gpu.groups[0].key == "H100");
  CHECK(by_gpu.groups[1].key == "L4");
}

TEST_CASE("a window counts only running time after its start", "[cost]") {
  std::vector<ExperimentRecord> exps = {Experiment(1, "a")};
  std::vector<JobRecord> jobs = {Job(1, "H100", 1, 0, 4 * kHour), Job(1, "H100", 1, 0, kHour)};
  CostQuery q;
  q.now_ms = kT0 + 10 * kHour;
  q.from_ms = kT0 + 2 * kHour;
  CostReport r = BuildCostReport(exps, jobs, Prices(), q);
  CHECK(r.total.gpu_hours == Approx(2));  // the second job ended before the window
  CHECK(r.total.job_count == 1);
}

TEST_CASE("jobs of experiments not listed are left out", "[cost]") {
  CostQuery q;
  q.now_ms = kT0 + kHour;
  CostReport r = BuildCostReport({Experiment(1, "a")}, {Job(2, "H100", 1, 0, kHour)}, Prices(), q);
  CHECK(r.total.job_count == 0);
  CHECK(r.total.gpu_hours == 0);
}

TEST_CASE("a job's cost uses the spot or on-demand price", "[cost]") {
  CHECK(*JobCost(Job(1, "H100", 2, 0, kHour), Prices(), kT0 + kHour) == Approx(4));
  CHECK(*JobCost(Job(1, "H100", 2, 0, kHour, true), Prices(), kT0 + kHour) == Approx(1));
  CHECK_FALSE(JobCost(Job(1, "L4", 2, 0, kHour), Prices(), kT0 + kHour).has_value());
  CHECK(*JobCost(Job(1, "", 0, 0, kHour), Prices(), kT0 + kHour) == 0);  // no GPUs: nothing to price
}

}  // namespace
}  // namespace skydeck
