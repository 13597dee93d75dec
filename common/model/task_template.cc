#include "common/model/task_template.h"

#include <algorithm>
#include <ostream>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "common/model/validation.h"
#include "common/status_macros.h"
#include "common/yaml_load_all.h"
#include "common/yaml_scalar.h"

namespace skydeck {
namespace {

// SkyPilot's task keys SkyDeck knows (sky/utils/schemas.py,
// get_task_schema), minus `run` and `num_nodes`, which are the experiment's.
constexpr const char* kTopKeys[] = {"name",    "resources", "envs",  "secrets", "file_mounts",
                                    "volumes", "workdir",   "setup", "config"};
// One resources entry (_get_single_resources_schema), without the
// internal underscore keys.
constexpr const char* kResourceKeys[] = {
    "cloud",   "region",           "zone",          "infra",        "cpus",
    "memory",  "accelerators",     "instance_type", "use_spot",     "job_recovery",
    "volumes", "disk_size",        "disk_tier",     "network_tier", "ports",
    "labels",  "accelerator_args", "image_id",      "autostop",     "priority"};
// Top-level task `config` keys a task may override
// (constants.OVERRIDEABLE_CONFIG_KEYS_IN_TASK).
constexpr const char* kConfigKeys[] = {"docker", "nvidia_gpus",     "ssh", "kubernetes", "gcp",
                                       "vast",   "active_workspace"};

// A node's 1-based line; parsed null nodes have no mark, so the key's.
int LineOf(const YAML::Node& node, const YAML::Node& fallback) {
  int line = node.Mark().line;
  if (line < 0) line = fallback.Mark().line;
  return line < 0 ? 1 : line + 1;
}

absl::Status At(const YAML::Node& node, const YAML::Node& fallback, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("line ", LineOf(node, fallback), ": ", message));
}

template <size_t N>
bool OneOf(const std::string& key, const char* const (&keys)[N]) {
  for (const char* k : keys) {
    if (key == k) return true;
  }
  return false;
}

// Iterates a mapping's entries, refusing a key given twice.
absl::Status ForEachEntry(const YAML::Node& map, absl::string_view where,
                          const std::function<absl::Status(const std::string&, const YAML::Node&,
                                                           const YAML::Node&)>& body) {
  std::set<std::string> seen;
  for (const auto& entry : map) {
    if (!entry.first.IsScalar()) {
      return At(entry.first, map, absl::StrCat(where, ": keys must be plain text"));
    }
    const std::string key = entry.first.Scalar();
    if (!seen.insert(key).second) {
      return At(entry.first, map, absl::StrCat(where, ": ", key, " given twice"));
    }
    RETURN_IF_ERROR(body(key, entry.first, entry.second));
  }
  return absl::OkStatus();
}

absl::Status NeedScalar(const YAML::Node& value, const YAML::Node& key, absl::string_view what) {
  if (!value.IsScalar()) return At(value, key, absl::StrCat(what, ": must be a single value"));
  return absl::OkStatus();
}

absl::Status NeedMap(const YAML::Node& value, const YAML::Node& key, absl::string_view what) {
  if (!value.IsMap()) return At(value, key, absl::StrCat(what, ": must be a mapping"));
  return absl::OkStatus();
}

void AcceleratorTexts(const YAML::Node& value, std::vector<std::string>& out) {
  if (value.IsScalar()) {
    out.push_back(value.Scalar());
  } else if (value.IsSequence()) {
    for (const auto& item : value) {
      if (item.IsScalar()) out.push_back(item.Scalar());
    }
  } else if (value.IsMap()) {
    for (const auto& entry : value) {
      out.push_back(entry.second.IsScalar()
                        ? absl::StrCat(entry.first.Scalar(), ":", entry.second.Scalar())
                        : entry.first.Scalar());
    }
  }
}

absl::Status CheckAccelerators(const YAML::Node& value, const YAML::Node& key,
                               absl::string_view where) {
  if (value.IsScalar()) return absl::OkStatus();
  if (value.IsSequence()) {
    for (const auto& item : value) {
      RETURN_IF_ERROR(NeedScalar(item, key, absl::StrCat(where, " entries")));
    }
    return absl::OkStatus();
  }
  if (value.IsMap()) {
    return ForEachEntry(value, where,
                        [&](const std::string& name, const YAML::Node& k, const YAML::Node& v) {
                          if (v.IsNull() || v.IsScalar()) return absl::OkStatus();
                          return At(v, k, absl::StrCat(where, ".", name, ": must be a count"));
                        });
  }
  return At(value, key,
            absl::StrCat(where,
                         ": a name (H100), name:count (H100:8), a list or a "
                         "{name: count} mapping"));
}

absl::Status CheckJobRecovery(const YAML::Node& value, const YAML::Node& key,
                              absl::string_view where) {
  if (value.IsScalar() || value.IsNull()) return absl::OkStatus();
  RETURN_IF_ERROR(NeedMap(value, key, where));
  return ForEachEntry(
      value, where, [&](const std::string& name, const YAML::Node& k, const YAML::Node& v) {
        if (name == "strategy") return absl::OkStatus();
        if (name == "max_restarts_on_errors" || name == "recover_on_exit_codes") {
          return At(k, value,
                    absl::StrCat(where, ".", name,
                                 ": SkyDeck owns the restart budget (SkyPilot "
                                 "never retries a failure of the user's code); use the "
                                 "experiment's --max-restarts"));
        }
        return At(k, value,
                  absl::StrCat(where, ": unknown key \"", name, "\"; only strategy is allowed"));
      });
}

absl::Status CheckResourceEntry(const std::string& key, const YAML::Node& k, const YAML::Node& v,
                                absl::string_view where) {
  std::string field = absl::StrCat(where, ".", key);
  if (key == "accelerators") return CheckAccelerators(v, k, field);
  if (key == "job_recovery") return CheckJobRecovery(v, k, field);
  if (key == "use_spot") {
    bool b;
    if (!v.IsScalar() || !YAML::convert<bool>::decode(v, b)) {
      return At(v, k, absl::StrCat(field, ": must be true or false"));
    }
    return absl::OkStatus();
  }
  if (key == "priority") {
    int64_t n;
    if (!v.IsScalar() || !YAML::convert<int64_t>::decode(v, n)) {
      return At(v, k, absl::StrCat(field, ": must be an integer"));
    }
    return absl::OkStatus();
  }
  if (key == "labels" || key == "accelerator_args") return NeedMap(v, k, field);
  if (key == "volumes") {
    if (!v.IsSequence()) return At(v, k, absl::StrCat(field, ": must be a list"));
    return absl::OkStatus();
  }
  if (key == "image_id" || key == "ports" || key == "autostop") {
    return absl::OkStatus();  // scalar, mapping, list or null: SkyPilot checks the details
  }
  return NeedScalar(v, k, field);  // cloud, region, zone, infra, cpus, memory, ...
}

absl::Status CheckResources(const YAML::Node& resources, const YAML::Node& key,
                            std::vector<std::string>& accelerators) {
  RETURN_IF_ERROR(NeedMap(resources, key, "resources"));
  bool any_of = false, ordered = false;
  RETURN_IF_ERROR(ForEachEntry(
      resources, "resources",
      [&](const std::string& name, const YAML::Node& k, const YAML::Node& v) -> absl::Status {
        if (name == "any_of" || name == "ordered") {
          (name == "any_of" ? any_of : ordered) = true;
          if (!v.IsSequence()) {
            return At(v, k, absl::StrCat("resources.", name, ": must be a list"));
          }
          int i = 0;
          for (const auto& entry : v) {
            std::string where = absl::StrCat("resources.", name, "[", i++, "]");
            RETURN_IF_ERROR(NeedMap(entry, k, where));
            RETURN_IF_ERROR(ForEachEntry(
                entry, where,
                [&](const std::string& n, const YAML::Node& kk, const YAML::Node& vv) {
                  if (!OneOf(n, kResourceKeys)) {
                    return At(kk, entry,
                              absl::StrCat(where, ": unknown key \"", n,
                                           "\"; known: ", absl::StrJoin(kResourceKeys, ", ")));
                  }
                  if (n == "accelerators") AcceleratorTexts(vv, accelerators);
                  return CheckResourceEntry(n, kk, vv, where);
                }));
          }
          return absl::OkStatus();
        }
        if (!OneOf(name, kResourceKeys)) {
          return At(k, resources,
                    absl::StrCat("resources: unknown key \"", name, "\"; known: ",
                                 absl::StrJoin(kResourceKeys, ", "), ", any_of, ordered"));
        }
        if (name == "accelerators") AcceleratorTexts(v, accelerators);
        return CheckResourceEntry(name, k, v, "resources");
      }));
  if (any_of && ordered) {
    return At(resources, key, "resources: any_of and ordered cannot both be given");
  }
  return absl::OkStatus();
}

absl::Status CheckEnvName(const std::string& field, const std::string& name,
                          const YAML::Node& key) {
  absl::Status s = ValidateEnvName(field, name);
  if (!s.ok()) return At(key, key, s.message());
  return absl::OkStatus();
}

absl::Status ReadEnvs(const YAML::Node& envs, const YAML::Node& key, TaskTemplate& t) {
  if (envs.IsNull()) return absl::OkStatus();
  RETURN_IF_ERROR(NeedMap(envs, key, "envs"));
  return ForEachEntry(
      envs, "envs", [&](const std::string& name, const YAML::Node& k, const YAML::Node& v) {
        RETURN_IF_ERROR(CheckEnvName("envs", name, k));
        if (v.IsNull()) {
          t.envs[name] = std::nullopt;
          return absl::OkStatus();
        }
        RETURN_IF_ERROR(NeedScalar(v, k, absl::StrCat("envs.", name)));
        absl::Status text =
            ValidateText(absl::StrCat("envs.", name), v.Scalar(), kMaxEnvValueBytes);
        if (!text.ok()) return At(v, k, text.message());
        t.envs[name] = v.Scalar();
        return absl::OkStatus();
      });
}

absl::Status ReadSecrets(const YAML::Node& secrets, const YAML::Node& key, TaskTemplate& t) {
  if (secrets.IsNull()) return absl::OkStatus();
  RETURN_IF_ERROR(NeedMap(secrets, key, "secrets"));
  return ForEachEntry(
      secrets, "secrets", [&](const std::string& name, const YAML::Node& k, const YAML::Node& v) {
        RETURN_IF_ERROR(CheckEnvName("secrets", name, k));
        if (!v.IsNull()) {
          return At(
              v, k,
              absl::StrCat("secrets.", name, ": a template lists secret names only (", name,
                           ": null); the value is read at launch from the daemon's secrets source "
                           "(skydeckd --secrets-file) and never stored"));
        }
        t.secrets.push_back(name);
        return absl::OkStatus();
      });
}

absl::Status CheckMountSource(const YAML::Node& source, const YAML::Node& key,
                              absl::string_view where, TaskTemplate& t) {
  if (source.IsScalar()) {
    const std::string& text = source.Scalar();
    if (IsLocalMountSource(text)) {
      if (text.empty()) return At(source, key, absl::StrCat(where, ": an empty source"));
      if (std::find(t.local_sources.begin(), t.local_sources.end(), text) ==
          t.local_sources.end()) {
        t.local_sources.push_back(text);
      }
    }
    return absl::OkStatus();
  }
  if (source.IsSequence()) {
    for (const auto& item : source) RETURN_IF_ERROR(CheckMountSource(item, key, where, t));
    return absl::OkStatus();
  }
  if (source.IsNull()) return absl::OkStatus();
  return At(source, key, absl::StrCat(where, ": a source must be a path, a URL or a list"));
}

absl::Status CheckFileMounts(const YAML::Node& mounts, const YAML::Node& key, TaskTemplate& t) {
  if (mounts.IsNull()) return absl::OkStatus();
  RETURN_IF_ERROR(NeedMap(mounts, key, "file_mounts"));
  return ForEachEntry(
      mounts, "file_mounts",
      [&](const std::string& dest, const YAML::Node& k, const YAML::Node& v) -> absl::Status {
        std::string where = absl::StrCat("file_mounts.", dest);
        if (v.IsScalar()) return CheckMountSource(v, k, where, t);
        if (!v.IsMap()) return At(v, k, absl::StrCat(where, ": a source or a storage mapping"));
        const YAML::Node source = v["source"];
        if (source) return CheckMountSource(source, k, absl::StrCat(where, ".source"), t);
        return absl::OkStatus();
      });
}

absl::Status ReadWorkdir(const YAML::Node& value, const YAML::Node& key, TaskTemplate& t) {
  constexpr absl::string_view kLocal =
      "workdir: a template's workdir must be a git repository (URL[@REF] or {url, ref}); a local "
      "directory is the experiment's (skydeck exp create --workdir DIR, the default)";
  if (value.IsNull()) return absl::OkStatus();
  if (value.IsScalar()) {
    absl::StatusOr<Workdir> w = ParseWorkdir(value.Scalar());
    if (!w.ok()) return At(value, key, w.status().message());
    if (w->kind != Workdir::Kind::kGit) return At(value, key, kLocal);
    t.workdir = *w;
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(NeedMap(value, key, "workdir"));
  Workdir w;
  w.kind = Workdir::Kind::kGit;
  RETURN_IF_ERROR(ForEachEntry(
      value, "workdir",
      [&](const std::string& name, const YAML::Node& k, const YAML::Node& v) -> absl::Status {
        if (name != "url" && name != "ref") {
          return At(k, value, absl::StrCat("workdir: unknown key \"", name, "\"; url, ref"));
        }
        RETURN_IF_ERROR(NeedScalar(v, k, absl::StrCat("workdir.", name)));
        (name == "url" ? w.url : w.ref) = v.Scalar();
        return absl::OkStatus();
      }));
  if (w.url.empty()) return At(value, key, "workdir: url is required");
  absl::StatusOr<Workdir> parsed = ParseWorkdir(w.url);
  if (!parsed.ok()) return At(value, key, parsed.status().message());
  if (parsed->kind != Workdir::Kind::kGit) return At(value, key, kLocal);
  t.workdir = w;
  return absl::OkStatus();
}

absl::Status CheckConfig(const YAML::Node& config, const YAML::Node& key) {
  if (config.IsNull()) return absl::OkStatus();
  RETURN_IF_ERROR(NeedMap(config, key, "config"));
  return ForEachEntry(
      config, "config", [&](const std::string& name, const YAML::Node& k, const YAML::Node&) {
        if (OneOf(name, kConfigKeys)) return absl::OkStatus();
        return At(k, config,
                  absl::StrCat("config: \"", name, "\" cannot be set in a task; known: ",
                               absl::StrJoin(kConfigKeys, ", ")));
      });
}

absl::Status ReadTopLevel(const std::string& key, const YAML::Node& k, const YAML::Node& v,
                          TaskTemplate& t) {
  if (key == "run") {
    return At(k, k,
              "run: the command is the experiment's (--cmd and its flags); remove run "
              "from the template");
  }
  if (key == "num_nodes") {
    return At(k, k,
              "num_nodes: the node count is the experiment's (--nodes); remove num_nodes "
              "from the template");
  }
  if (!OneOf(key, kTopKeys)) {
    return At(k, k,
              absl::StrCat("unknown key \"", key,
                           "\"; a template holds: ", absl::StrJoin(kTopKeys, ", ")));
  }
  if (key == "name") {
    RETURN_IF_ERROR(NeedScalar(v, k, "name"));
    t.name = v.Scalar();
  } else if (key == "setup") {
    if (!v.IsNull()) {
      RETURN_IF_ERROR(NeedScalar(v, k, "setup"));
      t.setup = v.Scalar();
    }
  } else if (key == "envs") {
    return ReadEnvs(v, k, t);
  } else if (key == "secrets") {
    return ReadSecrets(v, k, t);
  } else if (key == "resources") {
    if (!v.IsNull()) return CheckResources(v, k, t.accelerators);
  } else if (key == "file_mounts") {
    return CheckFileMounts(v, k, t);
  } else if (key == "workdir") {
    return ReadWorkdir(v, k, t);
  } else if (key == "config") {
    return CheckConfig(v, k);
  } else if (key == "volumes") {
    if (!v.IsNull()) return NeedMap(v, k, "volumes");
  }
  return absl::OkStatus();
}

}  // namespace

bool IsLocalMountSource(absl::string_view source) { return !absl::StrContains(source, "://"); }

absl::StatusOr<TaskTemplate> ParseTaskTemplate(absl::string_view yaml) {
  if (yaml.size() > kMaxTemplateBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("template: at most ", kMaxTemplateBytes, " bytes, got ", yaml.size()));
  }
  std::vector<YAML::Node> docs;
  try {
    docs = LoadAllYamlDocuments(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", e.mark.line + 1, ": invalid YAML: ", e.msg));
  }
  std::vector<YAML::Node> tasks;
  for (const YAML::Node& doc : docs) {
    if (!doc.IsNull()) tasks.push_back(doc);
  }
  if (tasks.empty()) return absl::InvalidArgumentError("template: the YAML is empty");
  if (tasks.size() > 1) {
    return At(tasks[1], tasks[1],
              "a template is one task; a pipeline of several documents is not supported");
  }
  TaskTemplate t;
  t.root = tasks.front();
  if (!t.root.IsMap()) return At(t.root, t.root, "a template must be a mapping of task fields");
  RETURN_IF_ERROR(ForEachEntry(
      t.root, "template", [&](const std::string& key, const YAML::Node& k, const YAML::Node& v) {
        return ReadTopLevel(key, k, v, t);
      }));
  return t;
}

namespace {

// A scalar already written in YAML syntax, for Emitter::WriteIntegralType,
// which streams its argument verbatim as a scalar node (the emitter's only
// way to take a scalar formatted elsewhere).
struct PreformattedScalar {
  std::string text;
};
std::ostream& operator<<(std::ostream& os, const PreformattedScalar& s) { return os << s.text; }

}  // namespace

void EmitDoubleQuoted(YAML::Emitter& out, const std::string& text) {
  out.WriteIntegralType(PreformattedScalar{YamlDoubleQuoted(text)});
}

void EmitYamlNode(YAML::Emitter& out, const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      out << YAML::BeginMap;
      for (const auto& entry : node) {
        out << YAML::Key;
        EmitYamlNode(out, entry.first);
        out << YAML::Value;
        EmitYamlNode(out, entry.second);
      }
      out << YAML::EndMap;
      break;
    case YAML::NodeType::Sequence:
      out << YAML::BeginSeq;
      for (const auto& item : node) EmitYamlNode(out, item);
      out << YAML::EndSeq;
      break;
    case YAML::NodeType::Scalar:
      if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") {
        EmitDoubleQuoted(out, node.Scalar());
      } else {
        out << node.Scalar();
      }
      break;
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      out << YAML::Null;
      break;
  }
}

YAML::Node QuotedScalar(const std::string& value) {
  YAML::Node node(value);
  node.SetTag("!");
  return node;
}

}  // namespace skydeck
