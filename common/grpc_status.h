// File: common/grpc_status.h
//
// The single mapping between absl::Status and grpc::Status. Canonical codes
// share numbering, so the mapping is lossless for code and message.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace skydeck {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace skydeck
