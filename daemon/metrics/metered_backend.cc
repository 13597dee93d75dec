#include "daemon/metrics/metered_backend.h"

#include <chrono>

namespace skydeck::metrics {
namespace {

absl::StatusCode CodeOf(const absl::Status& status) { return status.code(); }

template <typename T>
absl::StatusCode CodeOf(const absl::StatusOr<T>& result) {
  return result.status().code();
}

absl::StatusCode CodeOf(const backend::BackendInfo& info) {
  return info.reachable ? absl::StatusCode::kOk : absl::StatusCode::kUnavailable;
}

}  // namespace

BackendCallMetrics::BackendCallMetrics()
    : calls_("skydeck_backend_calls_total", "Calls to the backend, by operation and status code.",
             {"backend", "operation", "code"}),
      durations_("skydeck_backend_call_duration_seconds", "Time a backend call took, by operation.",
                 {"backend", "operation"}) {}

void BackendCallMetrics::Record(const std::string& backend, const std::string& operation,
                                absl::StatusCode code, double seconds) {
  calls_.Add({backend, operation, absl::StatusCodeToString(code)});
  durations_.Observe({backend, operation}, seconds);
}

void BackendCallMetrics::Render(PrometheusText* out) const {
  calls_.Render(out);
  durations_.Render(out);
}

MeteredBackend::MeteredBackend(std::unique_ptr<backend::Backend> target,
                               BackendCallMetrics* metrics)
    : BackendWrapper(std::move(target)), metrics_(metrics) {}

template <typename Call>
auto MeteredBackend::Timed(const char* operation, Call call) {
  auto started = std::chrono::steady_clock::now();
  auto result = call();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics_->Record(name(), operation, CodeOf(result), seconds);
  return result;
}

absl::StatusOr<std::string> MeteredBackend::Launch(const backend::JobSpec& spec) {
  return Timed("launch", [&] { return BackendWrapper::Launch(spec); });
}

absl::StatusOr<std::vector<backend::JobObservation>> MeteredBackend::Query(
    const std::vector<std::string>& backend_job_ids) {
  return Timed("query", [&] { return BackendWrapper::Query(backend_job_ids); });
}

absl::StatusOr<std::vector<backend::JobObservation>> MeteredBackend::Find(const std::string& name) {
  return Timed("find", [&] { return BackendWrapper::Find(name); });
}

absl::Status MeteredBackend::Cancel(const std::string& backend_job_id) {
  return Timed("cancel", [&] { return BackendWrapper::Cancel(backend_job_id); });
}

absl::Status MeteredBackend::Teardown(const std::string& backend_job_id) {
  return Timed("teardown", [&] { return BackendWrapper::Teardown(backend_job_id); });
}

absl::Status MeteredBackend::StreamLogs(const std::string& backend_job_id, bool follow,
                                        const backend::LogTail& tail,
                                        const std::function<bool(absl::string_view)>& sink,
                                        const std::function<bool()>& cancelled) {
  return Timed(follow ? "logs_follow" : "logs", [&] {
    return BackendWrapper::StreamLogs(backend_job_id, follow, tail, sink, cancelled);
  });
}

backend::BackendInfo MeteredBackend::Probe() {
  return Timed("health", [&] { return BackendWrapper::Probe(); });
}

}  // namespace skydeck::metrics
