// File: web/bridge/plain_json.h
//
// The HTTP API's JSON form of API messages ("plain JSON"): what a person
// types into curl and what the seed's clients send, derived generically from
// the descriptors and the options of skydeck/v1/annotations.proto, never from
// per-route code.
//
// Printing (responses and stream messages):
// - fields by proto name (snake_case); every field is printed, empty lists as
//   [] and empty maps as {}, except fields with presence (messages,
//   `optional`, oneof members) that are unset;
// - enums by short name ("RUNNING", see json_descriptors.h);
// - `json_scalar` messages (FlagValue) as one JSON scalar: 4, 0.001, 1.0,
//   true, "adam"; typed as common/model/flag_value.h types `--flag` text;
// - int64 and uint64 as decimal strings (JavaScript numbers hold 53 bits),
//   other numbers as numbers, bytes as base64;
// - Timestamp as RFC 3339, Duration as "1.5s", FieldMask as "a,b"; other
//   google.protobuf types as protobuf's JSON mapping.
//
//   {"experiment": {"id": "7", "name": "lr-a", "flags": {"lr": 0.001,
//    "layers": 4}, "desired_state": "STOPPED", "conditions": [], ...}}
//
// Parsing (request bodies) accepts that form and protobuf's JSON mapping:
// - keys by proto name, camelCase JSON name or `json_alias`; the fields of a
//   `json_inline` field also at the top level;
// - enums by short or full name in any letter case, or by number;
// - `json_scalar` messages as a scalar or as the object form
//   ({"int_value": "4"});
// - integers as numbers or strings, floating fields as numbers or strings
//   ("NaN", "Infinity"); null leaves a field at its default.
// Errors are INVALID_ARGUMENT naming the field by its path
// (`experiment.flags["lr"]`) and what was expected; an unknown field lists
// the valid ones, or says which field it belongs inside.
//
// Thread-safety: all functions are safe to call concurrently.
#pragma once

#include <string>

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace skydeck::web {

// MessageToPlainJson()
//
// The message as one line of JSON text. Errors: INTERNAL for a message type
// whose json options break their REQUIRES, or a well-known type protobuf
// cannot print.
absl::StatusOr<std::string> MessageToPlainJson(const google::protobuf::Message& message);

struct PlainJsonParseOptions {
  // Skip keys that name no field instead of failing (a client reading
  // responses of a newer server).
  bool ignore_unknown_fields = false;
};

// PlainJsonToMessage()
//
// Merges `json` (which must be an object) into `message`.
// Errors: INVALID_ARGUMENT as described above.
absl::Status PlainJsonToMessage(const nlohmann::json& json, google::protobuf::Message* message,
                                const PlainJsonParseOptions& options = {});

// PlainJsonTextToMessage()
//
// Parses `text` as JSON, then as PlainJsonToMessage. Errors: INVALID_ARGUMENT
// saying where the text stops being JSON, or as PlainJsonToMessage.
absl::Status PlainJsonTextToMessage(absl::string_view text, google::protobuf::Message* message,
                                    const PlainJsonParseOptions& options = {});

}  // namespace skydeck::web
