// File: web/bridge/http_errors.h
//
// gRPC status -> HTTP status and the JSON error body `{"code", "message"}`
// the bridge answers with (code is the gRPC code name, e.g. "NOT_FOUND").
#pragma once

#include <grpcpp/support/status.h>

#include <string>

namespace skydeck::web {

int HttpStatusFor(grpc::StatusCode code);
std::string GrpcCodeName(grpc::StatusCode code);
std::string ErrorBody(grpc::StatusCode code, const std::string& message);

}  // namespace skydeck::web
