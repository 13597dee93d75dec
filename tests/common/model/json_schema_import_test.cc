#include "common/model/json_schema_import.h"

#include <catch2/catch.hpp>

namespace skydeck {
namespace {

// What Pydantic v2's model_json_schema() emits for:
//   class Optim(str, Enum): adam = "adam"; sgd = "sgd"
//   class Trainer(BaseModel):
//       lr: float = Field(3e-4, gt=0, le=1, description="learning rate")
//       steps: int = Field(ge=1)
//       optim: Optim = Optim.adam
//   class Config(BaseModel):
//       trainer: Trainer
//       seed: Optional[int] = None
//       tags: list[str] = []
//       extra: dict[str, int] = {}
//       mixed: Union[int, str] = 0
//       debug: bool = False
constexpr const char* kPydanticV2 = R"({
  "$defs": {
    "Optim": {"enum": ["adam", "sgd"], "title": "Optim", "type": "string"},
    "Trainer": {
      "properties": {
        "lr": {"default": 0.0003, "description": "learning rate", "exclusiveMinimum": 0,
               "maximum": 1, "title": "Lr", "type": "number"},
        "steps": {"minimum": 1, "title": "Steps", "type": "integer"},
        "optim": {"allOf": [{"$ref": "#/$defs/Optim"}], "default": "adam"}
      },
      "required": ["steps"], "title": "Trainer", "type": "object"
    }
  },
  "properties": {
    "trainer": {"$ref": "#/$defs/Trainer"},
    "seed": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": null, "title": "Seed"},
    "tags": {"default": [], "items": {"type": "string"}, "title": "Tags", "type": "array"},
    "extra": {"additionalProperties": {"type": "integer"}, "default": {}, "type": "object"},
    "mixed": {"anyOf": [{"type": "integer"}, {"type": "string"}], "default": 0},
    "debug": {"default": false, "title": "Debug", "type": "boolean"}
  },
  "required": ["trainer"], "title": "Config", "type": "object"
})";

TEST_CASE("Pydantic v2 schemas import as dotted flags", "[json_schema_import]") {
  auto r = ImportJsonSchema(nlohmann::json::parse(kPydanticV2), "python train.py", true);
  REQUIRE(r.ok());
  const FlagSchema& s = r->schema;
  CHECK(s.strict);
  CHECK(s.base_command == "python train.py");

  const FlagSpec* lr = s.Find("trainer.lr");
  REQUIRE(lr != nullptr);
  CHECK(lr->type == FlagType::kFloat);
  CHECK(*lr->default_value == FlagValue(3e-4));
  CHECK(lr->description == "learning rate");
  CHECK(*lr->min > 0.0);
  CHECK(*lr->min < 1e-300);
  CHECK(*lr->max == 1.0);
  CHECK_FALSE(lr->required);

  const FlagSpec* steps = s.Find("trainer.steps");
  REQUIRE(steps != nullptr);
  CHECK(steps->type == FlagType::kInt);
  CHECK(steps->required);
  CHECK(*steps->min == 1.0);

  const FlagSpec* optim = s.Find("trainer.optim");
  REQUIRE(optim != nullptr);
  CHECK(optim->type == FlagType::kChoice);
  CHECK(optim->choices == std::vector<std::string>{"adam", "sgd"});
  CHECK(*optim->default_value == FlagValue(std::string("adam")));

  const FlagSpec* seed = s.Find("seed");
  REQUIRE(seed != nullptr);
  CHECK(seed->type == FlagType::kInt);
  CHECK_FALSE(seed->default_value.has_value());
  CHECK_FALSE(seed->required);

  const FlagSpec* debug = s.Find("debug");
  REQUIRE(debug != nullptr);
  CHECK(debug->type == FlagType::kBool);

  CHECK(s.Find("tags") == nullptr);
  CHECK(s.Find("extra") == nullptr);
  CHECK(s.Find("mixed") == nullptr);
  std::string skipped;
  for (const auto& line : r->skipped) skipped += line + "\n";
  CHECK_THAT(skipped, Catch::Contains("tags: array"));
  CHECK_THAT(skipped, Catch::Contains("extra: object without properties"));
  CHECK_THAT(skipped, Catch::Contains("mixed: union"));
}

TEST_CASE("Pydantic v1 definitions and nested defaults", "[json_schema_import]") {
  auto r = ImportJsonSchema(nlohmann::json::parse(R"({
    "definitions": {
      "Model": {"type": "object", "properties": {
        "layers": {"type": "integer", "exclusiveMaximum": 10},
        "act": {"type": "string", "enum": ["relu", "gelu"]}}}
    },
    "properties": {
      "model": {"$ref": "#/definitions/Model", "default": {"layers": 4, "act": "gelu"}},
      "ratio": {"anyOf": [{"type": "integer"}, {"type": "number"}]}
    }
  })"),
                            "x", false);
  REQUIRE(r.ok());
  const FlagSpec* layers = r->schema.Find("model.layers");
  REQUIRE(layers != nullptr);
  CHECK(*layers->max == 9.0);
  CHECK(*layers->default_value == FlagValue(int64_t{4}));
  const FlagSpec* act = r->schema.Find("model.act");
  REQUIRE(act != nullptr);
  CHECK(*act->default_value == FlagValue(std::string("gelu")));
  const FlagSpec* ratio = r->schema.Find("ratio");
  REQUIRE(ratio != nullptr);
  CHECK(ratio->type == FlagType::kFloat);
  CHECK(r->skipped.empty());
}

TEST_CASE("recursive models and bad refs are reported", "[json_schema_import]") {
  auto r = ImportJsonSchema(nlohmann::json::parse(R"({
    "$defs": {"Node": {"type": "object", "properties": {
      "value": {"type": "integer"}, "child": {"$ref": "#/$defs/Node"}}}},
    "properties": {"root": {"$ref": "#/$defs/Node"}, "ghost": {"$ref": "#/$defs/Missing"}}
  })"),
                            "x", false);
  REQUIRE(r.ok());
  CHECK(r->schema.Find("root.value") != nullptr);
  std::string skipped;
  for (const auto& line : r->skipped) skipped += line + "\n";
  CHECK_THAT(skipped, Catch::Contains("root.child: recursive model"));
  CHECK(r->schema.flags.size() == 1);
  CHECK_THAT(skipped, Catch::Contains("ghost: unresolved $ref"));
}

TEST_CASE("non-object schemas are INVALID_ARGUMENT", "[json_schema_import]") {
  CHECK(ImportJsonSchema(nlohmann::json::parse(R"({"type": "string"})"), "x", false)
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace skydeck
