#include "daemon/backend/skypilot/task_yaml.h"

#include <exception>
#include <functional>
#include <ostream>
#include <set>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "yaml-cpp/yaml.h"

#include "common/model/task_template.h"
#include "common/model/workdir.h"
#include "common/status_macros.h"
#include "common/yaml_load_all.h"

namespace skydeck::backend::skypilot {
namespace {

// "NAME" or "NAME:COUNT" with the spec's type and/or count put in.
struct AcceleratorEdit {
  std::string type;  // "" keeps the template's
  int count = 0;     // 0 keeps the template's
};

std::string EditOne(absl::string_view item, const AcceleratorEdit& edit) {
  item = absl::StripAsciiWhitespace(item);
  size_t colon = item.rfind(':');
  std::string name(colon == absl::string_view::npos ? item : item.substr(0, colon));
  std::string count = colon == absl::string_view::npos ? "" : std::string(item.substr(colon + 1));
  if (!edit.type.empty()) name = edit.type;
  if (edit.count > 0) count = absl::StrCat(edit.count);
  return count.empty() ? name : absl::StrCat(name, ":", count);
}

// A scalar accelerator text: "H100", "H100:8" or the set form
// "{A100:8, H100:8}".
std::string EditText(absl::string_view text, const AcceleratorEdit& edit) {
  absl::string_view stripped = absl::StripAsciiWhitespace(text);
  if (!absl::ConsumePrefix(&stripped, "{") || !absl::ConsumeSuffix(&stripped, "}")) {
    return EditOne(text, edit);
  }
  std::vector<std::string> items;
  std::set<std::string> seen;
  for (absl::string_view item : absl::StrSplit(stripped, ',')) {
    std::string edited = EditOne(item, edit);
    if (seen.insert(edited).second) items.push_back(edited);
  }
  return absl::StrCat("{", absl::StrJoin(items, ", "), "}");
}

// Rewrites an `accelerators` value in place; false when it has none.
bool EditAccelerators(YAML::Node& value, const AcceleratorEdit& edit) {
  if (value.IsScalar()) {
    value = QuotedScalar(EditText(value.Scalar(), edit));
    return true;
  }
  if (value.IsSequence()) {
    YAML::Node out(YAML::NodeType::Sequence);
    for (const auto& item : value) {
      out.push_back(item.IsScalar() ? QuotedScalar(EditText(item.Scalar(), edit))
                                    : YAML::Node(item));
    }
    value = out;
    return out.size() > 0;
  }
  if (value.IsMap()) {
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& entry : value) {
      std::string name = edit.type.empty() ? entry.first.Scalar() : edit.type;
      YAML::Node count = entry.second;
      if (edit.count > 0) count = YAML::Node(edit.count);
      out[QuotedScalar(name)] = count;
    }
    value = out;
    return out.size() > 0;
  }
  return false;
}

// Calls `fn` on the top-level resources and on each any_of/ordered entry.
// Lookups go through a const view: yaml-cpp's non-const operator[] would
// add the key it looks for.
void ForEachResources(YAML::Node& resources, const std::function<void(YAML::Node&)>& fn) {
  fn(resources);
  const YAML::Node& view = resources;
  for (const char* list : {"any_of", "ordered"}) {
    YAML::Node entries = view[list];
    if (!entries || !entries.IsSequence()) continue;
    for (size_t i = 0; i < entries.size(); ++i) {
      YAML::Node entry = entries[i];
      if (entry.IsMap()) fn(entry);
    }
  }
}

absl::Status ApplyAccelerators(YAML::Node& resources, const JobSpec& spec) {
  bool has_type = !spec.gpu_type.empty();
  bool has_count = spec.gpus_per_node > 0;
  if (has_type && has_count) {
    ForEachResources(resources, [](YAML::Node& r) { r.remove("accelerators"); });
    resources["accelerators"] = QuotedScalar(absl::StrCat(spec.gpu_type, ":", spec.gpus_per_node));
    return absl::OkStatus();
  }
  if (!has_type && !has_count) return absl::OkStatus();
  AcceleratorEdit edit{spec.gpu_type, spec.gpus_per_node};
  int edited = 0;
  ForEachResources(resources, [&](YAML::Node& r) {
    const YAML::Node& view = r;
    if (!view["accelerators"]) return;
    YAML::Node value = YAML::Clone(view["accelerators"]);
    if (EditAccelerators(value, edit)) {
      r["accelerators"] = value;
      ++edited;
    }
  });
  if (edited == 0 && has_count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "task YAML for ", spec.name, ": ", spec.gpus_per_node,
        " GPUs per node requested without a GPU type (e.g. --gpu-type H100), and no template "
        "accelerators to take one from"));
  }
  return absl::OkStatus();
}

