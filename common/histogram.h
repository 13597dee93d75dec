// File: common/histogram.h
//
// A histogram with fixed buckets, the shape Prometheus expects: each
// observation lands in the first bucket whose upper bound is >= it (or in
// the implicit +Inf bucket), and the sum and count of all observations are
// kept. Fixed bounds keep memory and scrape size constant however many
// observations arrive, and make series from different processes add up.
//
//   Histogram h;                 // kLatencyBuckets: 1 ms .. 10 s
//   h.Observe(0.003);
//   HistogramSnapshot s = h.Snapshot();
//   // s.cumulative[2] == 1 (le="0.005"), s.count == 1, s.sum == 0.003
//
// Thread-safety: none; callers that share one lock it (metric_family.h).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace skydeck {

// Upper bounds in seconds for request and backend call latencies: 1 ms to
// 10 s in 1-2.5-5 steps. A backend call that takes longer (a SkyPilot queue
// answer can take seconds) still counts, in +Inf, and in the sum.
inline constexpr double kLatencyBuckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                             0.25,  0.5,    1,     2.5,  5,     10};

// What a histogram holds at one moment, with buckets already cumulative as
// the exposition format wants them.
struct HistogramSnapshot {
  // Finite bucket bounds, ascending.
  std::vector<double> upper_bounds;
  // cumulative[i]: observations <= upper_bounds[i]. Same size as upper_bounds.
  std::vector<uint64_t> cumulative;
  // All observations; also the +Inf bucket.
  uint64_t count = 0;
  double sum = 0;
};

class Histogram {
 public:
  // REQUIRES: `upper_bounds` is ascending, finite and non-empty.
  explicit Histogram(std::span<const double> upper_bounds = kLatencyBuckets);

  // Adds one observation. A value equal to a bound belongs to that bound's
  // bucket ("le" is less-or-equal); NaN is ignored.
  void Observe(double value);

  HistogramSnapshot Snapshot() const;

 private:
  std::vector<double> upper_bounds_;
  // Per-bucket (not cumulative) counts; the last one is the +Inf bucket.
  std::vector<uint64_t> counts_;
  double sum_ = 0;
};

}  // namespace skydeck
