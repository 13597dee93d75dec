// File: common/model/task_template.h
//
// Task templates: a SkyPilot task YAML stored in SkyDeck under a name, the
// base of the task of every experiment that names it (TaskTemplate in
// proto/skydeck/v1/resources.proto). This file checks a template against
// SkyPilot's task schema (sky/utils/schemas.py, get_task_schema and
// get_resources_schema) for the fields SkyDeck knows, and gives the parts
// SkyDeck reads (envs, secret names, setup, git workdir, accelerators).
// Everything else (resources, file_mounts, volumes, config) is passed to
// SkyPilot as written.
//
// Refused, with the line: malformed YAML; more than one document; keys
// SkyDeck does not know at the top level or in `resources`; `run` and
// `num_nodes` (the experiment's command and nodes); a secret with a value
// (templates hold names only, `WANDB_API_KEY: null`); a local workdir (an
// experiment's workdir is the place for a local directory); a
// `job_recovery` that retries user-code failures (the restart budget is
// SkyDeck's). Local file mount sources (paths, not URLs) are listed in
// `local_sources`: they travel to SkyPilot as code snapshots taken when
// the template is applied.
//
//   ASSIGN_OR_RETURN(TaskTemplate t, ParseTaskTemplate(text));
//   for (const std::string& name : t.secrets) ...
//
// Pure. Thread-safety: TaskTemplate holds a YAML::Node; copies share it,
// so treat `root` as read-only (clone before changing it).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "common/model/workdir.h"

namespace skydeck {

inline constexpr size_t kMaxTemplateBytes = 64 * 1024;

struct TaskTemplate {
  // The YAML's own `name:`; "" when absent.
  std::string name;
  // The parsed document (a mapping).
  YAML::Node root;
  // envs as written; nullopt for `KEY: null` (the experiment must set it).
  std::map<std::string, std::optional<std::string>> envs;
  // Secret names, in the order written.
  std::vector<std::string> secrets;
  // setup; "" when absent.
  std::string setup;
  // A git workdir ({url, ref} or "URL[@REF]"); nullopt when absent.
  std::optional<Workdir> workdir;
  // Every accelerator written in resources (top level, any_of, ordered),
  // as "TYPE" or "TYPE:COUNT" text, for display and for the check that
  // GPUs without a type can take the template's.
  std::vector<std::string> accelerators;
  // The local file_mounts sources (scalar sources and storage `source`s,
  // lists included) as written, e.g. "./configs", "~/data", "/srv/x";
  // each once, in the order written.
  std::vector<std::string> local_sources;
};

// Whether a file mount source is a local path (not a URL such as s3://,
// gs://, https://), as SkyPilot's client decides.
bool IsLocalMountSource(absl::string_view source);

// ParseTaskTemplate()
//
// Errors: INVALID_ARGUMENT, "line N: ..." (1-based) when the YAML is not a
// template SkyDeck can run (see above), or when it is larger than 64 KiB.
absl::StatusOr<TaskTemplate> ParseTaskTemplate(absl::string_view yaml);

// EmitYamlNode()
//
// Writes `node` as it was parsed: scalars quoted in the source (or tagged
// !!str) double-quoted, plain scalars as written (so PyYAML, which
// SkyPilot uses, types them as it would have from the source), nulls as
// `~`, collections in block style.
void EmitYamlNode(YAML::Emitter& out, const YAML::Node& node);

// Writes `text` as a double-quoted scalar escaped by YamlDoubleQuoted
// (common/yaml_scalar.h), not by yaml-cpp, whose emitter writes DEL and C1
// controls raw (PyYAML, which SkyPilot parses tasks with, refuses them) and
// turns U+FFFF into U+FFFD.
void EmitDoubleQuoted(YAML::Emitter& out, const std::string& text);

// A scalar node that EmitYamlNode writes double-quoted.
YAML::Node QuotedScalar(const std::string& value);

}  // namespace skydeck
