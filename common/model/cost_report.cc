#include "common/model/cost_report.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

#include "common/model/gpu_usage.h"

namespace skydeck {
namespace {

std::string GroupKey(const ExperimentRecord& e, const JobRecord& job, const CostQuery& q) {
  switch (q.group_by) {
    case CostGrouping::kTotal:
      return "";
    case CostGrouping::kExperiment:
      return e.spec.name;
    case CostGrouping::kLabel: {
      auto it = e.spec.labels.find(q.label_key);
      return it == e.spec.labels.end() ? "" : it->second;
    }
    case CostGrouping::kGpuType:
      return job.gpus > 0 ? absl::AsciiStrToUpper(job.gpu_type) : "";
  }
  return "";
}

void Add(CostLine& line, const JobRecord& job, double gpu_hours, std::optional<double> cost) {
  line.gpu_hours += gpu_hours;
  if (cost) {
    line.cost += *cost;
  } else {
    line.unpriced_gpu_hours += gpu_hours;
  }
  ++line.job_count;
  if (job.live()) ++line.live_job_count;
}

}  // namespace

std::optional<double> JobCost(const JobRecord& job, const PriceTable& prices, int64_t now_ms,
                              int64_t from_ms) {
  double hours = GpuHours(job, now_ms, from_ms);
  if (job.gpus <= 0) return 0.0;
  std::optional<double> rate = prices.PerGpuHour(job.gpu_type, job.spot);
  if (!rate) return std::nullopt;
  return hours * *rate;
}

CostReport BuildCostReport(const std::vector<ExperimentRecord>& experiments,
                           const std::vector<JobRecord>& jobs, const PriceTable& prices,
                           const CostQuery& query) {
  std::map<int64_t, const ExperimentRecord*> by_id;
  for (const ExperimentRecord& e : experiments) by_id.emplace(e.id, &e);
  std::map<std::string, CostLine> groups;
  CostReport report;
  for (const JobRecord& job : jobs) {
    auto e = by_id.find(job.experiment_id);
    if (e == by_id.end() || job.started_ms == 0) continue;
    if (query.from_ms > 0 && job.ended_ms != 0 && job.ended_ms <= query.from_ms) continue;
    double hours = GpuHours(job, query.now_ms, query.from_ms);
    std::optional<double> cost = JobCost(job, prices, query.now_ms, query.from_ms);
    std::string key = GroupKey(*e->second, job, query);
    // Names of deleted experiments may be reused: group those by id.
    std::string map_key = query.group_by == CostGrouping::kExperiment
                              ? absl::StrCat(e->second->id)
                              : key;
    CostLine& line = groups[map_key];
    line.key = key;
    if (query.group_by == CostGrouping::kExperiment) line.experiment_id = e->second->id;
    Add(line, job, hours, cost);
    Add(report.total, job, hours, cost);
  }
  if (query.group_by != CostGrouping::kTotal) {
    for (auto& [key, line] : groups) report.groups.push_back(std::move(line));
  }
  std::sort(report.groups.begin(), report.groups.end(), [](const CostLine& a, const CostLine& b) {
    return std::tie(b.cost, b.gpu_hours, a.key) < std::tie(a.cost, a.gpu_hours, b.key);
  });
  return report;
}

}  // namespace skydeck
