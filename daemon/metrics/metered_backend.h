// File: daemon/metrics/metered_backend.h
//
// Times every call skydeckd makes to its backend and counts outcomes by
// status code, whichever component makes it (reconciler, poller, the
// service's log streams, health probes):
//
//   skydeck_backend_calls_total{backend,operation,code}       counter
//   skydeck_backend_call_duration_seconds{backend,operation}  histogram,
//                                                             kLatencyBuckets
//
// `operation` is launch, query, find, cancel, teardown, logs, logs_follow
// (a followed log stream, kept apart because it lasts until the job ends)
// or health (Probe; an unreachable answer counts as UNAVAILABLE, what
// backend.h says unreachable means). A log stream's time includes its sink's
// (sending to the client). `backend` is the wrapped backend's name().
//
//   BackendCallMetrics metrics;
//   auto backend = std::make_unique<MeteredBackend>(std::move(real), &metrics);
//   ...
//   metrics.Render(&text);
//
// Thread-safety: as the wrapped backend's; the metrics are safe to update
// and render concurrently.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"

#include "common/metric_family.h"
#include "common/prometheus_text.h"
#include "daemon/backend/backend_wrapper.h"

namespace skydeck::metrics {

class BackendCallMetrics {
 public:
  BackendCallMetrics();

  void Record(const std::string& backend, const std::string& operation, absl::StatusCode code,
              double seconds);
  void Render(PrometheusText* out) const;

  // The families, for tests.
  const CounterFamily& CallsForTesting() const { return calls_; }
  const HistogramFamily& DurationsForTesting() const { return durations_; }

 private:
  CounterFamily calls_;
  HistogramFamily durations_;
};

class MeteredBackend final : public backend::BackendWrapper {
 public:
  // REQUIRES: `metrics` outlives this backend.
  MeteredBackend(std::unique_ptr<backend::Backend> target, BackendCallMetrics* metrics);

  absl::StatusOr<std::string> Launch(const backend::JobSpec& spec) override;
  absl::StatusOr<std::vector<backend::JobObservation>> Query(
      const std::vector<std::string>& backend_job_ids) override;
  absl::StatusOr<std::vector<backend::JobObservation>> Find(const std::string& name) override;
  absl::Status Cancel(const std::string& backend_job_id) override;
  absl::Status Teardown(const std::string& backend_job_id) override;
  absl::Status StreamLogs(const std::string& backend_job_id, bool follow,
                          const backend::LogTail& tail,
                          const std::function<bool(absl::string_view)>& sink,
                          const std::function<bool()>& cancelled) override;
  backend::BackendInfo Probe() override;

 private:
  // Runs `call`, records its time and outcome under `operation`, returns
  // its result.
  template <typename Call>
  auto Timed(const char* operation, Call call);

  BackendCallMetrics* const metrics_;
};

}  // namespace skydeck::metrics
