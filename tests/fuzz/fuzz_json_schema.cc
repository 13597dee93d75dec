// File: tests/fuzz/fuzz_json_schema.cc
//
// Fuzzes the JSON Schema importer of `skydeck schema import`
// (common/model/json_schema_import.h). The input is the schema file, parsed the
// way the CLI parses it; its length's parity picks strict mode.
//
// Properties (beyond "never crashes, never throws"):
// - failures are INVALID_ARGUMENT;
// - an imported schema is valid, and the path it then takes is lossless:
//   CLI -> ApplyFlagSchema request (FlagSchemaToProto) -> daemon
//   (FlagSchemaFromProto) -> store column (FlagSchemaToJson, dumped) ->
//   read back (FlagSchemaFromJson) gives the same flags.
#include <string>

#include "fuzz_check.h"

#include "common/model/flag_schema.h"
#include "common/model/json_schema_import.h"

namespace skydeck {
namespace {

bool SameSchema(const FlagSchema& a, const FlagSchema& b) {
  return a.base_command == b.base_command && a.strict == b.strict && a.flags == b.flags;
}

void CheckImported(const JsonSchemaImport& imported) {
  FlagSchema copy = imported.schema;
  FUZZ_CHECK(ValidateFlagSchema(copy).ok(), "an imported schema is valid");
  FUZZ_CHECK(SameSchema(copy, imported.schema), "validating an imported schema changes nothing");
  for (const std::string& line : imported.skipped) {
    FUZZ_CHECK(line.find(": ") != std::string::npos, "skipped lines say what and why");
  }

  skydeck::v1::CommandFlagSchema proto;
  FlagSchemaToProto(imported.schema, &proto);
  auto from_proto = FlagSchemaFromProto(proto);
  FUZZ_CHECK(from_proto.ok(), "the daemon accepts what the CLI imported");
  FUZZ_CHECK(SameSchema(*from_proto, imported.schema), "the proto form is lossless");

  std::string stored = FlagSchemaToJson(*from_proto).dump();
  auto from_store = FlagSchemaFromJson(nlohmann::json::parse(stored));
  FUZZ_CHECK(from_store.ok(), ("the store reads its own column back: " + stored).c_str());
  FUZZ_CHECK(SameSchema(*from_store, imported.schema),
             ("the stored form is lossless: " + stored).c_str());
}

}  // namespace
}  // namespace skydeck

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;
  auto imported = skydeck::ImportJsonSchema(doc, "python train.py", size % 2 == 1);
  if (!imported.ok()) {
    FUZZ_CHECK(imported.status().code() == absl::StatusCode::kInvalidArgument,
               "import errors are INVALID_ARGUMENT");
    return 0;
  }
  skydeck::CheckImported(*imported);
  return 0;
}
