#include "common/model/flag_value.h"

#include <cmath>

#include <catch2/catch.hpp>

#include "common/model/command_line.h"

namespace skydeck {
namespace {

TEST_CASE("flag text is typed the way a person reads it", "[flags]") {
  CHECK(ParseFlagValueText("4") == FlagValue(int64_t{4}));
  CHECK(ParseFlagValueText("-12") == FlagValue(int64_t{-12}));
  CHECK(ParseFlagValueText("3e-4") == FlagValue(3e-4));
  CHECK(ParseFlagValueText("0.5") == FlagValue(0.5));
  CHECK(ParseFlagValueText("true") == FlagValue(true));
  CHECK(ParseFlagValueText("False") == FlagValue(false));
  CHECK(ParseFlagValueText("adam") == FlagValue(std::string("adam")));
  CHECK(ParseFlagValueText("nan") == FlagValue(std::string("nan")));
  CHECK(ParseFlagValueText("inf") == FlagValue(std::string("inf")));
  CHECK(ParseFlagValueText("1e999") == FlagValue(std::string("1e999")));
  // Integers beyond int64 keep their digits instead of rounding to a float.
  CHECK(ParseFlagValueText("99999999999999999999") ==
        FlagValue(std::string("99999999999999999999")));
  CHECK(ParseFlagValueText("-9223372036854775809") ==
        FlagValue(std::string("-9223372036854775809")));
  CHECK(ParseFlagValueText("9223372036854775807") == FlagValue(INT64_MAX));
  CHECK(ParseFlagValueText("1e20") == FlagValue(1e20));
  CHECK(ParseFlagValueText("\"42\"") == FlagValue(std::string("42")));
  CHECK(ParseFlagValueText("'true'") == FlagValue(std::string("true")));
  CHECK(ParseFlagValueText("") == FlagValue(std::string("")));
}

TEST_CASE("assignments split on the first '=' and := forces a string", "[flags]") {
  auto a = ParseFlagAssignment("model.layers=4");
  REQUIRE(a.ok());
  CHECK(a->first == "model.layers");
  CHECK(a->second == FlagValue(int64_t{4}));

  auto s = ParseFlagAssignment("tag:=42");
  REQUIRE(s.ok());
  CHECK(s->first == "tag");
  CHECK(s->second == FlagValue(std::string("42")));

  auto eq = ParseFlagAssignment("expr=a=b");
  REQUIRE(eq.ok());
  CHECK(eq->second == FlagValue(std::string("a=b")));

  CHECK(absl::IsInvalidArgument(ParseFlagAssignment("novalue").status()));
  CHECK(absl::IsInvalidArgument(ParseFlagAssignment("=4").status()));
}

TEST_CASE("values format so that they read back as the same type", "[flags]") {
  CHECK(FormatFlagValue(3e-4) == "0.0003");
  CHECK(FormatFlagValue(4.0) == "4.0");
  CHECK(FormatFlagValue(1e-7) == "1e-07");
  CHECK(FormatFlagValue(1e16) == "1e+16");
  CHECK(FormatFlagValue(-2.5) == "-2.5");
  CHECK(FormatFlagValue(123456789.125) == "123456789.125");
  CHECK(FormatFlagValue(int64_t{4}) == "4");
  CHECK(FormatFlagValue(true) == "true");
  for (FlagValue v : {FlagValue(3e-4), FlagValue(4.0), FlagValue(1e-7), FlagValue(int64_t{-3}),
                      FlagValue(false), FlagValue(12345.678)}) {
    CHECK(ParseFlagValueText(FormatFlagValue(v)) == v);
  }
}

TEST_CASE("JSON encoding keeps each flag type apart", "[flags]") {
  FlagMap flags{{"a", int64_t{4}}, {"b", 4.0}, {"c", true}, {"d", std::string("4")}};
  nlohmann::json json = FlagMapToJson(flags);
  auto back = FlagMapFromJson(nlohmann::json::parse(json.dump()));
  REQUIRE(back.ok());
  CHECK(*back == flags);
  CHECK(absl::IsInvalidArgument(FlagMapFromJson(nlohmann::json::array()).status()));
  CHECK(absl::IsInvalidArgument(FlagMapFromJson(nlohmann::json::parse(R"({"a": [1]})")).status()));
}

TEST_CASE("a JSON integer beyond int64 keeps its digits, as --flag text does", "[flags]") {
  auto big = FlagValueFromJson(nlohmann::json::parse("18446744073709551615"));
  REQUIRE(big.ok());
  CHECK(*big == FlagValue(std::string("18446744073709551615")));
  CHECK(*big == ParseFlagValueText("18446744073709551615"));
  auto max = FlagValueFromJson(nlohmann::json::parse("9223372036854775807"));
  REQUIRE(max.ok());
  CHECK(*max == FlagValue(int64_t{INT64_MAX}));
}

TEST_CASE("plain JSON keeps int64 beyond 2^53 exact as a string", "[flags]") {
  constexpr int64_t kBig = (int64_t{1} << 53) + 1;  // 9007199254740993
  CHECK(FlagValueToPlainJsonText(int64_t{1} << 53) == "9007199254740992");
  CHECK(FlagValueToPlainJsonText(kBig) == "\"9007199254740993\"");
  CHECK(FlagValueToPlainJsonText(-kBig) == "\"-9007199254740993\"");
  CHECK(FlagValueToPlainJsonText(4.0) == "4.0");
  CHECK(FlagValueToPlainJsonText(1e-5) == "1e-05");
  CHECK(FlagValueToPlainJsonText(true) == "true");
  CHECK(FlagValueToPlainJsonText(std::string("a \"b\"\n")) == R"("a \"b\"\n")");
  CHECK(FlagValueToPlainJsonText(std::string("42")) == "\"42\"");
  // No scalar reads back as these: the caller needs another form.
  CHECK(FlagValueToPlainJsonText(std::string("9007199254740993")) == std::nullopt);
  CHECK(FlagValueToPlainJsonText(std::string("+9007199254740993")) == std::nullopt);
  CHECK(FlagValueToPlainJsonText(std::nan("")) == std::nullopt);
  CHECK(FlagValueToPlainJsonText(-HUGE_VAL) == std::nullopt);
  // Every text that is printed reads back as the same value.
  for (FlagValue v :
       {FlagValue(kBig), FlagValue(-kBig), FlagValue(int64_t{7}), FlagValue(1.0), FlagValue(3e-4),
        FlagValue(1e16), FlagValue(false), FlagValue(std::string("'9007199254740993'")),
        FlagValue(std::string("1.0")), FlagValue(std::string("99999999999999999999"))}) {
    auto text = FlagValueToPlainJsonText(v);
    REQUIRE(text.has_value());
    auto back = FlagValueFromPlainJson(nlohmann::json::parse(*text));
    REQUIRE(back.ok());
    CHECK(*back == v);
  }

  // Back: such a string is that integer; smaller digits stay text.
  CHECK(*FlagValueFromPlainJson(nlohmann::json("9007199254740993")) == FlagValue(kBig));
  CHECK(*FlagValueFromPlainJson(nlohmann::json("-9007199254740993")) == FlagValue(-kBig));
  CHECK(*FlagValueFromPlainJson(nlohmann::json("42")) == FlagValue(std::string("42")));
  CHECK(*FlagValueFromPlainJson(nlohmann::json("'9007199254740993'")) ==
        FlagValue(std::string("'9007199254740993'")));
  CHECK(*FlagValueFromPlainJson(nlohmann::json::parse("9007199254740993")) == FlagValue(kBig));
  CHECK(*FlagValueFromPlainJson(nlohmann::json::parse("1.0")) == FlagValue(1.0));
  CHECK(*FlagValueFromPlainJson(nlohmann::json::parse("4")) == FlagValue(int64_t{4}));
  CHECK(absl::IsInvalidArgument(FlagValueFromPlainJson(nlohmann::json::array()).status()));
  CHECK(absl::IsInvalidArgument(FlagValueFromPlainJson(nullptr).status()));
}

TEST_CASE("rendered commands quote every flag as one shell word", "[flags]") {
  CHECK(ShellQuote("it's") == "'it'\\''s'");
  FlagMap flags{{"trainer.lr", 3e-4}, {"name", std::string("a b; rm -rf /")}};
  CHECK(RenderCommand("python train.py", flags) ==
        "python train.py 'name=a b; rm -rf /' 'trainer.lr=0.0003'");
}

}  // namespace
}  // namespace skydeck
