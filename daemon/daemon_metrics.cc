#include "daemon/daemon_metrics.h"

#include <map>

#include "absl/strings/str_cat.h"

namespace skydeck {
namespace {

void Metric(std::string* out, const std::string& name, const std::string& type,
            const std::string& help) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

}  // namespace

std::string DaemonMetrics(store::Store& store, const reconcile::Controller& controller,
                          backend::Backend* backend) {
  reconcile::ControllerStats stats = controller.stats();
  std::string out;
  Metric(&out, "skydeck_reconciles_total", "counter", "Reconciles by outcome.");
  absl::StrAppend(&out, "skydeck_reconciles_total{outcome=\"ok\"} ", stats.reconciles_ok, "\n",
                  "skydeck_reconciles_total{outcome=\"error\"} ", stats.reconciles_error, "\n");
  Metric(&out, "skydeck_reconcile_queue_depth", "gauge", "Experiments waiting to be reconciled.");
  absl::StrAppend(&out, "skydeck_reconcile_queue_depth ", stats.queue_depth, "\n");
  Metric(&out, "skydeck_reconcile_queue_delayed", "gauge", "Experiments with a scheduled retry.");
  absl::StrAppend(&out, "skydeck_reconcile_queue_delayed ", stats.queue_delayed, "\n");
  Metric(&out, "skydeck_backend_polls_total", "counter", "Backend polls by outcome.");
  absl::StrAppend(&out, "skydeck_backend_polls_total{backend=\"", backend->name(),
                  "\",outcome=\"ok\"} ", stats.polls_ok, "\n",
                  "skydeck_backend_polls_total{backend=\"", backend->name(),
                  "\",outcome=\"error\"} ", stats.polls_error, "\n");
  Metric(&out, "skydeck_backend_poll_seconds_total", "counter", "Time spent polling the backend.");
  absl::StrAppend(&out, "skydeck_backend_poll_seconds_total ", stats.poll_seconds, "\n");
  Metric(&out, "skydeck_backend_launches_total", "counter", "Backend launch calls by outcome.");
  absl::StrAppend(&out, "skydeck_backend_launches_total{outcome=\"ok\"} ", stats.launches_ok,
                  "\n", "skydeck_backend_launches_total{outcome=\"error\"} ",
                  stats.launches_error, "\n");
  Metric(&out, "skydeck_live_jobs", "gauge", "Live jobs by status.");
  if (auto live = store.ListLiveJobs(); live.ok()) {
    std::map<std::string, int> by_status;
    for (const auto& job : *live) by_status[std::string(Name(job.status))]++;
    for (const auto& [status, n] : by_status) {
      absl::StrAppend(&out, "skydeck_live_jobs{status=\"", status, "\"} ", n, "\n");
    }
  }
  return out;
}

}  // namespace skydeck
