// File: cli/manifest.h
//
// Experiment manifests: the YAML `skydeck apply -f` reads and `skydeck exp
// get -o yaml` writes. A manifest holds only spec fields, in the API's
// snake_case names (name, description, base_command, run_name, flags,
// nodes, gpus, gpu_type, infra, spot, labels, max_restarts, desired_state,
// template, envs (a map), secrets (a list of names), workdir), with flags
// as plain YAML scalars typed like `--flag k=v` (a quoted scalar stays a
// string). Pure: parsing, rendering and diffing need no daemon (a relative
// workdir is resolved by the caller).
//
//   ASSIGN_OR_RETURN(std::vector<Manifest> docs, ParseManifests(text));
//   for (const FieldChange& c : DiffManifest(docs[0], current)) ...
#pragma once

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

#include "skydeck/v1/resources.pb.h"

namespace skydeck::cli {

namespace pb = ::skydeck::v1;

// One YAML document of a manifest file.
struct Manifest {
  // The fields the document sets; the others are not in `fields`.
  pb::Experiment spec;
  // The snake_case names given, e.g. {"name", "flags"}. Fields left out are
  // left alone by apply.
  std::set<std::string> fields;
  // 1-based line where the document starts, for messages.
  int line = 0;
};

// ParseManifests()
//
// Every non-empty document of `yaml` (multi-document: `---`). Errors:
// INVALID_ARGUMENT naming the line for YAML syntax errors, a document that
// is not a mapping, an unknown field, a value of the wrong type, a missing
// name, or the same name twice.
absl::StatusOr<std::vector<Manifest>> ParseManifests(absl::string_view yaml);

// One changed field, as shown in a plan: "flags.lr: 0.0001 -> 0.0003".
struct FieldChange {
  // Field name; "flags.<key>" / "labels.<key>" for map entries.
  std::string field;
  // The values as text; "<none>" when absent on that side.
  std::string from, to;
  // The update mask path (or "desired_state").
  std::string mask_path;
};

// DiffManifest()
//
// The fields `want` sets that differ from `have`, in field order; empty
// when applying would change nothing. Nodes 0 count as 1, as on create.
std::vector<FieldChange> DiffManifest(const Manifest& want, const pb::Experiment& have);

// The manifest of `e` (spec fields; empty strings and maps left out) as a
// document for RenderYaml: ParseManifests(RenderYaml(ManifestOf(e))) reads
// back the same spec.
nlohmann::ordered_json ManifestOf(const pb::Experiment& e);

}  // namespace skydeck::cli
