// File: common/grpc_status.h
//
// The single mapping between absl::Status and grpc::Status. Canonical codes
// share numbering, so the mapping is lossless for code and message.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace skydeck {

// Trailing metadata skydeckd attaches to every error status its handlers
// return. A client tells "the daemon answered UNAVAILABLE" (its backend is
// down) from "the daemon could not be reached" (gRPC's own UNAVAILABLE or
// DEADLINE_EXCEEDED, with no server trailers) by its presence.
inline constexpr char kDaemonStatusKey[] = "x-skydeck-status-source";
inline constexpr char kDaemonStatusValue[] = "skydeckd";

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace skydeck
