// File: tests/fuzz/findings_test.cc
//
// What the fuzzers found, kept as plain tests so
// each fix stays fixed in every build (fuzz inputs are also in the seed
// corpora). Each case names what found it and what happened before the fix.
#include <catch2/catch.hpp>

#include "cli/manifest.h"
#include "common/model/json_schema_import.h"
#include "daemon/backend/skypilot/task_yaml.h"

namespace skydeck {
namespace {

// fuzz_manifest: yaml-cpp 0.7's LoadAll never consumed a ',' at the start
// of a document and produced empty documents until memory ran out
// (std::bad_alloc after ~4 GB). common/yaml_load_all.h.
TEST_CASE("a stray ',' in a manifest is a YAML error, not an endless loop", "[fuzz][findings]") {
  for (const char* yaml : {",", ", a", "name: a\n---\n, b: c}-1\n",
                           ", base_ 2]}, nod: 'python t.py', flags: {a: [1, 2]}, nodes: 0x10}"}) {
    INFO(yaml);
    auto parsed = cli::ParseManifests(yaml);
    CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
  }
  auto fine = cli::ParseManifests("---\n---\nname: a\n...\n---\nname: b\n");
  REQUIRE(fine.ok());
  CHECK(fine->size() == 2);
}

// The same loop in the daemon: the SkyPilot backend reads the task YAML of
// in-flight launch requests from the API server to find its own jobs.
TEST_CASE("a task YAML with a stray ',' from the API server has no name", "[fuzz][findings]") {
  CHECK(backend::skypilot::TaskYamlName(", name: x") == "");
  CHECK(backend::skypilot::TaskYamlName("name: skydeck-a-1-1\n---\nrun: x\n") == "skydeck-a-1-1");
}

// fuzz_json_schema: uncaught nlohmann::json exceptions (std::terminate in
// `skydeck schema import`).
TEST_CASE("malformed $ref pointers and non-schema union branches are skipped", "[fuzz][findings]") {
  auto doc = nlohmann::json::parse(R"({"properties": {
      "a": {"$ref": "#/~x"},
      "b": {"$ref": "#/properties/c/99999999999999999999999"},
      "c": {"type": "array"},
      "d": {"anyOf": ["s"], "default": 2.5},
      "e": {"oneOf": [true, {"type": "null"}]},
      "ok": {"type": "integer"}}})");
  auto imported = ImportJsonSchema(doc, "python t.py", false);
  REQUIRE(imported.ok());
  REQUIRE(imported->schema.flags.size() == 1);
  CHECK(imported->schema.flags[0].name == "ok");
  CHECK(imported->skipped.size() == 5);
}

}  // namespace
}  // namespace skydeck
