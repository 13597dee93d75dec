#include "cli/workload_args.h"

#include <filesystem>

#include "absl/strings/str_cat.h"

#include "common/model/validation.h"
#include "common/model/workdir.h"
#include "common/status_macros.h"

namespace skydeck::cli {

void AddWorkloadOptions(CLI::App* cmd, WorkloadArgs* args, WorkloadVerb verb) {
  bool update = verb == WorkloadVerb::kUpdate;
  args->template_opt = cmd->add_option(
      "--template", args->template_name,
      update ? "Task template (skydeck template list); its resources, setup, envs, secrets, "
               "file mounts... come first, this experiment's fields on top"
             : "Task template (skydeck template list); its resources, setup, envs, secrets, "
               "file mounts... come first, this experiment's fields on top (default: the "
               "daemon's --default-template, if any)");
  cmd->add_flag("--no-template", args->no_template,
                update ? "Use no task template"
                       : "Use no task template, not even the daemon's "
                         "default")
      ->excludes(args->template_opt);
  args->envs_opt = cmd->add_option("--env", args->envs,
                                   update ? "Environment variable K=V of the job; repeatable. "
                                            "Replaces ALL envs"
                                          : "Environment variable K=V of the job. Repeatable")
                       ->allow_extra_args(false);
  args->secrets_opt =
      cmd->add_option("--secret", args->secrets,
                      update ? "Name of a secret the job sees as an env var; repeatable. "
                               "Replaces ALL secrets"
                             : "Name of a secret the job sees as an env var; its value comes "
                               "from the daemon (--secrets-file or its environment) and is "
                               "never stored. Repeatable")
          ->allow_extra_args(false);
  if (update) {
    cmd->add_flag("--no-envs", args->no_envs, "Remove every env")->excludes(args->envs_opt);
    cmd->add_flag("--no-secrets", args->no_secrets, "Remove every secret")
        ->excludes(args->secrets_opt);
  }
  args->workdir_opt = cmd->add_option(
      "--workdir", args->workdir,
      update ? "Where the code is: a directory (relative to here) or a git URL[@REF]. On "
               "SkyPilot a directory runs as a code snapshot taken now (the same directory "
               "again takes a new one)"
             : "Where the code is: a directory (relative to here) or a git URL[@REF] "
               "(default: the current directory, when the daemon can run it). On SkyPilot a "
               "directory runs as a code snapshot taken now");
  cmd->add_flag("--no-workdir", args->no_workdir,
                update ? "No workdir (the job runs in its own directory)"
                       : "Do not send the current directory as the workdir")
      ->excludes(args->workdir_opt);
}

absl::StatusOr<std::map<std::string, std::string>> ParseEnvs(
    const std::vector<std::string>& words) {
  std::map<std::string, std::string> envs;
  for (const std::string& word : words) {
    size_t eq = word.find('=');
    if (eq == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("env \"", word, "\" is not of the form NAME=value"));
    }
    std::string name = word.substr(0, eq);
    RETURN_IF_ERROR(ValidateEnvName("env", name));
    if (!envs.emplace(name, word.substr(eq + 1)).second) {
      return absl::InvalidArgumentError(absl::StrCat("env ", name, " given more than once"));
    }
  }
  return envs;
}

absl::StatusOr<std::string> ResolveWorkdir(absl::string_view text, absl::string_view base_dir) {
  if (text.empty()) {
    return absl::InvalidArgumentError("--workdir: give a directory or a git URL (or --no-workdir)");
  }
  absl::StatusOr<Workdir> parsed = ParseWorkdir(text);
  if (parsed.ok()) {
    if (parsed->kind == Workdir::Kind::kLocal) {
      return std::filesystem::path(parsed->path).lexically_normal().string();
    }
    return std::string(text);
  }
  // Relative: what ParseWorkdir refuses and a path can be.
  std::filesystem::path joined = std::filesystem::path(std::string(base_dir)) / std::string(text);
  std::string normal = joined.lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  RETURN_IF_ERROR(ParseWorkdir(normal).status());
  return normal;
}

absl::StatusOr<std::string> CurrentDirectory() {
  std::error_code ec;
  std::filesystem::path cwd = std::filesystem::current_path(ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read the current directory: ", ec.message(),
                     "; pass --workdir DIR or --no-workdir"));
  }
  return cwd.string();
}

absl::StatusOr<std::string> ApplyWorkloadArgs(const WorkloadArgs& args, WorkloadVerb verb,
                                              pb::Experiment* e, std::vector<std::string>* paths) {
  auto mark = [&](const char* path) {
    if (paths) paths->push_back(path);
  };
  if (args.template_opt->count() > 0 || args.no_template) {
    e->set_template_(args.no_template ? "" : args.template_name);
    mark("template");
  }
  if (args.envs_opt->count() > 0 || args.no_envs) {
    ASSIGN_OR_RETURN(auto envs, ParseEnvs(args.envs));
    e->mutable_envs()->insert(envs.begin(), envs.end());
    mark("envs");
  }
  if (args.secrets_opt->count() > 0 || args.no_secrets) {
    for (const std::string& name : args.secrets) {
      RETURN_IF_ERROR(ValidateEnvName("secret", name));
      e->add_secrets(name);
    }
    mark("secrets");
  }
  if (args.workdir_opt->count() > 0 || args.no_workdir) {
    std::string workdir;
    if (!args.no_workdir) {
      absl::StatusOr<std::string> cwd = CurrentDirectory();
      // An absolute path or a URL needs no current directory.
      ASSIGN_OR_RETURN(workdir, ResolveWorkdir(args.workdir, cwd.ok() ? *cwd : "/"));
    }
    e->set_workdir(workdir);
    mark("workdir");
    return std::string();
  }
  if (verb == WorkloadVerb::kUpdate) return std::string();
  // Creating with neither: the current directory, if the daemon can use it.
  absl::StatusOr<std::string> cwd = CurrentDirectory();
  return cwd.ok() ? *cwd : std::string();
}

}  // namespace skydeck::cli
