#include "daemon/backend/local/local_task.h"

#include <yaml-cpp/yaml.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "common/model/workdir.h"
#include "common/status_macros.h"

namespace skydeck::backend::local {
namespace {

bool Inherited(absl::string_view key) {
  if (absl::StartsWith(key, "LC_")) return true;
  for (const char* name : kInheritedEnv) {
    if (key == name) return true;
  }
  return false;
}

// Runs "$1" (the setup), then execs "$2" (the command); $0 names the node
// in error messages.
constexpr char kSetupThenRun[] = "/bin/sh -c \"$1\" || exit $?\nexec /bin/sh -c \"$2\"";

}  // namespace

std::vector<std::string> NodeEnvironment(const JobSpec& spec,
                                         const std::vector<std::string>& daemon_env) {
  std::map<std::string, std::string> env;
  for (absl::string_view kv : daemon_env) {
    size_t eq = kv.find('=');
    if (eq == absl::string_view::npos || !Inherited(kv.substr(0, eq))) continue;
    env[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  for (const auto& [key, value] : spec.env) env[key] = value;
  for (const auto& [key, value] : spec.secrets) env[key] = value;
  env["SKYPILOT_NUM_NODES"] = absl::StrCat(spec.nodes);
  env["SKYPILOT_NODE_IPS"] =
      absl::StrJoin(std::vector<std::string>(static_cast<size_t>(spec.nodes), "127.0.0.1"), "\n");
  env["SKYPILOT_NUM_GPUS_PER_NODE"] = absl::StrCat(spec.gpus_per_node);
  env["SKYPILOT_TASK_ID"] = spec.name;
  env.erase("SKYPILOT_NODE_RANK");
  std::vector<std::string> out;
  out.reserve(env.size() + 1);
  for (const auto& [key, value] : env) out.push_back(absl::StrCat(key, "=", value));
  return out;
}

absl::StatusOr<std::string> LocalWorkdir(const JobSpec& spec) {
  switch (spec.workdir.kind) {
    case Workdir::Kind::kNone:
      return std::string();
    case Workdir::Kind::kLocal:
      return spec.workdir.path;
    case Workdir::Kind::kGit:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("workdir ", FormatWorkdir(spec.workdir),
                   ": the local backend runs code that is on this "
                   "machine and does not clone git repositories; clone it and pass the directory "
                   "(--workdir DIR)"));
}

std::vector<std::string> NodeArgv(const JobSpec& spec) {
  if (spec.setup.empty()) return {"/bin/sh", "-c", spec.command};
  return {"/bin/sh", "-c", kSetupThenRun, "skydeck-node", spec.setup, spec.command};
}

absl::StatusOr<std::string> RenderLocalTask(const JobSpec& spec) {
  ASSIGN_OR_RETURN(std::string workdir, LocalWorkdir(spec));
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << spec.name;
  out << YAML::Key << "num_nodes" << YAML::Value << spec.nodes;
  if (!workdir.empty()) {
    out << YAML::Key << "workdir" << YAML::Value << YAML::DoubleQuoted << workdir;
  }
  if (!spec.env.empty()) {
    out << YAML::Key << "envs" << YAML::Value << YAML::BeginMap;
    for (const auto& [key, value] : spec.env) {
      out << YAML::Key << key << YAML::Value << YAML::DoubleQuoted << value;
    }
    out << YAML::EndMap;
  }
  if (!spec.secrets.empty()) {
    out << YAML::Key << "secrets" << YAML::Value << YAML::BeginMap;
    for (const auto& [key, value] : spec.secrets) {
      out << YAML::Key << key << YAML::Value << YAML::DoubleQuoted << kRedactedSecret;
    }
    out << YAML::EndMap;
  }
  if (!spec.setup.empty()) {
    out << YAML::Key << "setup" << YAML::Value << YAML::DoubleQuoted << spec.setup;
  }
  out << YAML::Key << "run" << YAML::Value << YAML::DoubleQuoted << spec.command;
  out << YAML::EndMap;
  return absl::StrCat(out.c_str(), "\n");
}

}  // namespace skydeck::backend::local
