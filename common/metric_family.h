// File: common/metric_family.h
//
// Counters, gauges and histograms keyed by label values; each object is one
// Prometheus metric family and renders itself with prometheus_text.h.
//
//   CounterFamily requests("skydeck_grpc_requests_total",
//                          "gRPC requests by method and status code.", {"method", "code"});
//   requests.Add({"skydeck.v1.SkyDeck/GetJob", "OK"});
//   HistogramFamily seconds("skydeck_grpc_request_duration_seconds", "...", {"method"});
//   seconds.Observe({"skydeck.v1.SkyDeck/GetJob"}, 0.004);
//   PrometheusText text;
//   requests.Render(&text);
//   seconds.Render(&text);
//
// A series exists from its first update on and is never removed, so callers
// keep label values to a bounded set (method names, operations, codes), never
// ids or free text. Series render sorted by label values.
//
// Thread-safety: every method is safe to call concurrently; each family has
// its own mutex, held only to update one series or to copy them all.
#pragma once

#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#include "common/histogram.h"
#include "common/prometheus_text.h"

namespace skydeck {
namespace metric_family_internal {

// Series of one family: label values -> Cell (a double or a Histogram).
template <typename Cell>
class SeriesMap {
 public:
  SeriesMap(std::vector<std::string> label_names, Cell initial)
      : label_names_(std::move(label_names)), initial_(std::move(initial)) {}

  // Runs update(cell) on the series, creating it from `initial` first.
  // REQUIRES: one value per label name.
  template <typename Fn>
  void Update(const std::vector<std::string>& label_values, Fn update) {
    absl::MutexLock lock(&mu_);
    update(cells_.try_emplace(label_values, initial_).first->second);
  }

  // The series' cell, or `initial` for one never updated.
  Cell Get(const std::vector<std::string>& label_values) const {
    absl::MutexLock lock(&mu_);
    auto it = cells_.find(label_values);
    return it == cells_.end() ? initial_ : it->second;
  }

  // Every series with its labels, copied under the lock.
  std::vector<std::pair<MetricLabels, Cell>> Copy() const {
    absl::MutexLock lock(&mu_);
    std::vector<std::pair<MetricLabels, Cell>> out;
    out.reserve(cells_.size());
    for (const auto& [values, cell] : cells_) {
      MetricLabels labels;
      for (size_t i = 0; i < label_names_.size() && i < values.size(); ++i) {
        labels.emplace_back(label_names_[i], values[i]);
      }
      out.emplace_back(std::move(labels), cell);
    }
    return out;
  }

 private:
  const std::vector<std::string> label_names_;
  const Cell initial_;
  mutable absl::Mutex mu_;
  std::map<std::vector<std::string>, Cell> cells_ ABSL_GUARDED_BY(mu_);
};

}  // namespace metric_family_internal

// A monotonically increasing count (requests, errors).
class CounterFamily {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> label_names);

  // REQUIRES: one value per label name; `by` >= 0.
  void Add(const std::vector<std::string>& label_values, double by = 1);
  // 0 for a series never added to.
  double Value(const std::vector<std::string>& label_values) const;
  void Render(PrometheusText* out) const;

 private:
  const std::string name_;
  const std::string help_;
  metric_family_internal::SeriesMap<double> series_;
};

// A value that goes up and down (streams open now).
class GaugeFamily {
 public:
  GaugeFamily(std::string name, std::string help, std::vector<std::string> label_names);

  // REQUIRES: one value per label name.
  void Add(const std::vector<std::string>& label_values, double delta);
  double Value(const std::vector<std::string>& label_values) const;
  void Render(PrometheusText* out) const;

 private:
  const std::string name_;
  const std::string help_;
  metric_family_internal::SeriesMap<double> series_;
};

// A distribution of observations (latencies in seconds).
class HistogramFamily {
 public:
  // REQUIRES: `upper_bounds` as for Histogram.
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                  std::span<const double> upper_bounds = kLatencyBuckets);

  // REQUIRES: one value per label name.
  void Observe(const std::vector<std::string>& label_values, double value);
  // Empty (count 0) for a series never observed.
  HistogramSnapshot Snapshot(const std::vector<std::string>& label_values) const;
  void Render(PrometheusText* out) const;

 private:
  const std::string name_;
  const std::string help_;
  metric_family_internal::SeriesMap<Histogram> series_;
};

}  // namespace skydeck
