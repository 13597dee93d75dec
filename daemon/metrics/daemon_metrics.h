// File: daemon/metrics/daemon_metrics.h
//
// Everything skydeckd itself adds to GET /metrics (the HTTP bridge puts its
// own skydeck_http_* families in front):
//
// - every gRPC call, any client (grpc_server_metrics.h): skydeck_grpc_*;
// - every backend call (metered_backend.h): skydeck_backend_calls_total,
//   skydeck_backend_call_duration_seconds;
// - the controller's counters and the store's live jobs, read at scrape
//   time:
//     skydeck_reconciles_total{outcome="ok"|"error"}      counter
//     skydeck_reconcile_queue_depth                       gauge: ids ready to
//                                                         reconcile
//     skydeck_reconcile_queue_delayed                     gauge: ids waiting
//                                                         out a retry delay
//     skydeck_backend_polls_total{backend,outcome}        counter: poll rounds
//     skydeck_backend_poll_seconds_total                  counter: their time
//                                                         (store work included)
//     skydeck_backend_launches_total{outcome}             counter: the
//                                                         reconciler's launches
//     skydeck_live_jobs{status}                           gauge: jobs not ended,
//                                                         every live status
//                                                         listed, 0 included
//     skydeck_store_write_transactions_total              counter: the store's
//                                                         write transactions
//     skydeck_store_writes_total                          counter: writes they
//                                                         carried
//     skydeck_store_writer_busy_seconds_total             counter: time the
//                                                         single writer was
//                                                         busy (rate ~1:
//                                                         writes queue)
//     skydeck_gpu_hours_total{gpu_type,spot}              counter: GPU-hours
//                                                         of all jobs, live
//                                                         ones up to now
//     skydeck_gpu_cost_dollars_total{gpu_type,spot}       counter: their cost
//                                                         by --prices (priced
//                                                         types only)
// - with --notify (daemon/notify/notifier.h), by sink:
//     skydeck_notify_deliveries_total{sink}               counter
//     skydeck_notify_delivery_failures_total{sink}        counter: attempts
//     skydeck_notify_sink_failing{sink}                   gauge: 1 from 3
//                                                         failures in a row
//     skydeck_notify_sink_cursor{sink}                    gauge: newest event
//                                                         id dealt with
//
// Thread-safety: safe to call concurrently with everything it reads.
#pragma once

#include <string>

#include "common/model/price_table.h"
#include "daemon/metrics/grpc_server_metrics.h"
#include "daemon/metrics/metered_backend.h"
#include "daemon/notify/notifier.h"
#include "daemon/reconcile/controller.h"
#include "daemon/store/state_counts.h"
#include "daemon/store/store.h"

namespace skydeck::metrics {

// What the families are read from. Pointers are not owned; null ones are
// left out.
struct DaemonMetricSources {
  store::Store* store = nullptr;
  // Live jobs come from these counts when set (a scrape then reads memory,
  // at most StateCounts' interval behind); from the store otherwise.
  store::StateCounts* counts = nullptr;
  const reconcile::Controller* controller = nullptr;
  // The backend's name() for skydeck_backend_polls_total.
  std::string backend_name;
  const GrpcServerMetrics* grpc = nullptr;
  const BackendCallMetrics* backend_calls = nullptr;
  // GPU-hour counters come from the store (null: left out), priced by this
  // table (null or empty: no cost samples).
  const PriceTable* prices = nullptr;
  const notify::Notifier* notifier = nullptr;
};

// DaemonMetrics()
//
// The families above in Prometheus text format. When the store cannot list
// live jobs, skydeck_live_jobs has no samples (never made-up zeros).
std::string DaemonMetrics(const DaemonMetricSources& sources);

}  // namespace skydeck::metrics
