#include "common/model/flag_schema.h"

#include <catch2/catch.hpp>

namespace skydeck {
namespace {

FlagSchema TrainSchema(bool strict) {
  FlagSchema s;
  s.base_command = "python train.py";
  s.strict = strict;
  s.flags = {
      {.name = "model.layers",
       .type = FlagType::kInt,
       .default_value = int64_t{4},
       .required = true,
       .min = 1,
       .max = 96},
      {.name = "trainer.lr", .type = FlagType::kFloat, .min = 0.0},
      {.name = "ppo.enabled", .type = FlagType::kBool},
      {.name = "optim", .type = FlagType::kChoice, .choices = {"adam", "sgd"}},
      {.name = "run.tag", .type = FlagType::kString},
  };
  REQUIRE(ValidateFlagSchema(s).ok());
  return s;
}

FlagMap Valid() { return {{"model.layers", int64_t{4}}}; }

TEST_CASE("int flags accept ints, integer text and integral floats", "[flag_schema]") {
  FlagSchema s = TrainSchema(true);
  for (FlagValue in : {FlagValue(int64_t{4}), FlagValue(std::string("4")), FlagValue(4.0),
                       FlagValue(std::string(" 4 "))}) {
    auto r = CheckFlags(s, {{"model.layers", in}});
    REQUIRE(r.ok());
    CHECK(r->flags.at("model.layers") == FlagValue(int64_t{4}));
  }
  for (FlagValue in : {FlagValue(4.5), FlagValue(std::string("four")), FlagValue(true)}) {
    auto r = CheckFlags(s, {{"model.layers", in}});
    REQUIRE(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(r.status().message()), Catch::Contains("model.layers"));
    CHECK_THAT(std::string(r.status().message()), Catch::Contains("expected int"));
  }
  auto r = CheckFlags(s, {{"model.layers", std::string("four")}});
  CHECK_THAT(std::string(r.status().message()), Catch::Contains("\"four\""));
}

TEST_CASE("float flags accept ints and numeric text as doubles", "[flag_schema]") {
  FlagSchema s = TrainSchema(true);
  FlagMap in = Valid();
  in["trainer.lr"] = int64_t{4};
  auto r = CheckFlags(s, in);
  REQUIRE(r.ok());
  CHECK(r->flags.at("trainer.lr") == FlagValue(4.0));
  in["trainer.lr"] = std::string("3e-4");
  r = CheckFlags(s, in);
  REQUIRE(r.ok());
  CHECK(r->flags.at("trainer.lr") == FlagValue(3e-4));
  in["trainer.lr"] = std::string("fast");
  CHECK(CheckFlags(s, in).status().code() == absl::StatusCode::kInvalidArgument);
  in["trainer.lr"] = true;
  CHECK(CheckFlags(s, in).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("bool flags accept true/false text and 0/1", "[flag_schema]") {
  FlagSchema s = TrainSchema(true);
  FlagMap in = Valid();
  for (auto [value, want] : std::vector<std::pair<FlagValue, bool>>{{std::string("true"), true},
                                                                    {std::string("False"), false},
                                                                    {int64_t{1}, true},
                                                                    {int64_t{0}, false},
                                                                    {true, true}}) {
    in["ppo.enabled"] = value;
    auto r = CheckFlags(s, in);
    REQUIRE(r.ok());
    CHECK(r->flags.at("ppo.enabled") == FlagValue(want));
  }
  in["ppo.enabled"] = std::string("yes");
  auto r = CheckFlags(s, in);
  CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(r.status().message()), Catch::Contains("expected bool"));
  in["ppo.enabled"] = int64_t{2};
  CHECK(CheckFlags(s, in).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("choice flags accept only the listed values", "[flag_schema]") {
  FlagSchema s = TrainSchema(true);
  FlagMap in = Valid();
  in["optim"] = std::string("sgd");
  CHECK(CheckFlags(s, in).ok());
  in["optim"] = std::string("adamw");
  auto r = CheckFlags(s, in);
  REQUIRE(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(r.status().message()), Catch::Contains("one of {adam, sgd}"));
  CHECK_THAT(std::string(r.status().message()), Catch::Contains("adamw"));
}

TEST_CASE("numeric choices compare by text", "[flag_schema]") {
  FlagSchema s{.base_command = "x",
               .flags = {{.name = "bits", .type = FlagType::kChoice, .choices = {"8", "16"}}}};
  REQUIRE(ValidateFlagSchema(s).ok());
  auto r = CheckFlags(s, {{"bits", int64_t{16}}});
  REQUIRE(r.ok());
  CHECK(r->flags.at("bits") == FlagValue(std::string("16")));
}

TEST_CASE("string flags keep any scalar as text", "[flag_schema]") {
  FlagSchema s = TrainSchema(true);
  FlagMap in = Valid();
  in["run.tag"] = int64_t{42};
  auto r = CheckFlags(s, in);
  REQUIRE(r.ok());
  CHECK(r->flags.at("run.tag") == FlagValue(std::string("42")));
}

TEST_CASE("ranges are inclusive and checked for ints and floats", "[flag_schema]") {
  FlagSchema s = TrainSchema(true);
  FlagMap in = Valid();
  in["model.layers"] = int64_t{96};
  CHECK(CheckFlags(s, in).ok());
  in["model.layers"] = int64_t{97};
  auto r = CheckFlags(s, in);
  REQUIRE(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(r.status().message()), Catch::Contains("in [1.0, 96.0]"));
  in["model.layers"] = int64_t{0};
  CHECK(CheckFlags(s, in).status().code() == absl::StatusCode::kInvalidArgument);
  in = Valid();
  in["trainer.lr"] = -0.1;
  CHECK(CheckFlags(s, in).status().code() == absl::StatusCode::kInvalidArgument);
  in["trainer.lr"] = 0.0;
  CHECK(CheckFlags(s, in).ok());
}

TEST_CASE("required flags must be set", "[flag_schema]") {
  FlagSchema s = TrainSchema(false);
  auto r = CheckFlags(s, {});
  REQUIRE(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(r.status().message()), Catch::Contains("model.layers: required"));
}

TEST_CASE("unknown flags are errors when strict, warnings when lenient", "[flag_schema]") {
  FlagMap in = Valid();
  in["trainer.lrr"] = 0.1;
  auto strict = CheckFlags(TrainSchema(true), in);
  REQUIRE(strict.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(strict.status().message()), Catch::Contains("unknown flag trainer.lrr"));

  auto lenient = CheckFlags(TrainSchema(false), in);
  REQUIRE(lenient.ok());
  REQUIRE(lenient->warnings.size() == 1);
  CHECK_THAT(lenient->warnings[0], Catch::Contains("trainer.lrr"));
  CHECK(lenient->flags.at("trainer.lrr") == FlagValue(0.1));
}

TEST_CASE("all problems are reported together", "[flag_schema]") {
  auto r = CheckFlags(TrainSchema(true),
                      {{"trainer.lr", std::string("x")}, {"optim", std::string("y")}});
  REQUIRE(!r.ok());
  std::string m(r.status().message());
  CHECK_THAT(m, Catch::Contains("trainer.lr"));
  CHECK_THAT(m, Catch::Contains("optim"));
  CHECK_THAT(m, Catch::Contains("model.layers: required"));
}

TEST_CASE("bad schemas are refused", "[flag_schema]") {
  auto bad = [](FlagSchema s) { return ValidateFlagSchema(s).code(); };
  constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
  CHECK(bad({.base_command = ""}) == kInvalid);
  CHECK(bad({.base_command = "x", .flags = {{.name = "a b"}}}) == kInvalid);
  CHECK(bad({.base_command = "x", .flags = {{.name = "a"}, {.name = "a"}}}) == kInvalid);
  CHECK(bad({.base_command = "x", .flags = {{.name = "a", .type = FlagType::kChoice}}}) ==
        kInvalid);
  CHECK(bad({.base_command = "x",
             .flags = {{.name = "a", .type = FlagType::kInt, .min = 5, .max = 1}}}) == kInvalid);
  CHECK(bad({.base_command = "x", .flags = {{.name = "a", .type = FlagType::kBool, .min = 0}}}) ==
        kInvalid);
  CHECK(
      bad({.base_command = "x",
           .flags = {{.name = "a", .type = FlagType::kInt, .default_value = std::string("x")}}}) ==
      kInvalid);
}

TEST_CASE("defaults are normalised to the flag type", "[flag_schema]") {
  FlagSchema s{.base_command = "x",
               .flags = {{.name = "lr", .type = FlagType::kFloat, .default_value = int64_t{1}}}};
  REQUIRE(ValidateFlagSchema(s).ok());
  CHECK(*s.flags[0].default_value == FlagValue(1.0));
}

TEST_CASE("JSON form round-trips and rejects typos", "[flag_schema]") {
  FlagSchema s = TrainSchema(true);
  auto back = FlagSchemaFromJson(FlagSchemaToJson(s));
  REQUIRE(back.ok());
  CHECK(back->flags == s.flags);
  CHECK(back->strict);

  auto typo = FlagSchemaFromJson(nlohmann::json::parse(
      R"({"base_command": "x", "flags": [{"name": "a", "type": "int", "requried": true}]})"));
  CHECK(typo.status().code() == absl::StatusCode::kInvalidArgument);
  auto bad_type = FlagSchemaFromJson(nlohmann::json::parse(
      R"({"base_command": "x", "flags": [{"name": "a", "type": "integer"}]})"));
  CHECK(bad_type.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("proto form round-trips", "[flag_schema]") {
  FlagSchema s = TrainSchema(false);
  s.version = 7;
  skydeck::v1::CommandFlagSchema p;
  FlagSchemaToProto(s, &p);
  CHECK(p.version() == 7);
  CHECK(p.flags(0).type() == skydeck::v1::FlagSchema::TYPE_INT);
  CHECK(p.flags(3).type() == skydeck::v1::FlagSchema::TYPE_CHOICE);
  auto back = FlagSchemaFromProto(p);
  REQUIRE(back.ok());
  CHECK(back->flags == s.flags);
  p.mutable_flags(0)->set_type(skydeck::v1::FlagSchema::TYPE_UNSPECIFIED);
  CHECK(FlagSchemaFromProto(p).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace skydeck
