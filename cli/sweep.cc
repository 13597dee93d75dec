// File: cli/sweep.cc
//
// `skydeck sweep NAME --grid k=v1,v2 ...`: creates one experiment per point
// of the grid (cli/sweep_plan.h), one CreateExperiment each. Idempotent: an
// experiment that already exists with the same spec is "unchanged"; one that
// exists with another spec is a failure (never silently rewritten). Prints
// one line per experiment and a summary; exit 1 when any failed. --dry-run
// asks the daemon to check each point without writing.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "cli/arguments.h"
#include "cli/code_upload.h"
#include "cli/command.h"
#include "cli/preview.h"
#include "cli/sweep_plan.h"
#include "cli/views.h"
#include "cli/workload_args.h"
#include "common/model/proto_convert.h"
#include "common/status_macros.h"

namespace skydeck::cli {
namespace {

using Stub = pb::SkyDeck::Stub;

struct SweepArgs {
  std::string name, cmd, gpu_type, infra;
  std::vector<std::string> grids, flags, labels;
  int32_t nodes = 0, gpus = 0;
  bool spot = false, start = false, dry_run = false;
  WorkloadArgs workload;
};

// The fields every point shares besides those of ExperimentFor: template,
// envs, secrets, workdir (as the options give them), the mask paths they
// set, and the directory sent as default_workdir.
struct SharedWorkload {
  pb::Experiment fields;
  std::vector<std::string> paths;
  std::string default_workdir;
  // The snapshot of default_workdir, uploaded once for every point.
  pb::CodeSnapshot default_code;
};

pb::Experiment ExperimentFor(const SweepArgs& args, const SweepPoint& point,
                             const SharedWorkload& shared) {
  pb::Experiment e = shared.fields;
  e.set_name(point.name);
  e.set_base_command(args.cmd);
  ToProto(point.flags, e.mutable_flags());
  e.set_nodes(args.nodes);
  e.set_gpus(args.gpus);
  e.set_gpu_type(args.gpu_type);
  e.set_infra(args.infra);
  e.set_spot(args.spot);
  e.mutable_labels()->insert(point.labels.begin(), point.labels.end());
  return e;
}

// The fields a sweep always sets, as update-mask paths (the workload
// options add theirs when given).
const std::vector<std::string> kSweepFields = {"base_command", "flags", "nodes", "gpus",
                                               "gpu_type",     "infra", "spot",  "labels"};

// "created", "unchanged" or an error. An existing experiment is unchanged
// when setting the sweep's fields would change nothing, as the daemon
// judges it (flags normalised by a declared schema compare equal).
absl::StatusOr<std::string> CreateOne(CommandContext& ctx, const pb::Experiment& e, bool start,
                                      const SharedWorkload& shared) {
  pb::CreateExperimentRequest req;
  *req.mutable_experiment() = e;
  req.set_start(start);
  req.set_default_workdir(shared.default_workdir);
  if (!shared.default_code.id().empty()) {
    *req.mutable_default_code_snapshot() = shared.default_code;
  }
  pb::CreateExperimentResponse resp;
  absl::Status status = ctx.client().Call(&Stub::CreateExperiment, req, &resp);
  if (status.ok()) return std::string("created");
  if (status.code() != absl::StatusCode::kAlreadyExists) return status;
  pb::GetExperimentRequest get;
  get.set_id(e.name());
  pb::GetExperimentResponse existing;
  RETURN_IF_ERROR(ctx.client().Call(&Stub::GetExperiment, get, &existing));
  pb::Experiment want = e;
  if (want.nodes() == 0) want.set_nodes(1);  // the daemon's default on create
  std::vector<std::string> fields = kSweepFields;
  fields.insert(fields.end(), shared.paths.begin(), shared.paths.end());
  ASSIGN_OR_RETURN(pb::Experiment would_be,
                   PreviewUpdate(ctx, existing.experiment(), want, fields));
  if (would_be.generation() != existing.experiment().generation()) {
    return absl::AlreadyExistsError(
        "exists with a different spec; rename the sweep or "
        "delete it first");
  }
  return std::string("unchanged");
}

// For --dry-run: "would create", "exists", or the daemon's refusal.
absl::StatusOr<std::string> PreviewOne(CommandContext& ctx, const pb::Experiment& e,
                                       const SharedWorkload& shared) {
  absl::StatusOr<pb::Experiment> preview =
      PreviewCreate(ctx, e, shared.default_workdir, shared.default_code);
  if (preview.ok()) return std::string("would create");
  if (preview.status().code() == absl::StatusCode::kAlreadyExists) return std::string("exists");
  return preview.status();
}

absl::Status RunSweep(CommandContext& ctx, const SweepArgs& args) {
  ASSIGN_OR_RETURN(std::vector<GridAxis> axes, AsUsage(ParseGridAxes(args.grids)));
  ASSIGN_OR_RETURN(FlagMap flags, AsUsage(ParseFlagAssignments(args.flags)));
  ASSIGN_OR_RETURN(auto labels, AsUsage(ParseLabels(args.labels)));
  ASSIGN_OR_RETURN(std::vector<SweepPoint> points,
                   AsUsage(ExpandSweep(args.name, axes, flags, labels)));
  SharedWorkload shared;
  ASSIGN_OR_RETURN(shared.default_workdir,
                   AsUsage(ApplyWorkloadArgs(args.workload, WorkloadVerb::kCreate, &shared.fields,
                                             &shared.paths)));
  // One snapshot for the whole sweep: every point runs the same code.
  CodeUploader uploader(ctx);
  RETURN_IF_ERROR(AttachWorkdirCode(uploader, &shared.fields));
  if (shared.fields.workdir().empty() && !shared.default_workdir.empty()) {
    ASSIGN_OR_RETURN(bool send,
                     UploadDefaultWorkdir(uploader, shared.default_workdir, &shared.default_code));
    if (!send) shared.default_workdir.clear();
  }

  int created = 0, unchanged = 0, failed = 0;
  nlohmann::ordered_json items = nlohmann::ordered_json::array();
  absl::Status first_error;
  for (const SweepPoint& point : points) {
    pb::Experiment e = ExperimentFor(args, point, shared);
    std::string action, error;
    absl::StatusOr<std::string> result =
        args.dry_run ? PreviewOne(ctx, e, shared) : CreateOne(ctx, e, args.start, shared);
    if (result.ok()) {
      action = *result;
      // Dry runs count what they would do in the same columns.
      if (action == "created" || action == "would create") ++created;
      if (action == "unchanged" || action == "exists") ++unchanged;
    } else {
      action = args.dry_run ? "would fail" : "failed";
      error = std::string(result.status().message());
      ++failed;
      if (first_error.ok()) first_error = result.status();
    }
    if (ctx.human()) {
      std::string line = absl::StrCat(action, "  ", point.name, "  ", FormatFlags(point.flags));
      if (!error.empty()) absl::StrAppend(&line, "  (", error, ")");
      ctx.Write(line + "\n");
    } else {
      nlohmann::ordered_json item = nlohmann::ordered_json::object();
      item["name"] = point.name;
      item["action"] = action;
      item["flags"] = FlagMapToJson(point.flags);
      item["labels"] = point.labels;
      if (!error.empty()) item["error"] = error;
      items.push_back(std::move(item));
    }
  }
  std::string summary =
      args.dry_run ? absl::StrCat("sweep ", args.name, ": would create ", created, ", ", unchanged,
                                  " exist, ", failed, " would fail (dry run; nothing written)")
                   : absl::StrCat("sweep ", args.name, ": ", created, " created, ", unchanged,
                                  " unchanged, ", failed, " failed");
  if (ctx.human()) {
    ctx.Write(summary + "\n");
  } else {
    nlohmann::ordered_json doc = nlohmann::ordered_json::object();
    doc["sweep"] = args.name;
    doc["dry_run"] = args.dry_run;
    doc["created"] = created;
    doc["unchanged"] = unchanged;
    doc["failed"] = failed;
    doc["experiments"] = std::move(items);
    ctx.WriteDocument(doc);
  }
  if (failed == 0) return absl::OkStatus();
  return absl::Status(first_error.code(),
                      absl::StrCat(failed, " of ", points.size(), " experiments failed"));
}

}  // namespace

void AddSweepCommands(CLI::App* app, CommandContext* ctx) {
  auto args = std::make_shared<SweepArgs>();
  CLI::App* cmd = app->add_subcommand(
      "sweep", "Create one experiment per point of a grid of flag values (idempotent)");
  cmd->add_option("NAME", args->name,
                  "Sweep name: prefix of every experiment name and value of label sweep=")
      ->required();
  cmd->add_option("--cmd", args->cmd, "Base command, run by a POSIX shell")->required();
  cmd->add_option("--grid", args->grids,
                  "Axis key=v1,v2,... (values typed like --flag; key:=... forces strings). "
                  "Repeatable: the sweep is the cartesian product")
      ->required()
      ->allow_extra_args(false);
  cmd->add_option("--flag", args->flags, "Flag k=v shared by every point. Repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--nodes", args->nodes, "Number of nodes (default 1)");
  cmd->add_option("--gpus", args->gpus, "GPUs per node (default 0)");
  cmd->add_option("--gpu-type", args->gpu_type, "Accelerator type, e.g. H100");
  cmd->add_option("--infra", args->infra, "Where to run, e.g. aws, k8s/ctx");
  cmd->add_flag("--spot", args->spot, "Use spot/preemptible instances");
  cmd->add_option("--label", args->labels, "Extra label k=v on every point. Repeatable")
      ->allow_extra_args(false);
  AddWorkloadOptions(cmd, &args->workload, WorkloadVerb::kCreate);
  cmd->add_flag("--start", args->start, "Create with desired state RUNNING");
  cmd->add_flag("--dry-run", args->dry_run,
                "List what would be created, checked by the daemon; write nothing");
  SetExamples(
      cmd, {
               "skydeck sweep lr --cmd 'python train.py' --grid trainer.lr=1e-4,3e-4,1e-3 --start",
               "skydeck sweep big --cmd 'python train.py' --grid lr=1e-4,3e-4 "
               "--grid model.layers=1,4,16,64 --gpus 8 --dry-run",
               "skydeck exp list -l sweep=big        # the sweep's experiments",
               "skydeck exp stop -l sweep=big,lr=0.0001",
           });
  cmd->footer(std::string(cmd->get_footer()) +
              "\n\nNames are NAME-key-value-..., with characters outside [A-Za-z0-9._-] "
              "replaced by '_'; when one would exceed 63 bytes, every point is named "
              "NAME-1, NAME-2, ... instead. Labels: sweep=NAME and key=value per grid key. "
              "Re-running creates only what is missing; an existing experiment with "
              "another spec is reported as failed (exit 1).");
  OnParsed(cmd, ctx, [ctx, args] { return RunSweep(*ctx, *args); });
}

}  // namespace skydeck::cli
