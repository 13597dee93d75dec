// File: common/prometheus_text.h
//
// Writes Prometheus's text exposition format (version 0.0.4, what GET
// /metrics serves): per metric family a `# HELP` and a `# TYPE` line, then
// its samples, one per line:
//
//   # HELP skydeck_grpc_requests_total gRPC requests by method and status code.
//   # TYPE skydeck_grpc_requests_total counter
//   skydeck_grpc_requests_total{method="skydeck.v1.SkyDeck/GetJob",code="OK"} 3
//
// A histogram is rendered as cumulative `_bucket` samples with an `le`
// label (the last one le="+Inf", equal to the count), then `_sum` and
// `_count`. Label values and help text are escaped here, so any string is
// safe to pass.
//
// REQUIRES (callers'): a family's samples follow its Family() call with no
// other family in between, and each family name appears once per scrape.
//
// Thread-safety: none; one writer per scrape.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

#include "common/histogram.h"

namespace skydeck {

// Label names and values, in the order they are printed.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { kCounter, kGauge, kHistogram };

// EscapeLabelValue()
//
// Backslash, double quote and newline escaped as the format requires:
//   EscapeLabelValue("a\"b\\c\nd") == "a\\\"b\\\\c\\nd"
std::string EscapeLabelValue(absl::string_view value);

// FormatMetricValue()
//
// The shortest text that reads back as the same double; whole numbers
// without a decimal point, infinities as "+Inf"/"-Inf", NaN as "NaN":
//   FormatMetricValue(3) == "3", FormatMetricValue(0.0025) == "0.0025"
std::string FormatMetricValue(double value);

class PrometheusText {
 public:
  // Starts a family: its # HELP and # TYPE lines.
  void Family(absl::string_view name, MetricType type, absl::string_view help);

  // One sample line: `name{labels} value` (no braces without labels).
  void Sample(absl::string_view name, const MetricLabels& labels, double value);

  // The samples of one histogram series: name_bucket{labels,le=...} for
  // each bound and +Inf, name_sum{labels}, name_count{labels}.
  void Histogram(absl::string_view name, const MetricLabels& labels,
                 const HistogramSnapshot& histogram);

  // Appends text another writer produced (REQUIRES: whole families).
  void Append(absl::string_view text);

  const std::string& text() const { return out_; }

 private:
  std::string out_;
};

}  // namespace skydeck
