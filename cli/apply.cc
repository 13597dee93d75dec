// File: cli/apply.cc
//
// `skydeck apply -f FILE` and `skydeck diff -f FILE`: make experiments match
// a manifest file (cli/manifest.h). For each document: create it when no
// experiment has its name; otherwise UpdateExperiment with a mask of the
// fields that differ, and SetDesiredState when desired_state differs.
// Fields a document leaves out are left alone. The plan (created / changed
// with a field diff / unchanged) is printed either way; `--dry-run` and
// `diff` write nothing: the daemon checks each document (validate_only,
// cli/preview.h), so a dry run fails where the real apply would.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "cli/code_upload.h"
#include "cli/command.h"
#include "cli/manifest.h"
#include "cli/preview.h"
#include "cli/workload_args.h"
#include "common/status_macros.h"

namespace skydeck::cli {
namespace {

using Stub = pb::SkyDeck::Stub;

struct ApplyArgs {
  std::string file;
  bool dry_run = false;
};

absl::StatusOr<std::string> ReadInput(const std::string& file) {
  if (file == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), {});
  }
  std::ifstream in(file);
  if (!in) return UsageError(absl::StrCat("cannot read ", file));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

enum class Action { kCreate, kChange, kUnchanged };

struct PlanItem {
  std::string name;
  Action action = Action::kUnchanged;
  std::vector<FieldChange> changes;
};

// "created" / "would create", ...
std::string ActionText(Action action, bool dry_run) {
  switch (action) {
    case Action::kCreate:
      return dry_run ? "would create" : "created";
    case Action::kChange:
      return dry_run ? "would change" : "changed";
    case Action::kUnchanged:
      break;
  }
  return "unchanged";
}

// The update-mask paths of the fields a manifest sets (desired state is
// applied with SetDesiredState, and the name is how it was found).
std::vector<std::string> SpecPaths(const Manifest& m) {
  std::vector<std::string> paths;
  for (const std::string& field : m.fields) {
    if (field != "name" && field != "desired_state") paths.push_back(field);
  }
  return paths;
}

// The changes applying `m` would make to `have`, with flags compared as the
// daemon would store them (a declared schema normalises their types).
absl::StatusOr<std::vector<FieldChange>> PlanChanges(CommandContext& ctx, const Manifest& m,
                                                     const pb::Experiment& have) {
  ASSIGN_OR_RETURN(pb::Experiment would_be, PreviewUpdate(ctx, have, m.spec, SpecPaths(m)));
  Manifest normalised = m;
  if (m.fields.contains("flags")) *normalised.spec.mutable_flags() = would_be.flags();
  return DiffManifest(normalised, have);
}

// The directory sent as default_workdir when creating from `m`: the current
// one, unless the manifest says where the code is.
std::string DefaultWorkdirFor(const Manifest& m) {
  if (m.fields.contains("workdir")) return "";
  absl::StatusOr<std::string> cwd = CurrentDirectory();
  return cwd.ok() ? *cwd : "";
}

// A relative workdir is relative to the manifest file (to the current
// directory for stdin), as a path in the file reads.
absl::Status ResolveWorkdirs(std::vector<Manifest>& manifests, const std::string& file) {
  for (Manifest& m : manifests) {
    if (!m.fields.contains("workdir") || m.spec.workdir().empty()) continue;
    ASSIGN_OR_RETURN(std::string cwd, CurrentDirectory());
    std::filesystem::path base(cwd);
    if (file != "-") base = (base / file).parent_path();
    ASSIGN_OR_RETURN(std::string resolved, ResolveWorkdir(m.spec.workdir(), base.string()));
    m.spec.set_workdir(resolved);
  }
  return absl::OkStatus();
}

absl::Status Create(CommandContext& ctx, const Manifest& m, CodeUploader& uploader) {
  pb::CreateExperimentRequest req;
  *req.mutable_experiment() = m.spec;
  req.set_default_workdir(DefaultWorkdirFor(m));
  RETURN_IF_ERROR(AttachCreateCode(uploader, &req));
  if (!m.fields.contains("template")) req.mutable_experiment()->clear_template_();
  req.mutable_experiment()->clear_desired_state();
  req.set_start(m.spec.desired_state() == pb::DESIRED_STATE_RUNNING);
  pb::CreateExperimentResponse resp;
  RETURN_IF_ERROR(ctx.client().Call(&Stub::CreateExperiment, req, &resp));
  if (m.spec.desired_state() == pb::DESIRED_STATE_TERMINATED) {
    pb::SetDesiredStateRequest set;
    set.set_id(absl::StrCat(resp.experiment().id()));
    set.set_desired_state(pb::DESIRED_STATE_TERMINATED);
    pb::SetDesiredStateResponse ignored;
    RETURN_IF_ERROR(ctx.client().Call(&Stub::SetDesiredState, set, &ignored));
  }
  return absl::OkStatus();
}

absl::Status Update(CommandContext& ctx, const Manifest& m, const pb::Experiment& have,
                    const std::vector<FieldChange>& changes) {
  pb::UpdateExperimentRequest req;
  req.set_id(absl::StrCat(have.id()));
  *req.mutable_experiment() = m.spec;
  std::set<std::string> paths;
  bool desired = false;
  for (const FieldChange& c : changes) {
    if (c.mask_path == "desired_state") {
      desired = true;
    } else if (paths.insert(c.mask_path).second) {
      req.mutable_update_mask()->add_paths(c.mask_path);
    }
  }
  if (!paths.empty()) {
    pb::UpdateExperimentResponse resp;
    RETURN_IF_ERROR(ctx.client().Call(&Stub::UpdateExperiment, req, &resp));
  }
  if (desired) {
    pb::SetDesiredStateRequest set;
    set.set_id(absl::StrCat(have.id()));
    set.set_desired_state(m.spec.desired_state());
    set.set_reason("skydeck apply");
    pb::SetDesiredStateResponse ignored;
    RETURN_IF_ERROR(ctx.client().Call(&Stub::SetDesiredState, set, &ignored));
  }
  return absl::OkStatus();
}

void PrintPlan(CommandContext& ctx, const std::vector<PlanItem>& plan, bool dry_run) {
  int created = 0, changed = 0, unchanged = 0;
  for (const PlanItem& item : plan) {
    switch (item.action) {
      case Action::kCreate:
        ++created;
        break;
      case Action::kChange:
        ++changed;
        break;
      case Action::kUnchanged:
        ++unchanged;
        break;
    }
  }
  if (ctx.human()) {
    std::string out;
    for (const PlanItem& item : plan) {
      absl::StrAppend(&out, ActionText(item.action, dry_run), "  ", item.name, "\n");
      for (const FieldChange& c : item.changes) {
        absl::StrAppend(&out, "    ", c.field, ": ", c.from, " -> ", c.to, "\n");
      }
    }
    if (dry_run) {
      absl::StrAppend(&out, "Plan: ", created, " to create, ", changed, " to change, ", unchanged,
                      " unchanged\n");
    } else {
      absl::StrAppend(&out, "Applied: ", created, " created, ", changed, " changed, ", unchanged,
                      " unchanged\n");
    }
    ctx.Write(out);
    return;
  }
  nlohmann::ordered_json items = nlohmann::ordered_json::array();
  for (const PlanItem& item : plan) {
    nlohmann::ordered_json changes = nlohmann::ordered_json::array();
    for (const FieldChange& c : item.changes) {
      changes.push_back({{"field", c.field}, {"from", c.from}, {"to", c.to}});
    }
    items.push_back(
        {{"name", item.name}, {"action", ActionText(item.action, dry_run)}, {"changes", changes}});
  }
  nlohmann::ordered_json doc = nlohmann::ordered_json::object();
  doc["dry_run"] = dry_run;
  doc["created"] = created;
  doc["changed"] = changed;
  doc["unchanged"] = unchanged;
  doc["experiments"] = std::move(items);
  ctx.WriteDocument(doc);
}

// Plans (and unless `dry_run`, applies) the file; sets *differs when
// anything would change. Stops at the first failing write.
absl::StatusOr<bool> RunApplyPlan(CommandContext& ctx, const ApplyArgs& args) {
  ASSIGN_OR_RETURN(std::string text, ReadInput(args.file));
  ASSIGN_OR_RETURN(std::vector<Manifest> manifests, AsUsage(ParseManifests(text)));
  RETURN_IF_ERROR(AsUsageError(ResolveWorkdirs(manifests, args.file)));
  // A local workdir travels as a snapshot taken now: one that differs from
  // the experiment's is a change (DiffManifest compares their ids).
  CodeUploader uploader(ctx);
  for (Manifest& m : manifests) {
    if (m.fields.contains("workdir")) RETURN_IF_ERROR(AttachWorkdirCode(uploader, &m.spec));
  }
  std::vector<PlanItem> plan;
  bool differs = false;
  absl::Status failure;
  for (const Manifest& m : manifests) {
    pb::GetExperimentRequest get;
    get.set_id(m.spec.name());
    pb::GetExperimentResponse have;
    absl::Status found = ctx.client().Call(&Stub::GetExperiment, get, &have);
    PlanItem item{m.spec.name(), Action::kUnchanged, {}};
    if (found.code() == absl::StatusCode::kNotFound) {
      differs = true;
      item.action = Action::kCreate;
      pb::Experiment preview = m.spec;
      if (!m.fields.contains("template")) preview.clear_template_();
      if (args.dry_run) {
        pb::CreateExperimentRequest probe;
        *probe.mutable_experiment() = preview;
        probe.set_default_workdir(DefaultWorkdirFor(m));
        failure = AttachCreateCode(uploader, &probe);
        if (failure.ok()) {
          failure = PreviewCreate(ctx, probe.experiment(), probe.default_workdir(),
                                  probe.default_code_snapshot())
                        .status();
        }
      } else {
        failure = Create(ctx, m, uploader);
      }
    } else if (!found.ok()) {
      failure = found;
    } else {
      absl::StatusOr<std::vector<FieldChange>> changes = PlanChanges(ctx, m, have.experiment());
      if (changes.ok()) {
        item.changes = *std::move(changes);
      } else {
        failure = changes.status();
      }
      if (!item.changes.empty()) {
        differs = true;
        item.action = Action::kChange;
        if (!args.dry_run) failure = Update(ctx, m, have.experiment(), item.changes);
      }
    }
    if (!failure.ok()) {
      PrintPlan(ctx, plan, args.dry_run);
      return absl::Status(failure.code(), absl::StrCat(m.spec.name(), ": ", failure.message()));
    }
    plan.push_back(std::move(item));
  }
  PrintPlan(ctx, plan, args.dry_run);
  return differs;
}

}  // namespace

