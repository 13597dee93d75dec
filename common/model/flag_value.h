// File: common/model/flag_value.h
//
// Typed experiment flags (`trainer.lr=3e-4`, `model.layers=4`,
// `ppo.enabled=true`) as plain C++ values, shared by the daemon, CLI and
// bridge. Text is typed the way a person reads it:
//
//   ParseFlagAssignment("model.layers=4")   -> {"model.layers", int64 4}
//   ParseFlagAssignment("trainer.lr=3e-4")  -> {"trainer.lr", double 0.0003}
//   ParseFlagAssignment("ppo.enabled=true") -> {"ppo.enabled", bool true}
//   ParseFlagAssignment("tag:=42")          -> {"tag", string "42"}
//   ParseFlagAssignment("tag=\"42\"")       -> {"tag", string "42"}
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace skydeck {

using FlagValue = std::variant<std::string, int64_t, double, bool>;
using FlagMap = std::map<std::string, FlagValue>;

// Types a value from its text: true/false -> bool, an integer that fits
// int64 -> int64, a finite decimal/exponent number -> double, else string. A
// value wrapped in matching single or double quotes is the string inside.
FlagValue ParseFlagValueText(absl::string_view text);

// Splits "key=value" (typed by ParseFlagValueText) or "key:=value" (always a
// string). Errors: INVALID_ARGUMENT when there is no '=' or the key is empty.
// The key is not validated here; see ValidateFlagKey.
absl::StatusOr<std::pair<std::string, FlagValue>> ParseFlagAssignment(absl::string_view assignment);

// The value as it appears on a command line: strings verbatim, doubles in
// the shortest form that reads back identically (0.0003, 1e-07, 4.0), bools
// as true/false.
std::string FormatFlagValue(const FlagValue& value);

// "string", "int", "float" or "bool".
absl::string_view FlagTypeName(const FlagValue& value);

// One value as JSON, typed like its text (ParseFlagValueText): a string, a
// bool, an integer (printed without a decimal point) or a double (printed
// always with one or with an exponent: 4.0, 0.0003, 1e-05), so the kind
// survives a round trip through JSON text.
nlohmann::json FlagValueToJson(const FlagValue& value);
// The inverse. A JSON integer beyond int64 keeps its exact digits as a
// string, as ParseFlagValueText does with such text. Errors:
// INVALID_ARGUMENT when `json` is not a string, number or bool.
absl::StatusOr<FlagValue> FlagValueFromJson(const nlohmann::json& json);

// For JSON read by clients whose numbers are doubles (JavaScript): the JSON
// text of the value as FlagValueToJson has it (doubles as FormatFlagValue
// writes them: 4.0, 1e-05), but an int64 beyond +-2^53 as a string of its
// digits, so it is not rounded on the way. nullopt when no JSON scalar
// reads back (FlagValueFromPlainJson) as this value: a string that reads as
// such an int64, a NaN or infinite double.
//   FlagValueToPlainJsonText(int64_t{4})   -> "4"
//   FlagValueToPlainJsonText(1.0)          -> "1.0"
//   FlagValueToPlainJsonText(int64_t{1} << 60) -> "\"1152921504606846976\""
std::optional<std::string> FlagValueToPlainJsonText(const FlagValue& value);
// Its inverse: as FlagValueFromJson, but a string that ParseFlagValueText
// reads as an int64 beyond +-2^53 is that int64. A string of smaller digits
// stays a string ("42" is text; a JSON client writes the number 42).
absl::StatusOr<FlagValue> FlagValueFromPlainJson(const nlohmann::json& json);

// JSON encoding used by the store: an object of FlagValueToJson values.
nlohmann::json FlagMapToJson(const FlagMap& flags);
// Errors: INVALID_ARGUMENT when `json` is not an object of scalars.
absl::StatusOr<FlagMap> FlagMapFromJson(const nlohmann::json& json);

}  // namespace skydeck
