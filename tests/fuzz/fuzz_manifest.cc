// File: tests/fuzz/fuzz_manifest.cc
//
// Fuzzes the YAML manifest loader of `skydeck apply -f` (cli/manifest.h).
// The input is the manifest file.
//
// Properties (beyond "never crashes, never throws"):
// - every manifest read has a name, names are unique, and only the known
//   fields are marked as given;
// - for every manifest the daemon would accept (the API edge's own
//   conversion, service::SpecFromProto, on text that can cross gRPC), the
//   experiment it creates, printed by `exp get -o yaml` (ManifestOf +
//   RenderYaml), reads back as the same spec, and applying that printout
//   again changes nothing (DiffManifest is empty).
#include <set>
#include <string>

#include "fuzz_check.h"
#include "fuzz_util.h"

#include "cli/manifest.h"
#include "cli/output.h"
#include "daemon/service/convert.h"

namespace skydeck {
namespace {

namespace pb = ::skydeck::v1;

const std::set<std::string> kKnownFields = {
    "name",     "description", "base_command", "run_name", "flags",        "nodes",        "gpus",
    "gpu_type", "infra",       "spot",         "labels",   "max_restarts", "desired_state"};

void CheckRoundTrip(const cli::Manifest& m) {
  if (!fuzz::AllStringsUtf8(m.spec)) return;  // cannot cross the gRPC edge
  auto spec = service::SpecFromProto(m.spec);
  if (!spec.ok()) return;  // the daemon refuses it: nothing is created
  ExperimentRecord record;
  record.id = 1;
  record.spec = *spec;
  pb::Experiment created;
  service::ToProto(record, &created);

  std::string printed = cli::RenderYaml(cli::ManifestOf(created));
  auto reread = cli::ParseManifests(printed);
  FUZZ_CHECK(reread.ok(), ("exp get -o yaml must read back: " + printed).c_str());
  FUZZ_CHECK(reread->size() == 1, "one experiment prints as one document");
  auto reread_spec = service::SpecFromProto((*reread)[0].spec);
  FUZZ_CHECK(reread_spec.ok(), "the printout is accepted again");
  FUZZ_CHECK(*reread_spec == *spec,
             ("the printout reads back as the same spec: " + printed).c_str());
  FUZZ_CHECK(cli::DiffManifest((*reread)[0], created).empty(),
             ("applying exp get -o yaml changes nothing: " + printed).c_str());
}

}  // namespace
}  // namespace skydeck

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto manifests = skydeck::cli::ParseManifests(text);
  if (!manifests.ok()) {
    FUZZ_CHECK(manifests.status().code() == absl::StatusCode::kInvalidArgument,
               "bad manifests are INVALID_ARGUMENT");
    return 0;
  }
  std::set<std::string> names;
  for (const skydeck::cli::Manifest& m : *manifests) {
    FUZZ_CHECK(!m.spec.name().empty(), "every manifest has a name");
    FUZZ_CHECK(names.insert(m.spec.name()).second, "names are unique");
    FUZZ_CHECK(m.line >= 1, "documents have a line");
    for (const std::string& f : m.fields) {
      FUZZ_CHECK(skydeck::kKnownFields.count(f) == 1, "only known fields are given");
    }
    skydeck::CheckRoundTrip(m);
  }
  return 0;
}
