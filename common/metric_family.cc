#include "common/metric_family.h"

namespace skydeck {

CounterFamily::CounterFamily(std::string name, std::string help,
                             std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), series_(std::move(label_names), 0.0) {}

void CounterFamily::Add(const std::vector<std::string>& label_values, double by) {
  series_.Update(label_values, [by](double& v) { v += by; });
}

double CounterFamily::Value(const std::vector<std::string>& label_values) const {
  return series_.Get(label_values);
}

void CounterFamily::Render(PrometheusText* out) const {
  out->Family(name_, MetricType::kCounter, help_);
  for (const auto& [labels, value] : series_.Copy()) out->Sample(name_, labels, value);
}

GaugeFamily::GaugeFamily(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), series_(std::move(label_names), 0.0) {}

void GaugeFamily::Add(const std::vector<std::string>& label_values, double delta) {
  series_.Update(label_values, [delta](double& v) { v += delta; });
}

double GaugeFamily::Value(const std::vector<std::string>& label_values) const {
  return series_.Get(label_values);
}

void GaugeFamily::Render(PrometheusText* out) const {
  out->Family(name_, MetricType::kGauge, help_);
  for (const auto& [labels, value] : series_.Copy()) out->Sample(name_, labels, value);
}

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> label_names,
                                 std::span<const double> upper_bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      series_(std::move(label_names), Histogram(upper_bounds)) {}

void HistogramFamily::Observe(const std::vector<std::string>& label_values, double value) {
  series_.Update(label_values, [value](Histogram& h) { h.Observe(value); });
}

HistogramSnapshot HistogramFamily::Snapshot(const std::vector<std::string>& label_values) const {
  return series_.Get(label_values).Snapshot();
}

void HistogramFamily::Render(PrometheusText* out) const {
  out->Family(name_, MetricType::kHistogram, help_);
  for (const auto& [labels, histogram] : series_.Copy()) {
    out->Histogram(name_, labels, histogram.Snapshot());
  }
}

}  // namespace skydeck
