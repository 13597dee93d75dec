// File: bench/load/latency_stats.h
//
// Per-operation latency samples and error counts of one load phase. Each
// client thread fills its own LatencyStats; the phase merges them and
// prints one JSON summary, e.g.
//
//   {"grpc GetExperiment": {"count": 1200, "errors": 0, "p50_ms": 1.9,
//                           "p99_ms": 12.4, "max_ms": 30.1, "per_s": 120.0}, ...}
//
// Thread-safety: none; one instance per thread, merged after join.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace skydeck::bench {

class LatencyStats {
 public:
  // Records one call of `op` that took `ms`. Failed calls count as errors
  // (and keep their latency); the first few messages are kept.
  void Add(const std::string& op, double ms, const absl::Status& status);
  void Merge(const LatencyStats& other);

  int64_t total_calls() const;
  int64_t total_errors() const;

  // Summary per operation over a phase of `seconds`, with an "errors_sample"
  // list of the first error messages.
  nlohmann::json Summary(double seconds) const;

 private:
  struct Op {
    std::vector<double> ms;
    int64_t errors = 0;
  };
  std::map<std::string, Op> ops_;
  std::vector<std::string> error_sample_;
};

// The p-th percentile (0-100) of `values` by nearest rank; 0 when empty.
double Percentile(std::vector<double> values, double p);

}  // namespace skydeck::bench
