#include "daemon/backend/skypilot/task_yaml.h"

#include <exception>
#include <ostream>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/yaml_load_all.h"
#include "common/yaml_scalar.h"
#include "yaml-cpp/yaml.h"

namespace skydeck::backend::skypilot {
namespace {

// A scalar already written in YAML syntax, for Emitter::WriteIntegralType,
// which streams its argument verbatim as a scalar node (the emitter's only
// way to take a scalar formatted elsewhere).
struct PreformattedScalar {
  std::string text;
};
std::ostream& operator<<(std::ostream& os, const PreformattedScalar& s) { return os << s.text; }

// Emits `key: "value"` with the value always double-quoted, escaped by
// YamlDoubleQuoted rather than by yaml-cpp, whose emitter writes DEL and C1
// controls raw (PyYAML, which SkyPilot parses the task with, refuses them)
// and replaces U+FFFF with U+FFFD (common/yaml_scalar.h).
void QuotedEntry(YAML::Emitter& out, const char* key, const std::string& value) {
  out << YAML::Key << key << YAML::Value;
  out.WriteIntegralType(PreformattedScalar{YamlDoubleQuoted(value)});
}

std::string NameDocument(const std::string& name) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  QuotedEntry(out, "name", name);
  out << YAML::EndMap;
  return out.c_str();
}

std::string TaskDocument(const JobSpec& spec, const TaskYamlOptions& options) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  QuotedEntry(out, "name", spec.name);
  out << YAML::Key << "num_nodes" << YAML::Value << spec.nodes;

  out << YAML::Key << "resources" << YAML::Value << YAML::BeginMap;
  if (spec.gpus_per_node > 0) {
    QuotedEntry(out, "accelerators", absl::StrCat(spec.gpu_type, ":", spec.gpus_per_node));
  }
  if (!spec.infra.empty()) QuotedEntry(out, "infra", spec.infra);
  out << YAML::Key << "use_spot" << YAML::Value << spec.spot;
  out << YAML::Key << "job_recovery" << YAML::Value << YAML::BeginMap;
  if (!options.job_recovery_strategy.empty()) {
    QuotedEntry(out, "strategy", options.job_recovery_strategy);
  }
  out << YAML::Key << "max_restarts_on_errors" << YAML::Value << 0;
  out << YAML::EndMap;  // job_recovery
  out << YAML::EndMap;  // resources

  if (!spec.env.empty()) {
    out << YAML::Key << "envs" << YAML::Value << YAML::BeginMap;
    for (const auto& [key, value] : spec.env) QuotedEntry(out, key.c_str(), value);
    out << YAML::EndMap;
  }
  if (options.workdir && !options.workdir->url.empty()) {
    out << YAML::Key << "workdir" << YAML::Value << YAML::BeginMap;
    QuotedEntry(out, "url", options.workdir->url);
    if (!options.workdir->ref.empty()) QuotedEntry(out, "ref", options.workdir->ref);
    out << YAML::EndMap;
  }
  if (!options.setup.empty()) QuotedEntry(out, "setup", options.setup);
  QuotedEntry(out, "run", spec.command);
  out << YAML::EndMap;
  return out.c_str();
}

}  // namespace

absl::StatusOr<std::string> RenderTaskYaml(const JobSpec& spec, const TaskYamlOptions& options) {
  if (spec.name.empty()) return absl::InvalidArgumentError("task YAML: the job has no name");
  if (spec.command.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("task YAML for ", spec.name, ": empty command"));
  }
  if (spec.nodes < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("task YAML for ", spec.name, ": nodes must be >= 1, got ", spec.nodes));
  }
  if (spec.gpus_per_node < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "task YAML for ", spec.name, ": gpus per node must be >= 0, got ", spec.gpus_per_node));
  }
  if (spec.gpus_per_node > 0 && spec.gpu_type.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "task YAML for ", spec.name, ": ", spec.gpus_per_node,
        " GPUs per node requested without a GPU type (e.g. H100)"));
  }
  return absl::StrCat(NameDocument(spec.name), "\n---\n", TaskDocument(spec, options), "\n");
}

std::string TaskYamlName(absl::string_view yaml) {
  try {
    std::vector<YAML::Node> docs = LoadAllYamlDocuments(std::string(yaml));
    if (docs.empty() || !docs.front().IsMap()) return "";
    YAML::Node name = docs.front()["name"];
    return name && name.IsScalar() ? name.as<std::string>() : "";
  } catch (const std::exception&) {
    return "";
  }
}

}  // namespace skydeck::backend::skypilot
