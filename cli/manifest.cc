// File: cli/manifest.cc
#include "cli/manifest.h"

#include <map>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "cli/views.h"
#include "common/model/flag_value.h"
#include "common/model/proto_convert.h"
#include "common/status_macros.h"
#include "common/yaml_load_all.h"

namespace skydeck::cli {
namespace {

constexpr const char* kFields[] = {"name",    "description",  "base_command",  "run_name", "flags",
                                   "nodes",   "gpus",         "gpu_type",      "infra",    "spot",
                                   "labels",  "max_restarts", "desired_state", "template", "envs",
                                   "secrets", "workdir"};

absl::Status At(const YAML::Node& node, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("line ", node.Mark().line + 1, ": ", message));
}

absl::StatusOr<std::string> String(const YAML::Node& node, absl::string_view field) {
  if (!node.IsScalar()) return At(node, absl::StrCat(field, ": must be a string"));
  return node.Scalar();
}

absl::StatusOr<int32_t> Int(const YAML::Node& node, absl::string_view field) {
  int32_t value = 0;
  if (!node.IsScalar() || !YAML::convert<int32_t>::decode(node, value)) {
    return At(node, absl::StrCat(field, ": must be an integer"));
  }
  return value;
}

// Typed like `--flag k=v`, except that a quoted scalar is always a string.
absl::StatusOr<FlagValue> Flag(const YAML::Node& node, absl::string_view key) {
  if (!node.IsScalar()) return At(node, absl::StrCat("flags.", key, ": must be a scalar"));
  if (node.Tag() == "!") return FlagValue(node.Scalar());
  return ParseFlagValueText(node.Scalar());
}

absl::Status ParseField(const std::string& field, const YAML::Node& value, Manifest& m) {
  pb::Experiment& e = m.spec;
  if (field == "name" || field == "description" || field == "base_command" || field == "run_name" ||
      field == "gpu_type" || field == "infra" || field == "workdir" || field == "template") {
    // A bare `template:` (null) means none, as "" does.
    std::string text;
    if (!(field == "template" && value.IsNull())) {
      ASSIGN_OR_RETURN(text, String(value, field));
    }
    const auto* descriptor = e.GetDescriptor()->FindFieldByName(field);
    e.GetReflection()->SetString(&e, descriptor, text);
  } else if (field == "envs") {
    if (!value.IsMap() && !value.IsNull()) return At(value, "envs: must be a map");
    for (const auto& entry : value) {
      std::string key = entry.first.Scalar();
      ASSIGN_OR_RETURN(std::string text, String(entry.second, "envs." + key));
      (*e.mutable_envs())[key] = text;
    }
  } else if (field == "secrets") {
    if (!value.IsSequence() && !value.IsNull()) {
      return At(value, "secrets: must be a list of names");
    }
    for (const auto& item : value) {
      ASSIGN_OR_RETURN(std::string name, String(item, "secrets"));
      e.add_secrets(name);
    }
  } else if (field == "nodes" || field == "gpus" || field == "max_restarts") {
    ASSIGN_OR_RETURN(int32_t n, Int(value, field));
    if (field == "nodes") e.set_nodes(n);
    if (field == "gpus") e.set_gpus(n);
    if (field == "max_restarts") e.set_max_restarts(n);
  } else if (field == "spot") {
    bool spot = false;
    if (!value.IsScalar() || !YAML::convert<bool>::decode(value, spot)) {
      return At(value, "spot: must be true or false");
    }
    e.set_spot(spot);
  } else if (field == "flags" || field == "labels") {
    if (!value.IsMap() && !value.IsNull()) return At(value, absl::StrCat(field, ": must be a map"));
    FlagMap flags;
    for (const auto& entry : value) {
      std::string key = entry.first.Scalar();
      if (field == "labels") {
        ASSIGN_OR_RETURN(std::string text, String(entry.second, "labels." + key));
        (*e.mutable_labels())[key] = text;
      } else {
        ASSIGN_OR_RETURN(flags[key], Flag(entry.second, key));
      }
    }
    if (field == "flags") ToProto(flags, e.mutable_flags());
  } else {  // desired_state
    ASSIGN_OR_RETURN(std::string text, String(value, field));
    std::string name = absl::AsciiStrToUpper(text);
    if (name.rfind("DESIRED_STATE_", 0) != 0) name = "DESIRED_STATE_" + name;
    pb::DesiredState state;
    if (!pb::DesiredState_Parse(name, &state) || state == pb::DESIRED_STATE_UNSPECIFIED) {
      return At(value, "desired_state: must be RUNNING, STOPPED or TERMINATED");
    }
    e.set_desired_state(state);
  }
  return absl::OkStatus();
}

std::string FlagText(const FlagMap& flags, const std::string& key) {
  auto it = flags.find(key);
  return it == flags.end() ? "<none>" : FormatFlagValue(it->second);
}

}  // namespace

