// File: common/model/cost_report.h
//
// GPU-hours and cost of jobs, totalled per group: what `skydeck cost` and
// the dashboard's cost column show, computed by the daemon from the jobs
// it stores (GetCost) at read time, so running jobs accrue up to `now`.
//
//   CostReport r = BuildCostReport(experiments, jobs, prices,
//                                  {.group_by = CostGrouping::kLabel, .label_key = "sweep",
//                                   .from_ms = now - 7 days, .now_ms = now});
//   r.groups[0].key == "lr-sweep"; r.total.gpu_hours == sum of the groups'
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/model/price_table.h"
#include "common/model/records.h"

namespace skydeck {

enum class CostGrouping { kTotal, kExperiment, kLabel, kGpuType };

struct CostQuery {
  CostGrouping group_by = CostGrouping::kTotal;
  // With kLabel: the label whose values are the groups (experiments
  // without it form the group "").
  std::string label_key;
  // Only running time after this (unix ms; 0: all time).
  int64_t from_ms = 0;
  int64_t now_ms = 0;
};

struct CostLine {
  // The experiment's name, the label value, or the GPU type; "" for the total.
  std::string key;
  int64_t experiment_id = 0;  // kExperiment only
  double gpu_hours = 0;
  // USD of the GPU-hours the price table prices.
  double cost = 0;
  // GPU-hours of jobs whose GPU type (or spot/on-demand kind) the table
  // has no price for: `cost` leaves them out.
  double unpriced_gpu_hours = 0;
  // Jobs that ran within the window, and those still running.
  int job_count = 0;
  int live_job_count = 0;
};

struct CostReport {
  // Ordered by cost, then GPU-hours, descending, then key.
  std::vector<CostLine> groups;
  CostLine total;
};

// Adds up `jobs` (of `experiments`, matched by id; a job of an experiment
// not listed is skipped, so the caller filters by listing). Jobs that never
// started count nothing.
CostReport BuildCostReport(const std::vector<ExperimentRecord>& experiments,
                           const std::vector<JobRecord>& jobs, const PriceTable& prices,
                           const CostQuery& query);

// One job's cost; unset when the table has no price for it. 0 without GPUs.
std::optional<double> JobCost(const JobRecord& job, const PriceTable& prices, int64_t now_ms,
                              int64_t from_ms = 0);

}  // namespace skydeck
