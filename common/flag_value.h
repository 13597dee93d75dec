// File: common/flag_value.h
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
#include <string>
#include "absl/strings/string_view.h"
#include <utility>
#include <variant>

#include "absl/status/statusor.h"
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
absl::StatusOr<std::pair<std::string, FlagValue>> ParseFlagAssignment(
    absl::string_view assignment);

// The value as it appears on a command line: strings verbatim, doubles in
// the shortest form that reads back identically (0.0003, 1e-07, 4.0), bools
// as true/false.
std::string FormatFlagValue(const FlagValue& value);

// "string", "int", "float" or "bool".
absl::string_view FlagTypeName(const FlagValue& value);

// JSON encoding used by the store: an object whose numbers keep their kind
// (integers print without a decimal point, doubles always with one).
nlohmann::json FlagMapToJson(const FlagMap& flags);
// Errors: INVALID_ARGUMENT when `json` is not an object of scalars.
absl::StatusOr<FlagMap> FlagMapFromJson(const nlohmann::json& json);

}  // namespace skydeck