// The strategy the template asks for, else the daemon's.
std::string RecoveryStrategy(const YAML::Node& resources, const TaskYamlOptions& options) {
  const YAML::Node jr = resources["job_recovery"];
  if (jr && jr.IsScalar()) return jr.Scalar();
  if (jr && jr.IsMap() && jr["strategy"] && jr["strategy"].IsScalar()) {
    return jr["strategy"].Scalar();
  }
  return options.job_recovery_strategy;
}

absl::StatusOr<YAML::Node> Resources(const JobSpec& spec, const std::optional<YAML::Node>& base,
                                     const TaskYamlOptions& options) {
  YAML::Node resources =
      base && base->IsMap() ? YAML::Clone(*base) : YAML::Node(YAML::NodeType::Map);
  RETURN_IF_ERROR(ApplyAccelerators(resources, spec));
  if (!spec.infra.empty()) {
    for (const char* k : {"cloud", "region", "zone"}) resources.remove(k);
    resources["infra"] = QuotedScalar(spec.infra);
  }
  const YAML::Node& view = resources;
  if (spec.spot || !view["use_spot"]) resources["use_spot"] = spec.spot;
  std::string strategy = RecoveryStrategy(resources, options);
  YAML::Node recovery(YAML::NodeType::Map);
  if (!strategy.empty()) recovery["strategy"] = QuotedScalar(strategy);
  recovery["max_restarts_on_errors"] = 0;
  resources["job_recovery"] = recovery;
  return resources;
}

// The paths of the task SkyPilot finds among the uploaded files
// (file_mounts_mapping), each mapped to itself.
using MountsMapping = std::map<std::string, std::string>;

std::string PathOf(const CodeRef& ref) {
  std::string path = SnapshotServerPath(ref.snapshot_id);
  if (!ref.file_name.empty()) absl::StrAppend(&path, "/", ref.file_name);
  return path;
}

// A local source becomes its snapshot's path; a URL stays.
absl::Status RewriteSource(YAML::Node& source, const JobSpec& spec, MountsMapping& mapping) {
  if (source.IsSequence()) {
    // SkyPilot's server maps every item of a list once one was uploaded
    // (process_mounts_in_task_on_api_server), URLs too: no mixing.
    bool local = false, remote = false;
    for (const auto& item : source) {
      if (!item.IsScalar()) continue;
      (IsLocalMountSource(item.Scalar()) ? local : remote) = true;
    }
    if (local && remote) {
      return absl::InvalidArgumentError(
          absl::StrCat("task YAML for ", spec.name,
                       ": a storage source list mixes local paths and URLs, "
                       "which SkyPilot cannot upload; use one mount for each"));
    }
    for (size_t i = 0; i < source.size(); ++i) {
      YAML::Node item = source[i];
      RETURN_IF_ERROR(RewriteSource(item, spec, mapping));
      source[i] = item;
    }
    return absl::OkStatus();
  }
  if (!source.IsScalar() || !IsLocalMountSource(source.Scalar())) return absl::OkStatus();
  auto it = spec.mount_snapshots.find(source.Scalar());
  if (it == spec.mount_snapshots.end() || it->second.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "task YAML for ", spec.name, ": the file mount source ", source.Scalar(),
        " is a local path and the task template version has no code snapshot of it; apply "
        "the template again with the skydeck CLI (it uploads local sources)"));
  }
  std::string path = PathOf(it->second);
  mapping[path] = path;
  source = QuotedScalar(path);
  return absl::OkStatus();
}

absl::StatusOr<YAML::Node> FileMounts(const YAML::Node& mounts, const JobSpec& spec,
                                      MountsMapping& mapping) {
  YAML::Node out = YAML::Clone(mounts);
  if (!out.IsMap()) return out;
  for (auto entry : out) {
    YAML::Node value = entry.second;
    if (value.IsMap()) {
      const YAML::Node& view = value;
      if (!view["source"]) continue;
      YAML::Node source = YAML::Clone(view["source"]);
      RETURN_IF_ERROR(RewriteSource(source, spec, mapping));
      value["source"] = source;
    } else {
      RETURN_IF_ERROR(RewriteSource(value, spec, mapping));
      out[entry.first] = value;
    }
  }
  return out;
}

// nullopt: no workdir.
absl::StatusOr<std::optional<YAML::Node>> WorkdirNode(const JobSpec& spec,
                                                      const TaskYamlOptions& options,
                                                      MountsMapping& mapping) {
  const Workdir& w = spec.workdir;
  if (w.kind == Workdir::Kind::kLocal && !spec.workdir_snapshot.empty()) {
    std::string path = SnapshotServerPath(spec.workdir_snapshot.snapshot_id);
    mapping[path] = path;
    return QuotedScalar(path);
  }
  if (w.kind == Workdir::Kind::kLocal) {
    if (!options.local_workdir_refusal.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("workdir ", w.path, ": ", options.local_workdir_refusal));
    }
    return QuotedScalar(w.path);
  }
  std::string url = w.url, ref = w.ref;
  if (w.kind == Workdir::Kind::kNone) {
    if (!options.workdir || options.workdir->url.empty()) return std::nullopt;
    url = options.workdir->url;
    ref = options.workdir->ref;
  }
  YAML::Node git(YAML::NodeType::Map);
  git["url"] = QuotedScalar(url);
  if (!ref.empty()) git["ref"] = QuotedScalar(ref);
  return git;
}