absl::StatusOr<std::vector<Manifest>> ParseManifests(absl::string_view yaml) {
  std::vector<YAML::Node> docs;
  try {
    docs = LoadAllYamlDocuments(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", e.mark.line + 1, ": invalid YAML: ", e.msg));
  }
  std::vector<Manifest> manifests;
  std::set<std::string> names;
  for (const YAML::Node& doc : docs) {
    if (doc.IsNull()) continue;
    if (!doc.IsMap()) return At(doc, "a manifest document must be a mapping of fields");
    Manifest m;
    m.line = doc.Mark().line + 1;
    for (const auto& entry : doc) {
      std::string field = entry.first.Scalar();
      bool known = false;
      for (const char* f : kFields) known = known || field == f;
      if (!known) {
        return At(entry.first, absl::StrCat("unknown field \"", field,
                                            "\"; fields: ", absl::StrJoin(kFields, ", ")));
      }
      if (!m.fields.insert(field).second) {
        return At(entry.first, absl::StrCat("field ", field, " given twice"));
      }
      RETURN_IF_ERROR(ParseField(field, entry.second, m));
    }
    if (m.spec.name().empty()) return At(doc, "name is required");
    if (!names.insert(m.spec.name()).second) {
      return At(doc, absl::StrCat("experiment ", m.spec.name(), " appears twice"));
    }
    manifests.push_back(std::move(m));
  }
  return manifests;
}

std::vector<FieldChange> DiffManifest(const Manifest& want, const pb::Experiment& have) {
  std::vector<FieldChange> changes;
  const pb::Experiment& w = want.spec;
  auto given = [&](const char* f) { return want.fields.count(f) > 0; };
  auto text = [&](const char* f, const std::string& a, const std::string& b) {
    if (given(f) && a != b) changes.push_back({f, b, a, f});
  };
  auto number = [&](const char* f, int64_t a, int64_t b) {
    if (given(f) && a != b) changes.push_back({f, absl::StrCat(b), absl::StrCat(a), f});
  };
  auto nodes = [](int32_t n) { return n == 0 ? 1 : n; };
  text("description", w.description(), have.description());
  text("base_command", w.base_command(), have.base_command());
  text("run_name", w.run_name(), have.run_name());
  if (given("flags")) {
    FlagMap a = FlagsOf(w.flags()), b = FlagsOf(have.flags());
    std::set<std::string> keys;
    for (const auto& [k, v] : a) keys.insert(k);
    for (const auto& [k, v] : b) keys.insert(k);
    for (const std::string& k : keys) {
      std::string from = FlagText(b, k), to = FlagText(a, k);
      bool same = a.count(k) == b.count(k) && (a.count(k) == 0 || a.at(k) == b.at(k));
      if (!same) changes.push_back({"flags." + k, from, to, "flags"});
    }
  }
  number("nodes", nodes(w.nodes()), nodes(have.nodes()));
  number("gpus", w.gpus(), have.gpus());
  text("gpu_type", w.gpu_type(), have.gpu_type());
  text("infra", w.infra(), have.infra());
  if (given("spot") && w.spot() != have.spot()) {
    changes.push_back(
        {"spot", have.spot() ? "true" : "false", w.spot() ? "true" : "false", "spot"});
  }
  if (given("labels")) {
    std::map<std::string, std::string> a(w.labels().begin(), w.labels().end());
    std::map<std::string, std::string> b(have.labels().begin(), have.labels().end());
    std::set<std::string> keys;
    for (const auto& [k, v] : a) keys.insert(k);
    for (const auto& [k, v] : b) keys.insert(k);
    for (const std::string& k : keys) {
      std::string from = b.count(k) ? b.at(k) : "<none>", to = a.count(k) ? a.at(k) : "<none>";
      if (a.count(k) != b.count(k) || from != to) {
        changes.push_back({"labels." + k, from, to, "labels"});
      }
    }
  }
  text("template", w.template_(), have.template_());
  if (given("envs")) {
    std::map<std::string, std::string> a(w.envs().begin(), w.envs().end());
    std::map<std::string, std::string> b(have.envs().begin(), have.envs().end());
    std::set<std::string> keys;
    for (const auto& [k, v] : a) keys.insert(k);
    for (const auto& [k, v] : b) keys.insert(k);
    for (const std::string& k : keys) {
      std::string from = b.count(k) ? b.at(k) : "<none>", to = a.count(k) ? a.at(k) : "<none>";
      if (a.count(k) != b.count(k) || from != to) {
        changes.push_back({"envs." + k, from, to, "envs"});
      }
    }
  }
  if (given("secrets")) {
    std::string a = absl::StrJoin(w.secrets(), ","), b = absl::StrJoin(have.secrets(), ",");
    if (a != b) {
      changes.push_back({"secrets", b.empty() ? "<none>" : b, a.empty() ? "<none>" : a, "secrets"});
    }
  }
  text("workdir", w.workdir(), have.workdir());
  // The same directory with other contents: a new code snapshot.
  if (given("workdir") && w.workdir() == have.workdir() && w.has_code_snapshot() &&
      w.code_snapshot().id() != have.code_snapshot().id()) {
    auto short_id = [](const pb::Experiment& e) {
      return e.code_snapshot().id().empty() ? std::string("<none>")
                                            : e.code_snapshot().id().substr(0, 12);
    };
    changes.push_back({"code_snapshot", short_id(have), short_id(w), "workdir"});
  }
  if (given("max_restarts") && w.max_restarts() != have.max_restarts()) {
    changes.push_back({"max_restarts", absl::StrCat(have.max_restarts()),
                       absl::StrCat(w.max_restarts()), "max_restarts"});
  }
  if (given("desired_state") && w.desired_state() != have.desired_state()) {
    changes.push_back({"desired_state", StateName(have.desired_state()),
                       StateName(w.desired_state()), "desired_state"});
  }
  return changes;
}

nlohmann::ordered_json ManifestOf(const pb::Experiment& e) {
  nlohmann::ordered_json doc = nlohmann::ordered_json::object();
  auto text = [&](const char* f, const std::string& value) {
    if (!value.empty()) doc[f] = value;
  };
  doc["name"] = e.name();
  text("description", e.description());
  doc["base_command"] = e.base_command();
  text("run_name", e.run_name());
  if (!e.flags().empty()) {
    nlohmann::ordered_json flags = nlohmann::ordered_json::object();
    for (const auto& [key, value] : FlagsOf(e.flags())) {
      const std::string& name = key;  // clang < 16 cannot capture a structured binding
      std::visit([&](const auto& v) { flags[name] = v; }, value);
    }
    doc["flags"] = std::move(flags);
  }
  doc["nodes"] = e.nodes();
  doc["gpus"] = e.gpus();
  text("gpu_type", e.gpu_type());
  text("infra", e.infra());
  doc["spot"] = e.spot();
  if (!e.labels().empty()) {
    std::map<std::string, std::string> labels(e.labels().begin(), e.labels().end());
    doc["labels"] = labels;
  }
  if (e.has_max_restarts()) doc["max_restarts"] = e.max_restarts();
  doc["desired_state"] = StateName(e.desired_state());
  text("template", e.template_());
  if (!e.envs().empty()) {
    std::map<std::string, std::string> envs(e.envs().begin(), e.envs().end());
    doc["envs"] = envs;
  }
  if (!e.secrets().empty()) {
    doc["secrets"] = std::vector<std::string>(e.secrets().begin(), e.secrets().end());
  }
  text("workdir", e.workdir());
  return doc;
}

}  // namespace skydeck::cli
