// File: tests/common/golden.h
//
// The golden tables under tests/golden/: cases the C++ rules (the API's
// truth) and the dashboard's TypeScript copies of them are both tested
// against, so a divergence fails a test in both suites. Flag values in the
// tables are in the proto's object form: {"int_value": "4"} (int64 as a
// string, exact), {"double_value": 0.5}, {"bool_value": true},
// {"string_value": "x"}.
//
//   nlohmann::json cases = ReadGolden("flag_text.json");
//   FlagValue v = FlagFromProtoJson(cases["values"][0]["value"]);
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "nlohmann/json.hpp"

#include "common/model/flag_value.h"

namespace skydeck {

// tests/golden/<name>, parsed; fails the test when it cannot be read.
// SKYDECK_GOLDEN_DIR is set by tests/CMakeLists.txt.
inline nlohmann::json ReadGolden(const std::string& name) {
  std::ifstream in(std::string(SKYDECK_GOLDEN_DIR) + "/" + name);
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

// A FlagValue from its object form ({"double_value": 0.1}, {"int_value": "4"}, ...).
inline FlagValue FlagFromProtoJson(const nlohmann::json& v) {
  if (v.contains("double_value")) return v["double_value"].get<double>();
  if (v.contains("int_value")) {
    return static_cast<int64_t>(std::stoll(v["int_value"].get<std::string>()));
  }
  if (v.contains("bool_value")) return v["bool_value"].get<bool>();
  return v["string_value"].get<std::string>();
}

// The object form of a FlagValue, for comparing and printing.
inline nlohmann::json FlagToProtoJson(const FlagValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return {{"string_value", *s}};
  if (const auto* i = std::get_if<int64_t>(&value)) return {{"int_value", std::to_string(*i)}};
  if (const auto* d = std::get_if<double>(&value)) return {{"double_value", *d}};
  return {{"bool_value", std::get<bool>(value)}};
}

}  // namespace skydeck
