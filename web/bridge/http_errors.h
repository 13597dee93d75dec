// File: web/bridge/http_errors.h
//
// gRPC status -> HTTP status and the JSON error body `{"code", "message"}`
// the bridge answers with (code is the gRPC code name, e.g. "NOT_FOUND"),
// and the words for errors the HTTP server answers before any handler runs.
#pragma once

#include <string>

#include <grpcpp/support/status.h>

namespace skydeck::web {

int HttpStatusFor(grpc::StatusCode code);
std::string GrpcCodeName(grpc::StatusCode code);
std::string ErrorBody(grpc::StatusCode code, const std::string& message);

struct HttpServerError {
  grpc::StatusCode code;
  std::string message;
};

// HttpServerErrorFor()
//
// What failed when the HTTP server itself answers `http_status` with no
// body (no route, a request it could not read, a body over the limit), in
// words a client can act on.
HttpServerError HttpServerErrorFor(int http_status);

}  // namespace skydeck::web
