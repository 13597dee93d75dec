// Flag typing and flag-schema checks against the golden tables the
// dashboard is tested against too (tests/golden/flag_text.json,
// flag_schema.json; web/ui/src/logic/flagText.test.ts,
// flagSchemaCheck.test.ts, api/wire.test.ts).
#include <string>

#include <catch2/catch.hpp>

#include "absl/strings/ascii.h"
#include "nlohmann/json.hpp"

#include "common/golden.h"
#include "common/model/flag_schema.h"
#include "common/model/flag_value.h"

namespace skydeck {
namespace {

// The object form of the case's expected value, normalised (so 4 and 4.0
// compare as the same double) and printable.
std::string Expected(const nlohmann::json& value) {
  return FlagToProtoJson(FlagFromProtoJson(value)).dump();
}

std::string Got(const FlagValue& value) { return FlagToProtoJson(value).dump(); }

TEST_CASE("golden: flag text is typed as the table says", "[flag_value][golden]") {
  const nlohmann::json table = ReadGolden("flag_text.json");  // outlives the loop
  REQUIRE_FALSE(table.at("values").empty());
  for (const nlohmann::json& c : table.at("values")) {
    std::string text = c["text"].get<std::string>();
    INFO("text: " << text);
    CHECK(Got(ParseFlagValueText(text)) == Expected(c["value"]));
  }
}

TEST_CASE("golden: flag assignments split as the table says", "[flag_value][golden]") {
  const nlohmann::json table = ReadGolden("flag_text.json");  // outlives the loop
  REQUIRE_FALSE(table.at("assignments").empty());
  for (const nlohmann::json& c : table.at("assignments")) {
    std::string text = c["text"].get<std::string>();
    INFO("assignment: " << text);
    auto got = ParseFlagAssignment(text);
    if (c.value("error", false)) {
      CHECK_FALSE(got.ok());
      continue;
    }
    REQUIRE(got.ok());
    CHECK(got->first == c["key"].get<std::string>());
    CHECK(Got(got->second) == Expected(c["value"]));
  }
}

TEST_CASE("golden: flag values are written as the table says", "[flag_value][golden]") {
  const nlohmann::json table = ReadGolden("flag_text.json");  // outlives the loop
  REQUIRE_FALSE(table.at("formats").empty());
  for (const nlohmann::json& c : table.at("formats")) {
    INFO("value: " << c["value"].dump());
    CHECK(FormatFlagValue(FlagFromProtoJson(c["value"])) == c["text"].get<std::string>());
  }
}

TEST_CASE("golden: plain JSON flag values are typed as the table says", "[flag_value][golden]") {
  const nlohmann::json table = ReadGolden("flag_text.json");  // outlives the loop
  REQUIRE_FALSE(table.at("plain_json").empty());
  for (const nlohmann::json& c : table.at("plain_json")) {
    INFO("json: " << c["json"].dump());
    auto got = FlagValueFromPlainJson(c["json"]);
    REQUIRE(got.ok());
    CHECK(Got(*got) == Expected(c["value"]));
  }
}

// A FlagSpec from the table's API form ({"name", "type": "INT", "min", ...}).
FlagSpec SpecFromJson(const nlohmann::json& j) {
  FlagSpec spec;
  spec.name = j["name"].get<std::string>();
  auto type = ParseFlagType(absl::AsciiStrToLower(j["type"].get<std::string>()));
  REQUIRE(type.ok());
  spec.type = *type;
  if (j.contains("min")) spec.min = j["min"].get<double>();
  if (j.contains("max")) spec.max = j["max"].get<double>();
  if (j.contains("choices")) spec.choices = j["choices"].get<std::vector<std::string>>();
  return spec;
}

TEST_CASE("golden: flag schema checks say what the table says", "[flag_schema][golden]") {
  const nlohmann::json table = ReadGolden("flag_schema.json");  // outlives the loop
  REQUIRE_FALSE(table.at("cases").empty());
  for (const nlohmann::json& c : table.at("cases")) {
    INFO("spec: " << c["spec"].dump() << ", value: " << c["value"].dump());
    FlagSchema schema;
    schema.base_command = "python train.py";
    schema.flags.push_back(SpecFromJson(c["spec"]));
    const std::string& name = schema.flags[0].name;
    auto got = CheckFlags(schema, {{name, FlagFromProtoJson(c["value"])}});
    if (c.contains("error")) {
      REQUIRE_FALSE(got.ok());
      CHECK(got.status().message() == c["error"].get<std::string>());
      continue;
    }
    REQUIRE(got.ok());
    CHECK(got->warnings.empty());
    CHECK(Got(got->flags.at(name)) == Expected(c["stored"]));
  }
}

}  // namespace
}  // namespace skydeck
