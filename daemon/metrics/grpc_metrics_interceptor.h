// File: daemon/metrics/grpc_metrics_interceptor.h
//
// A gRPC server interceptor that reports every call to GrpcServerMetrics:
// started when the server creates the call's interceptors, finished when
// the server sends the call's status (or, for a call that ends without one,
// e.g. cancelled before its handler ran, when the call is destroyed:
// counted as CANCELLED). The code counted is the one the client saw: a
// handler that returns OK after its client went away counts as CANCELLED
// (DEADLINE_EXCEEDED when the deadline passed). Being on the server, it
// sees every client alike, the bridge's in-process channel included.
//
// Calls to any path not in `served` share the method label "unknown" and
// are not counted as streams: the path is the client's choice (no token is
// needed to reach an unimplemented method), so it must never become a
// label, or clients could grow /metrics without bound. gRPC itself names
// such calls "unknown" only on servers without callback services; with the
// default health service it passes the client's path through.
//
//   GrpcServerMetrics metrics;
//   ServedMethods served = MethodsOf(*service_descriptor);
//   served.merge(GrpcInfrastructureMethods());
//   std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> f;
//   f.push_back(NewMetricsInterceptorFactory(&metrics, std::move(served)));
//   builder.experimental().SetInterceptorCreators(std::move(f));
//
// Thread-safety: the factory is called concurrently by gRPC; fine.
#pragma once

#include <memory>
#include <set>
#include <string>

#include <grpcpp/support/server_interceptor.h>

#include "google/protobuf/descriptor.h"

#include "daemon/metrics/grpc_server_metrics.h"

namespace skydeck::metrics {

// Full method paths, "/pkg.Service/Method".
using ServedMethods = std::set<std::string>;

// Every method of `service`.
ServedMethods MethodsOf(const google::protobuf::ServiceDescriptor& service);

// The gRPC health service's and server reflection's methods (their
// descriptors are not in the generated pool).
ServedMethods GrpcInfrastructureMethods();

// REQUIRES: `metrics` outlives the server the factory is registered on.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewMetricsInterceptorFactory(
    GrpcServerMetrics* metrics, ServedMethods served);

}  // namespace skydeck::metrics
