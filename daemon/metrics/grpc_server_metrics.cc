#include "daemon/metrics/grpc_server_metrics.h"

#include "absl/status/status.h"

namespace skydeck::metrics {

GrpcServerMetrics::GrpcServerMetrics()
    : requests_("skydeck_grpc_requests_total",
                "gRPC calls handled, by method and status code (any client, the HTTP bridge "
                "included; streams count when they end).",
                {"method", "code"}),
      durations_("skydeck_grpc_request_duration_seconds",
                 "Time to handle a unary gRPC call, by method.", {"method"}),
      streams_started_("skydeck_grpc_streams_started_total",
                       "Server-streaming gRPC calls started, by method.", {"method"}),
      streams_open_("skydeck_grpc_streams_open", "Server-streaming gRPC calls open now, by method.",
                    {"method"}) {}

void GrpcServerMetrics::CallStarted(const std::string& method, bool streaming) {
  if (!streaming) return;
  streams_started_.Add({method});
  streams_open_.Add({method}, 1);
}

void GrpcServerMetrics::CallFinished(const std::string& method, bool streaming,
                                     grpc::StatusCode code, double seconds) {
  requests_.Add({method, StatusCodeName(code)});
  if (streaming) {
    streams_open_.Add({method}, -1);
  } else {
    durations_.Observe({method}, seconds);
  }
}

void GrpcServerMetrics::Render(PrometheusText* out) const {
  requests_.Render(out);
  durations_.Render(out);
  streams_started_.Render(out);
  streams_open_.Render(out);
}

std::string StatusCodeName(grpc::StatusCode code) {
  // gRPC and absl share canonical code numbers (common/grpc_status.h).
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

}  // namespace skydeck::metrics
