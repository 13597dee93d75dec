// File: cli/workload_args.h
//
// The options that say what an experiment's job runs besides its command:
// --template NAME / --no-template, --env K=V (repeatable), --secret NAME
// (repeatable), --workdir DIR|URL[@REF] / --no-workdir. Shared by `exp
// create`, `exp update` and `sweep`, so they read and check the same.
//
// The workdir: a relative directory is made absolute against the current
// directory (the daemon needs a path it can open); a git URL passes as
// given. Creating without --workdir or --no-workdir sends the current
// directory as CreateExperimentRequest.default_workdir, so `skydeck exp
// create ... --cmd 'python train.py'` run next to train.py runs it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "CLI/CLI.hpp"
#include "skydeck/v1/resources.pb.h"

namespace skydeck::cli {

namespace pb = ::skydeck::v1;

struct WorkloadArgs {
  std::string template_name;
  bool no_template = false;
  std::vector<std::string> envs;
  std::vector<std::string> secrets;
  std::string workdir;
  bool no_workdir = false;
  // update only: clear every env / secret.
  bool no_envs = false, no_secrets = false;
  // Which were given.
  CLI::Option* template_opt = nullptr;
  CLI::Option* envs_opt = nullptr;
  CLI::Option* secrets_opt = nullptr;
  CLI::Option* workdir_opt = nullptr;
};

enum class WorkloadVerb { kCreate, kUpdate };

// Adds the options above to `cmd` (update: also --no-envs, --no-secrets;
// there --env and --secret replace every env / secret).
void AddWorkloadOptions(CLI::App* cmd, WorkloadArgs* args, WorkloadVerb verb);

// ParseEnvs()
//
// `K=V` words into envs: names checked like the daemon does
// (ValidateEnvName), a name given twice is an error. Errors:
// INVALID_ARGUMENT naming the word.
absl::StatusOr<std::map<std::string, std::string>> ParseEnvs(const std::vector<std::string>& words);

// ResolveWorkdir()
//
// A git URL[@REF] or absolute directory as given; a relative directory
// joined to `base_dir` and normalised ("." is `base_dir` itself).
// Errors: INVALID_ARGUMENT for an empty text.
absl::StatusOr<std::string> ResolveWorkdir(absl::string_view text, absl::string_view base_dir);

// The current directory, absolute. Errors: FAILED_PRECONDITION when it
// cannot be read (e.g. it was deleted).
absl::StatusOr<std::string> CurrentDirectory();

// Sets the fields of `e` the options give, appending their update-mask
// paths to `paths` (when not null). Returns the directory to send as
// default_workdir: the current one when creating without --workdir or
// --no-workdir, else "". Errors: INVALID_ARGUMENT (usage).
absl::StatusOr<std::string> ApplyWorkloadArgs(const WorkloadArgs& args, WorkloadVerb verb,
                                              pb::Experiment* e, std::vector<std::string>* paths);

}  // namespace skydeck::cli
