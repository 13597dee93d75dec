#include "common/prometheus_text.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace skydeck {
namespace {

absl::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// HELP text escapes only backslash and newline (quotes are literal there).
std::string EscapeHelp(absl::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void AppendLabels(std::string* out, const MetricLabels& labels) {
  if (labels.empty()) return;
  *out += '{';
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) *out += ',';
    absl::StrAppend(out, labels[i].first, "=\"", EscapeLabelValue(labels[i].second), "\"");
  }
  *out += '}';
}

}  // namespace

std::string EscapeLabelValue(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  return std::string(buf, end);
}

void PrometheusText::Family(absl::string_view name, MetricType type, absl::string_view help) {
  absl::StrAppend(&out_, "# HELP ", name, " ", EscapeHelp(help), "\n# TYPE ", name, " ",
                  TypeName(type), "\n");
}

void PrometheusText::Sample(absl::string_view name, const MetricLabels& labels, double value) {
  out_.append(name.data(), name.size());
  AppendLabels(&out_, labels);
  absl::StrAppend(&out_, " ", FormatMetricValue(value), "\n");
}

void PrometheusText::Histogram(absl::string_view name, const MetricLabels& labels,
                               const HistogramSnapshot& histogram) {
  std::string bucket = absl::StrCat(name, "_bucket");
  MetricLabels with_le = labels;
  with_le.emplace_back("le", "");
  for (size_t i = 0; i < histogram.upper_bounds.size(); ++i) {
    with_le.back().second = FormatMetricValue(histogram.upper_bounds[i]);
    Sample(bucket, with_le, static_cast<double>(histogram.cumulative[i]));
  }
  with_le.back().second = "+Inf";
  Sample(bucket, with_le, static_cast<double>(histogram.count));
  Sample(absl::StrCat(name, "_sum"), labels, histogram.sum);
  Sample(absl::StrCat(name, "_count"), labels, static_cast<double>(histogram.count));
}

void PrometheusText::Append(absl::string_view text) { out_.append(text.data(), text.size()); }

}  // namespace skydeck
