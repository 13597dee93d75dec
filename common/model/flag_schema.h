// File: common/model/flag_schema.h
//
// Declared flag schemas: per base command, the flags it accepts with their
// types, defaults, choices and bounds. CheckFlags() validates an experiment's
// FlagMap against a schema and normalises each value to its declared type:
//
//   FlagSchema s{.base_command = "python train.py", .strict = true,
//                .flags = {{.name = "model.layers", .type = FlagType::kInt,
//                           .min = 1}}};
//   CheckFlags(s, {{"model.layers", std::string("4")}})
//       -> {flags: {"model.layers": int64 4}, warnings: {}}
//   CheckFlags(s, {{"model.layers", 0.5}})
//       -> INVALID_ARGUMENT "flag model.layers: expected int, got float 0.5"
//
// The JSON form (FlagSchemaToJson/FlagSchemaFromJson) is both the native file
// format of `skydeck schema apply -f` and what the store keeps:
//
//   {"base_command": "python train.py", "strict": false,
//    "flags": [{"name": "trainer.lr", "type": "float", "default": 0.0003,
//               "min": 0, "description": "learning rate"},
//              {"name": "optim", "type": "choice", "choices": ["adam", "sgd"]}]}
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

#include "common/model/flag_value.h"
#include "skydeck/v1/resources.pb.h"

namespace skydeck {

enum class FlagType { kString, kInt, kFloat, kBool, kChoice };

// "string", "int", "float", "bool", "choice".
absl::string_view FlagTypeText(FlagType type);
// Errors: INVALID_ARGUMENT for any other text.
absl::StatusOr<FlagType> ParseFlagType(absl::string_view text);

struct FlagSpec {
  // Dotted name, e.g. "trainer.lr"; valid per ValidateFlagKey.
  std::string name{};
  FlagType type = FlagType::kString;
  // Informational: the tool applies its own defaults; SkyDeck does not
  // inject it into experiments.
  std::optional<FlagValue> default_value{};
  // Allowed values for kChoice (compared as text).
  std::vector<std::string> choices{};
  std::string description{};
  // The experiment must set the flag.
  bool required = false;
  // Inclusive bounds for int and float flags.
  std::optional<double> min{};
  std::optional<double> max{};

  bool operator==(const FlagSpec&) const = default;
};

struct FlagSchema {
  std::string base_command{};
  // Output only: bumped by the store on every apply; 0 before storing.
  int64_t version = 0;
  // Unknown flags are an error (true) or a warning (false).
  bool strict = false;
  std::vector<FlagSpec> flags{};

  // The spec named `name`, or null.
  const FlagSpec* Find(absl::string_view name) const;
};

// Checks the schema itself: flag names valid and unique, choice flags with
// choices, min <= max, a default that passes the flag's own checks (it is
// normalised in place). Errors: INVALID_ARGUMENT naming the flag.
absl::Status ValidateFlagSchema(FlagSchema& schema);

struct FlagCheck {
  // The input with every declared flag normalised to its type.
  FlagMap flags;
  // Lenient-mode findings, e.g. "unknown flag trainer.lrr".
  std::vector<std::string> warnings;
};

// Validates `flags` against `schema`. Normalisation: an int flag accepts an
// int, a string of an integer, or a float with no fractional part; a float
// flag accepts ints and numeric strings (4 -> 4.0); a bool flag accepts
// true/false (also as text, any case) and 0/1; choice and string flags
// accept any scalar and keep its text. Errors: INVALID_ARGUMENT naming the
// flag, the expected type and the value: wrong type, out of range, not a
// choice, missing required flag, unknown flag when strict (all problems in
// one message, "; "-separated).
absl::StatusOr<FlagCheck> CheckFlags(const FlagSchema& schema, const FlagMap& flags);

nlohmann::json FlagSchemaToJson(const FlagSchema& schema);
// Reads the native format; also runs ValidateFlagSchema. Unknown keys are
// errors so a typo ("requried") is not silently ignored.
// Errors: INVALID_ARGUMENT.
absl::StatusOr<FlagSchema> FlagSchemaFromJson(const nlohmann::json& json);

void FlagSchemaToProto(const FlagSchema& schema, skydeck::v1::CommandFlagSchema* out);
// Errors: INVALID_ARGUMENT (also from ValidateFlagSchema).
absl::StatusOr<FlagSchema> FlagSchemaFromProto(const skydeck::v1::CommandFlagSchema& proto);

}  // namespace skydeck
