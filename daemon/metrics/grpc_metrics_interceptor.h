// File: daemon/metrics/grpc_metrics_interceptor.h
//
// A gRPC server interceptor that reports every call to GrpcServerMetrics:
// started when the server creates the call's interceptors, finished when
// the server sends the call's status (or, for a call that ends without one,
// e.g. cancelled before its handler ran, when the call is destroyed:
// counted as CANCELLED). The code counted is the one the client saw: a
// handler that returns OK after its client went away counts as CANCELLED
// (DEADLINE_EXCEEDED when the deadline passed). Being on the server, it
// sees every client alike, the bridge's in-process channel included; calls
// to methods the server does not serve share the method label "unknown".
//
//   GrpcServerMetrics metrics;
//   std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> f;
//   f.push_back(NewMetricsInterceptorFactory(&metrics));
//   builder.experimental().SetInterceptorCreators(std::move(f));
//
// Thread-safety: the factory is called concurrently by gRPC; fine.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>

#include "daemon/metrics/grpc_server_metrics.h"

namespace skydeck::metrics {

// REQUIRES: `metrics` outlives the server the factory is registered on.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewMetricsInterceptorFactory(GrpcServerMetrics* metrics);

}  // namespace skydeck::metrics
