#include "bench/load/latency_stats.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace skydeck::bench {
namespace {

constexpr size_t kErrorSample = 10;

double Round2(double v) { return std::round(v * 100) / 100; }

}  // namespace

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  // Nearest rank: the smallest value with at least p% of samples at or below it.
  size_t rank = static_cast<size_t>(std::ceil(p / 100 * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

void LatencyStats::Add(const std::string& op, double ms, const absl::Status& status) {
  Op& o = ops_[op];
  o.ms.push_back(ms);
  if (!status.ok()) {
    o.errors++;
    if (error_sample_.size() < kErrorSample) {
      error_sample_.push_back(absl::StrCat(op, ": ", status.ToString()));
    }
  }
}

void LatencyStats::Merge(const LatencyStats& other) {
  for (const auto& [name, op] : other.ops_) {
    Op& mine = ops_[name];
    mine.ms.insert(mine.ms.end(), op.ms.begin(), op.ms.end());
    mine.errors += op.errors;
  }
  for (const std::string& e : other.error_sample_) {
    if (error_sample_.size() < kErrorSample) error_sample_.push_back(e);
  }
}

int64_t LatencyStats::total_calls() const {
  int64_t n = 0;
  for (const auto& [name, op] : ops_) n += static_cast<int64_t>(op.ms.size());
  return n;
}

int64_t LatencyStats::total_errors() const {
  int64_t n = 0;
  for (const auto& [name, op] : ops_) n += op.errors;
  return n;
}

nlohmann::json LatencyStats::Summary(double seconds) const {
  nlohmann::json ops = nlohmann::json::object();
  for (const auto& [name, op] : ops_) {
    ops[name] = {{"count", op.ms.size()},
                 {"errors", op.errors},
                 {"p50_ms", Round2(Percentile(op.ms, 50))},
                 {"p99_ms", Round2(Percentile(op.ms, 99))},
                 {"max_ms", Round2(Percentile(op.ms, 100))},
                 {"per_s", Round2(static_cast<double>(op.ms.size()) / seconds)}};
  }
  return {{"seconds", Round2(seconds)},
          {"calls", total_calls()},
          {"errors", total_errors()},
          {"calls_per_s", Round2(static_cast<double>(total_calls()) / seconds)},
          {"ops", ops},
          {"errors_sample", error_sample_}};
}

}  // namespace skydeck::bench
