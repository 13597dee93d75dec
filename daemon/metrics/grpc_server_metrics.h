// File: daemon/metrics/grpc_server_metrics.h
//
// Metrics of every RPC skydeckd's gRPC server handles, whatever the client:
// the CLI, Python or any other gRPC client, and the HTTP bridge (its
// in-process channel enters the same server). Fed by the interceptor in
// grpc_metrics_interceptor.h; rendered into GET /metrics.
//
//   skydeck_grpc_requests_total{method,code}          counter: finished calls,
//                                                     unary and streaming
//   skydeck_grpc_request_duration_seconds{method}     histogram: unary latency,
//                                                     kLatencyBuckets (1 ms..10 s)
//   skydeck_grpc_streams_started_total{method}        counter: streaming calls
//   skydeck_grpc_streams_open{method}                 gauge: streaming calls now
//
// `method` is "package.Service/Method" ("skydeck.v1.SkyDeck/GetJob"), as in
// gRPC's own OpenTelemetry metrics; `code` is the canonical code name ("OK",
// "NOT_FOUND"). Streaming calls (Watch, GetJobLogs) stay out of the duration
// histogram: they last as long as a client watches (hours), which would only
// fill +Inf and swamp the sum that unary latency is read from.
//
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <string>

#include <grpcpp/support/status.h>

#include "common/metric_family.h"
#include "common/prometheus_text.h"

namespace skydeck::metrics {

class GrpcServerMetrics {
 public:
  GrpcServerMetrics();

  // A call of `method` started; `streaming`: anything but unary.
  void CallStarted(const std::string& method, bool streaming);
  // The call that CallStarted announced ended with `code` after `seconds`.
  void CallFinished(const std::string& method, bool streaming, grpc::StatusCode code,
                    double seconds);

  void Render(PrometheusText* out) const;

  // The families, for tests.
  const CounterFamily& RequestsForTesting() const { return requests_; }
  const HistogramFamily& DurationsForTesting() const { return durations_; }
  const CounterFamily& StreamsStartedForTesting() const { return streams_started_; }
  const GaugeFamily& StreamsOpenForTesting() const { return streams_open_; }

 private:
  CounterFamily requests_;
  HistogramFamily durations_;
  CounterFamily streams_started_;
  GaugeFamily streams_open_;
};

// "OK", "INVALID_ARGUMENT", ...: the code's canonical name.
std::string StatusCodeName(grpc::StatusCode code);

}  // namespace skydeck::metrics
