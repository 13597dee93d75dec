// File: web/bridge/request_mapping.h
//
// Builds a gRPC request message from an HTTP request, generically through
// protobuf reflection: the JSON body (plain JSON, plain_json.h; no body is
// `{}`), then query parameters, then `{field}` path parameters (which win).
// Query and path values are text: numbers, bools ("true", "false", "1",
// "0"), enum names short or full ("RUNNING" or "DESIRED_STATE_RUNNING"); a
// repeated field takes repeated parameters or a comma-separated list.
//
// And back: responses print as plain JSON (plain_json.h).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skydeck::web {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Errors: INVALID_ARGUMENT naming the field (and, for an enum, its valid
// names) or where the body stops being JSON.
absl::Status FillRequest(const std::map<std::string, std::string>& path_params,
                         const QueryParams& query, absl::string_view body,
                         google::protobuf::Message* request);

// Sets one field from its text form. Errors: INVALID_ARGUMENT for an unknown
// field, a message-typed field, or a value that does not parse.
absl::Status SetFieldFromText(absl::string_view name, absl::string_view value,
                              google::protobuf::Message* message);

// The response as plain JSON. Errors: INTERNAL (see MessageToPlainJson).
absl::StatusOr<std::string> MessageToJson(const google::protobuf::Message& message);

}  // namespace skydeck::web