void AddApplyCommands(CLI::App* app, CommandContext* ctx) {
  auto args = std::make_shared<ApplyArgs>();
  CLI::App* apply =
      app->add_subcommand("apply", "Create or update experiments to match a YAML manifest file");
  apply->add_option("-f,--file", args->file, "Manifest file (multi-document YAML); - for stdin")
      ->required();
  apply->add_flag("--dry-run", args->dry_run, "Print the plan; change nothing");
  SetExamples(apply, {
                         "skydeck apply -f experiments.yaml",
                         "skydeck exp get lr-3e-4 -o yaml > lr.yaml && $EDITOR lr.yaml && skydeck "
                         "apply -f lr.yaml",
                         "skydeck apply -f - --dry-run < experiments.yaml",
                     });
  apply->footer(std::string(apply->get_footer()) +
                "\n\nFields (snake_case, as the API): name (required), description, "
                "base_command, run_name, flags (map; plain scalars typed like --flag, quoted "
                "ones stay strings), nodes, gpus, gpu_type, infra, spot, labels, max_restarts, "
                "desired_state (RUNNING, STOPPED, TERMINATED), template, envs (map), secrets "
                "(list of names), workdir (a directory, relative to the file, or a git "
                "URL[@REF]). Fields left out are left alone; creating without workdir sends "
                "the current directory, as exp create does. An unknown field is an error "
                "naming its line.");
  OnParsed(apply, ctx,
           [ctx, args]() -> absl::Status { return RunApplyPlan(*ctx, *args).status(); });

  auto diff_args = std::make_shared<ApplyArgs>();
  diff_args->dry_run = true;
  CLI::App* diff = app->add_subcommand(
      "diff", "Show what apply -f FILE would change; exit 0 none, 1 changes, 2+ error");
  diff->add_option("-f,--file", diff_args->file, "Manifest file; - for stdin")->required();
  SetExamples(diff, {"skydeck diff -f experiments.yaml || skydeck apply -f experiments.yaml"});
  OnParsed(diff, ctx, [ctx, diff_args]() -> absl::Status {
    absl::StatusOr<bool> differs = RunApplyPlan(*ctx, *diff_args);
    // Exit 1 means "changes"; any error must exit > 1, so a daemon refusal
    // (normally 1) is reported as a usage-class failure (2).
    if (!differs.ok()) {
      if (ExitCodeFor(differs.status()) == kExitServerError) {
        return UsageError(differs.status().message());
      }
      return differs.status();
    }
    if (*differs) return absl::AbortedError("the manifest differs from the daemon's state");
    return absl::OkStatus();
  });
}

}  // namespace skydeck::cli
