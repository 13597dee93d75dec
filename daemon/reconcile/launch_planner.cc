#include "daemon/reconcile/launch_planner.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

#include "common/code_manifest.h"
#include "common/model/task_template.h"
#include "common/model/workdir.h"
#include "common/status_macros.h"
#include "daemon/reconcile/launch_snapshot.h"

namespace skydeck::reconcile {
namespace {

constexpr char kBlockedPayload[] = "type.skydeck.dev/launch-blocked";

absl::Status TemplateMissing(absl::string_view name) {
  return LaunchBlocked(absl::StatusCode::kFailedPrecondition, kTemplateNotFound,
                       absl::StrCat("task template \"", name,
                                    "\" does not exist: apply it (skydeck template apply "
                                    "-f FILE --name ",
                                    name,
                                    ") or change the experiment's template (skydeck exp "
                                    "update ID --template NAME)"));
}

struct LoadedTemplate {
  std::string yaml;
  TaskTemplate parsed;
  std::map<std::string, CodeSnapshotRef> mounts;
};

// The template a job runs: the version it recorded, else the current one.
absl::StatusOr<std::optional<LoadedTemplate>> LoadTemplate(store::Store& store,
                                                           const std::string& name,
                                                           int64_t version) {
  if (name.empty()) return std::optional<LoadedTemplate>();
  std::string yaml;
  std::map<std::string, CodeSnapshotRef> mounts;
  if (version > 0) {
    absl::StatusOr<TaskTemplateRecord> r = store.GetTaskTemplateVersion(name, version);
    if (absl::IsNotFound(r.status())) return TemplateMissing(name);
    RETURN_IF_ERROR(r.status());
    yaml = r->yaml;
    mounts = r->mount_snapshots;
  } else {
    ASSIGN_OR_RETURN(std::optional<TaskTemplateRecord> r, store.GetTaskTemplate(name));
    if (!r) return TemplateMissing(name);
    yaml = r->yaml;
    mounts = r->mount_snapshots;
  }
  absl::StatusOr<TaskTemplate> parsed = ParseTaskTemplate(yaml);
  if (!parsed.ok()) {
    // Stored templates were checked when applied; a newer SkyDeck may be
    // stricter. The user can re-apply a fixed one.
    return LaunchBlocked(absl::StatusCode::kFailedPrecondition, kLaunchRefused,
                         absl::StrCat("task template \"", name, "\" no longer passes the checks (",
                                      parsed.status().message(), "): apply a fixed version"));
  }
  return std::optional<LoadedTemplate>(LoadedTemplate{yaml, *std::move(parsed), std::move(mounts)});
}

std::vector<std::string> SecretNames(const std::optional<LoadedTemplate>& tmpl,
                                     const std::vector<std::string>& own) {
  std::vector<std::string> names;
  if (tmpl) names = tmpl->parsed.secrets;
  for (const std::string& n : own) {
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  }
  return names;
}

absl::Status SnapshotGone(absl::string_view id, absl::string_view what, absl::string_view fix) {
  return LaunchBlocked(absl::StatusCode::kFailedPrecondition, kCodeSnapshotMissing,
                       absl::StrCat("the code snapshot ", ShortSnapshotId(id), " of ", what,
                                    " is no longer in skydeckd's store: ", fix));
}

}  // namespace

absl::Status LaunchBlocked(absl::StatusCode code, absl::string_view reason,
                           absl::string_view message) {
  absl::Status status(code, message);
  status.SetPayload(kBlockedPayload, absl::Cord(reason));
  return status;
}

bool IsLaunchBlocked(const absl::Status& status) {
  return !status.ok() && status.GetPayload(kBlockedPayload).has_value();
}

std::string BlockedReason(const absl::Status& status) {
  absl::optional<absl::Cord> reason = status.GetPayload(kBlockedPayload);
  return reason ? std::string(*reason) : std::string();
}

LaunchPlanner::LaunchPlanner(store::Store* store, backend::Backend* backend,
                             workload::SecretSource* secrets, CodeInspector inspect,
                             SnapshotLookup snapshots)
    : store_(store),
      backend_(backend),
      secrets_(secrets),
      inspect_(inspect ? std::move(inspect) : CodeInspector(InspectCode)),
      snapshots_(std::move(snapshots)) {}

absl::StatusOr<JobRecord> LaunchPlanner::Snapshot(const ExperimentSpec& spec, Code code) {
  JobRecord job = LaunchSnapshot(spec);
  if (!spec.template_name.empty()) {
    ASSIGN_OR_RETURN(std::optional<TaskTemplateRecord> t,
                     store_->GetTaskTemplate(spec.template_name));
    if (!t) return TemplateMissing(spec.template_name);
    job.template_version = t->version;
  }
  absl::StatusOr<Workdir> workdir = ParseWorkdir(spec.workdir);
  if (!workdir.ok()) {
    return LaunchBlocked(absl::StatusCode::kInvalidArgument, kLaunchRefused,
                         workdir.status().message());
  }
  if (workdir->kind == Workdir::Kind::kLocal && !spec.code.empty() &&
      backend_->UsesCodeSnapshots()) {
    // Runs the snapshot: the directory may be on another machine, or gone.
    if (snapshots_) {
      absl::Status found = snapshots_(spec.code.id);
      if (absl::IsNotFound(found)) {
        return SnapshotGone(spec.code.id, absl::StrCat("workdir ", workdir->path),
                            "take a new one (skydeck exp update ID --workdir DIR)");
      }
      RETURN_IF_ERROR(found);
    }
  } else if (workdir->kind == Workdir::Kind::kLocal) {
    std::error_code ec;
    if (!std::filesystem::is_directory(workdir->path, ec)) {
      return LaunchBlocked(
          absl::StatusCode::kFailedPrecondition, kWorkdirMissing,
          absl::StrCat("workdir ", workdir->path, " is not a directory on the daemon's machine",
                       ec ? absl::StrCat(" (", ec.message(), ")") : std::string(),
                       ": create it, or change the experiment's workdir (skydeck exp update ID "
                       "--workdir DIR, or --no-workdir)"));
    }
    if (code == Code::kInspect) {
      CodeVersion version = inspect_(workdir->path);
      job.code_commit = version.commit;
      job.code_dirty = version.dirty;
    }
  }
  return job;
}

absl::StatusOr<backend::JobSpec> LaunchPlanner::SpecFor(const ExperimentRecord& e,
                                                        const JobRecord& job, Secrets secrets) {
  ASSIGN_OR_RETURN(std::optional<LoadedTemplate> tmpl,
                   LoadTemplate(*store_, job.template_name, job.template_version));
  backend::JobSpec spec;
  spec.command = job.command;
  spec.nodes = job.nodes;
  spec.gpus_per_node = job.gpus;
  spec.gpu_type = job.gpu_type;
  spec.infra = job.infra;
  spec.spot = job.spot;
  if (tmpl) {
    for (const auto& [name, value] : tmpl->parsed.envs) {
      if (value) {
        spec.env[name] = *value;
      } else if (job.envs.count(name) == 0) {
        return LaunchBlocked(
            absl::StatusCode::kFailedPrecondition, kEnvMissing,
            absl::StrCat("task template \"", job.template_name, "\" requires a value for env ",
                         name, ": set it with --env ", name,
                         "=VALUE (skydeck exp update ID --env "
                         "...)"));
      }
    }
    spec.setup = tmpl->parsed.setup;
    spec.template_yaml = tmpl->yaml;
    if (tmpl->parsed.workdir) spec.workdir = *tmpl->parsed.workdir;
    for (const auto& [source, ref] : tmpl->mounts) {
      if (snapshots_ && backend_->UsesCodeSnapshots()) {
        absl::Status found = snapshots_(ref.id);
        if (absl::IsNotFound(found)) {
          return SnapshotGone(
              ref.id,
              absl::StrCat("file mount ", source, " of task template \"", job.template_name, "\""),
              "apply the template again (skydeck template apply -f FILE)");
        }
        RETURN_IF_ERROR(found);
      }
      spec.mount_snapshots[source] = backend::CodeRef{ref.id, ref.file_name};
    }
  }
  for (const auto& [name, value] : job.envs) spec.env[name] = value;
  spec.env["SKYDECK_EXPERIMENT"] = e.spec.name;
  spec.env["SKYDECK_EXPERIMENT_ID"] = std::to_string(e.id);
  spec.env["SKYDECK_RUN_NAME"] = job.run_name;
  StampJob(job, spec);
  if (!job.workdir.empty()) {
    absl::StatusOr<Workdir> own = ParseWorkdir(job.workdir);
    if (!own.ok()) {
      return LaunchBlocked(absl::StatusCode::kInvalidArgument, kLaunchRefused,
                           own.status().message());
    }
    spec.workdir = *own;
    if (own->kind == Workdir::Kind::kLocal && !job.code_snapshot.empty()) {
      spec.workdir_snapshot.snapshot_id = job.code_snapshot;
    }
  }

  std::vector<std::string> names = SecretNames(tmpl, job.secrets);
  if (secrets == Secrets::kRedacted) {
    for (const std::string& n : names) spec.secrets[n] = backend::kRedactedSecret;
  } else if (!names.empty()) {
    if (secrets_ == nullptr) {
      return LaunchBlocked(absl::StatusCode::kFailedPrecondition, kSecretMissing,
                           "this daemon has no secrets source");
    }
    absl::StatusOr<workload::SecretValues> values = secrets_->Resolve(names);
    if (!values.ok()) {
      return LaunchBlocked(absl::StatusCode::kFailedPrecondition, kSecretMissing,
                           values.status().message());
    }
    spec.secrets = *std::move(values);
  }
  // A secret is not also an env (the edge refuses it; secrets win).
  for (const auto& [name, value] : spec.secrets) spec.env.erase(name);
  return spec;
}

void LaunchPlanner::StampJob(const JobRecord& job, backend::JobSpec& spec) {
  spec.name = job.backend_name;
  spec.env["SKYDECK_JOB"] = std::to_string(job.id);
  spec.env["SKYDECK_ATTEMPT"] = std::to_string(job.attempt);
}

absl::Status LaunchPlanner::CheckReady(const ExperimentRecord& experiment, const JobRecord& job) {
  // The values are read to know they are there, and dropped at once.
  RETURN_IF_ERROR(SpecFor(experiment, job, Secrets::kValues).status());
  ASSIGN_OR_RETURN(backend::JobSpec redacted, SpecFor(experiment, job, Secrets::kRedacted));
  absl::Status rendered = backend_->RenderTask(redacted).status();
  if (absl::IsInvalidArgument(rendered)) {
    return LaunchBlocked(absl::StatusCode::kInvalidArgument, kLaunchRefused, rendered.message());
  }
  return rendered;
}

absl::Status LaunchPlanner::Check(const ExperimentSpec& spec) {
  ASSIGN_OR_RETURN(JobRecord job, Snapshot(spec, Code::kSkip));
  ASSIGN_OR_RETURN(std::optional<LoadedTemplate> tmpl,
                   LoadTemplate(*store_, job.template_name, job.template_version));
  for (const std::string& name : SecretNames(tmpl, spec.secrets)) {
    bool env = spec.envs.count(name) > 0 || (tmpl && tmpl->parsed.envs.count(name) > 0);
    if (env) {
      return LaunchBlocked(absl::StatusCode::kInvalidArgument, kLaunchRefused,
                           absl::StrCat(name, " is both an env and a secret; keep one"));
    }
  }
  // A name the backend accepts, standing for the job's (unknown yet).
  job.id = 1;
  job.attempt = 1;
  job.backend_name = "skydeck-check-0-1";
  ExperimentRecord experiment;
  experiment.spec = spec;
  return CheckReady(experiment, job);
}

}  // namespace skydeck::reconcile