// Emits `key: "value"` with the value always double-quoted and escaped so
// that PyYAML reads it back exactly (EmitDoubleQuoted).
void QuotedEntry(YAML::Emitter& out, const std::string& key, const std::string& value) {
  out << YAML::Key << key << YAML::Value;
  EmitDoubleQuoted(out, value);
}

std::string NameDocument(const std::string& name) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  QuotedEntry(out, "name", name);
  out << YAML::EndMap;
  return out.c_str();
}

void Entry(YAML::Emitter& out, const char* key, const YAML::Node& value) {
  out << YAML::Key << key << YAML::Value;
  EmitYamlNode(out, value);
}

void StringMap(YAML::Emitter& out, const char* key,
               const std::map<std::string, std::string>& values, bool redact) {
  if (values.empty()) return;
  out << YAML::Key << key << YAML::Value << YAML::BeginMap;
  for (const auto& [name, value] : values) {
    QuotedEntry(out, name, redact ? std::string(kRedactedSecret) : value);
  }
  out << YAML::EndMap;
}

absl::Status CheckSpec(const JobSpec& spec) {
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
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> RenderTaskYaml(const JobSpec& spec, const TaskYamlOptions& options,
                                           SecretMode secrets) {
  RETURN_IF_ERROR(CheckSpec(spec));
  std::optional<TaskTemplate> tmpl;
  if (!spec.template_yaml.empty()) {
    absl::StatusOr<TaskTemplate> parsed = ParseTaskTemplate(spec.template_yaml);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("task template of ", spec.name, ": ", parsed.status().message()));
    }
    tmpl = *std::move(parsed);
  }
  // Read-only lookups (see ForEachResources).
  auto field = [&](const char* key) -> std::optional<YAML::Node> {
    if (!tmpl) return std::nullopt;
    const YAML::Node& root = tmpl->root;
    YAML::Node value = root[key];
    if (!value || value.IsNull()) return std::nullopt;
    return value;
  };
  ASSIGN_OR_RETURN(YAML::Node resources, Resources(spec, field("resources"), options));
  MountsMapping mapping;
  ASSIGN_OR_RETURN(std::optional<YAML::Node> workdir, WorkdirNode(spec, options, mapping));
  std::optional<YAML::Node> file_mounts;
  if (std::optional<YAML::Node> mounts = field("file_mounts")) {
    ASSIGN_OR_RETURN(file_mounts, FileMounts(*mounts, spec, mapping));
  }

  YAML::Emitter out;
  out << YAML::BeginMap;
  QuotedEntry(out, "name", spec.name);
  out << YAML::Key << "num_nodes" << YAML::Value << spec.nodes;
  Entry(out, "resources", resources);
  StringMap(out, "envs", spec.env, /*redact=*/false);
  StringMap(out, "secrets", spec.secrets, secrets == SecretMode::kRedacted);
  if (file_mounts) Entry(out, "file_mounts", *file_mounts);
  for (const char* key : {"volumes", "config"}) {
    if (std::optional<YAML::Node> value = field(key)) Entry(out, key, *value);
  }
  if (workdir) Entry(out, "workdir", *workdir);
  const std::string& setup = spec.setup.empty() ? options.setup : spec.setup;
  if (!setup.empty()) QuotedEntry(out, "setup", setup);
  QuotedEntry(out, "run", spec.command);
  StringMap(out, "file_mounts_mapping", mapping, /*redact=*/false);
  out << YAML::EndMap;
  if (!out.good()) {
    return absl::InvalidArgumentError(
        absl::StrCat("task YAML for ", spec.name, ": ", out.GetLastError()));
  }
  return absl::StrCat(NameDocument(spec.name), "\n---\n", out.c_str(), "\n");
}

std::string SnapshotServerPath(absl::string_view snapshot_id) {
  return absl::StrCat("/skydeck/snapshots/", snapshot_id);
}

std::vector<std::string> SnapshotIdsOf(const JobSpec& spec) {
  std::set<std::string> ids;
  if (spec.workdir.kind == Workdir::Kind::kLocal && !spec.workdir_snapshot.empty()) {
    ids.insert(spec.workdir_snapshot.snapshot_id);
  }
  for (const auto& [source, ref] : spec.mount_snapshots) {
    if (!ref.empty()) ids.insert(ref.snapshot_id);
  }
  return std::vector<std::string>(ids.begin(), ids.end());
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
