#include "daemon/metrics/daemon_metrics.h"

#include <map>
#include <optional>

#include "absl/time/clock.h"

#include "common/model/states.h"
#include "common/prometheus_text.h"
#include "common/status_macros.h"

namespace skydeck::metrics {
namespace {

void RenderController(const reconcile::ControllerStats& stats, const std::string& backend,
                      PrometheusText* out) {
  out->Family("skydeck_reconciles_total", MetricType::kCounter, "Reconciles by outcome.");
  out->Sample("skydeck_reconciles_total", {{"outcome", "ok"}},
              static_cast<double>(stats.reconciles_ok));
  out->Sample("skydeck_reconciles_total", {{"outcome", "error"}},
              static_cast<double>(stats.reconciles_error));
  out->Family("skydeck_reconcile_queue_depth", MetricType::kGauge,
              "Experiments waiting to be reconciled.");
  out->Sample("skydeck_reconcile_queue_depth", {}, static_cast<double>(stats.queue_depth));
  out->Family("skydeck_reconcile_queue_delayed", MetricType::kGauge,
              "Experiments with a scheduled retry.");
  out->Sample("skydeck_reconcile_queue_delayed", {}, static_cast<double>(stats.queue_delayed));
  out->Family("skydeck_backend_polls_total", MetricType::kCounter, "Backend polls by outcome.");
  out->Sample("skydeck_backend_polls_total", {{"backend", backend}, {"outcome", "ok"}},
              static_cast<double>(stats.polls_ok));
  out->Sample("skydeck_backend_polls_total", {{"backend", backend}, {"outcome", "error"}},
              static_cast<double>(stats.polls_error));
  out->Family("skydeck_backend_poll_seconds_total", MetricType::kCounter,
              "Time spent polling the backend.");
  out->Sample("skydeck_backend_poll_seconds_total", {}, stats.poll_seconds);
  out->Family("skydeck_backend_launches_total", MetricType::kCounter,
              "Backend launch calls by outcome.");
  out->Sample("skydeck_backend_launches_total", {{"outcome", "ok"}},
              static_cast<double>(stats.launches_ok));
  out->Sample("skydeck_backend_launches_total", {{"outcome", "error"}},
              static_cast<double>(stats.launches_error));
}

absl::StatusOr<std::map<JobStatus, int64_t>> LiveJobCounts(const DaemonMetricSources& sources) {
  if (sources.counts != nullptr) {
    ASSIGN_OR_RETURN(store::StateCountsSnapshot counts, sources.counts->Latest());
    return counts.live_jobs_by_status;
  }
  // Counted in SQL: a scrape must not decode every live job.
  ASSIGN_OR_RETURN(store::LiveStateCounts counts, sources.store->CountStates());
  return counts.live_jobs_by_status;
}

void RenderLiveJobs(const DaemonMetricSources& sources, PrometheusText* out) {
  out->Family("skydeck_live_jobs", MetricType::kGauge, "Live jobs by status.");
  auto live = LiveJobCounts(sources);
  if (!live.ok()) return;
  // Every live status from 0, so a series does not vanish when its last job
  // moves on (a vanished series reads as "no data", not as 0).
  std::map<std::string, int64_t> by_status;
  for (int s = static_cast<int>(JobStatus::kLaunching); s <= static_cast<int>(JobStatus::kUnknown);
       ++s) {
    JobStatus status = static_cast<JobStatus>(s);
    if (!IsTerminal(status)) by_status[std::string(Name(status))] = 0;
  }
  for (const auto& [status, n] : *live) by_status[std::string(Name(status))] += n;
  for (const auto& [status, n] : by_status) {
    out->Sample("skydeck_live_jobs", {{"status", status}}, n);
  }
}

// 1 while the background integrity check of the history runs
// (store/background_check.h), 0 otherwise: health stays SERVING meanwhile.
void RenderDatabaseCheck(store::Store& store, PrometheusText* out) {
  out->Family("skydeck_database_check_running", MetricType::kGauge,
              "1 while the start-up integrity check of the job and event history runs.");
  store::BackgroundCheck* check = store.history_check();
  out->Sample("skydeck_database_check_running", {},
              check != nullptr && !check->Pending().empty() ? 1 : 0);
}

void RenderStoreWrites(const store::Store::WriteStats& stats, PrometheusText* out) {
  out->Family("skydeck_store_write_transactions_total", MetricType::kCounter,
              "Write transactions of the store's single writer (a batch of concurrent "
              "writes is one).");
  out->Sample("skydeck_store_write_transactions_total", {},
              static_cast<double>(stats.transactions));
  out->Family("skydeck_store_writes_total", MetricType::kCounter,
              "Writes those transactions carried.");
  out->Sample("skydeck_store_writes_total", {}, static_cast<double>(stats.writes));
  out->Family("skydeck_store_writer_busy_seconds_total", MetricType::kCounter,
              "Time the single writer spent in write transactions; a rate near 1 means "
              "writes wait for each other.");
  out->Sample("skydeck_store_writer_busy_seconds_total", {},
              absl::ToDoubleSeconds(stats.busy));
}

void RenderGpuHours(const DaemonMetricSources& sources, PrometheusText* out) {
  auto sums = sources.store->SumGpuTime(absl::ToUnixMillis(absl::Now()));
  out->Family("skydeck_gpu_hours_total", MetricType::kCounter,
              "GPU-hours of all jobs (nodes x GPUs x running time, preemption gaps "
              "excluded), live jobs up to now.");
  if (!sums.ok()) return;
  auto labels = [](const store::Store::GpuTime& t) {
    return MetricLabels{{"gpu_type", t.gpu_type}, {"spot", t.spot ? "true" : "false"}};
  };
  auto hours = [](const store::Store::GpuTime& t) {
    return static_cast<double>(t.gpu_ms) / 3'600'000.0;
  };
  for (const store::Store::GpuTime& t : *sums) {
    out->Sample("skydeck_gpu_hours_total", labels(t), hours(t));
  }
  out->Family("skydeck_gpu_cost_dollars_total", MetricType::kCounter,
              "What those GPU-hours cost by skydeckd's --prices (priced GPU types only).");
  if (sources.prices == nullptr) return;
  for (const store::Store::GpuTime& t : *sums) {
    if (std::optional<double> rate = sources.prices->PerGpuHour(t.gpu_type, t.spot)) {
      out->Sample("skydeck_gpu_cost_dollars_total", labels(t), hours(t) * *rate);
    }
  }
}

}  // namespace

std::string DaemonMetrics(const DaemonMetricSources& sources) {
  PrometheusText out;
  if (sources.grpc != nullptr) sources.grpc->Render(&out);
  if (sources.backend_calls != nullptr) sources.backend_calls->Render(&out);
  if (sources.controller != nullptr) {
    RenderController(sources.controller->stats(), sources.backend_name, &out);
  }
  if (sources.store != nullptr) {
    RenderLiveJobs(sources, &out);
    RenderStoreWrites(sources.store->write_stats(), &out);
    RenderGpuHours(sources, &out);
    RenderDatabaseCheck(*sources.store, &out);
  }
  if (sources.notifier != nullptr) sources.notifier->RenderMetrics(&out);
  return out.text();
}

}  // namespace skydeck::metrics
