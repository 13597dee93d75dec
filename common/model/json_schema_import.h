// File: common/model/json_schema_import.h
//
// Turns a JSON Schema, as Pydantic emits it (`Model.model_json_schema()` in
// v2, `Model.schema()` in v1), into a FlagSchema. Nested objects, also
// reached through `$ref` into `$defs`/`definitions` (or `allOf` of one
// `$ref`), become dotted names; `anyOf`/`oneOf` with `null` (Optional) is
// unwrapped; `enum` and `const` become choices; integer, number, boolean and
// string become int, float, bool and string; defaults (also from a nested
// model's default object), descriptions, `required` and the bounds are kept.
// Exclusive bounds become inclusive ones (integers: +/-1; numbers: the next
// representable double). Whatever has no flag form (arrays, objects without
// properties, unions of different types, recursive models) is listed in
// `skipped`, never dropped silently.
//
//   {"properties": {"lr": {"type": "number", "default": 0.001},
//                   "tags": {"type": "array", "items": {"type": "string"}}}}
//   -> flags: [lr float default 0.001]
//      skipped: ["tags: array (list) has no flag form"]
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

#include "common/model/flag_schema.h"

namespace skydeck {

struct JsonSchemaImport {
  FlagSchema schema;
  // One line per property that was not imported: "<dotted name>: <why>".
  std::vector<std::string> skipped;
};

// Errors: INVALID_ARGUMENT when `json_schema` is not an object schema with
// properties, nests deeper than 256 levels, or when the result fails
// ValidateFlagSchema.
absl::StatusOr<JsonSchemaImport> ImportJsonSchema(const nlohmann::json& json_schema,
                                                  const std::string& base_command, bool strict);

}  // namespace skydeck
