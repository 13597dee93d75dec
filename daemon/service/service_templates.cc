// Task template handlers of SkyDeckService (common/model/task_template.h), and
// the checks that an experiment's template, secrets and workdir can launch.
#include <filesystem>

#include "absl/strings/str_cat.h"

#include "common/model/proto_convert.h"
#include "common/model/task_template.h"
#include "common/model/validation.h"
#include "common/model/workdir.h"
#include "common/status_macros.h"
#include "daemon/reconcile/launch_snapshot.h"
#include "daemon/service/convert.h"
#include "daemon/service/skydeck_service.h"

namespace skydeck::service {
namespace {

absl::Status ValidateTemplateName(absl::string_view name) {
  absl::Status s = ValidateExperimentName(name);
  if (s.ok()) return s;
  return absl::InvalidArgumentError(absl::StrCat("template ", s.message()));
}

void TemplateToProto(const TaskTemplateRecord& r, pb::TaskTemplate* out) {
  out->set_name(r.name);
  out->set_version(r.version);
  out->set_yaml(r.yaml);
  out->set_actor(r.actor);
  if (r.created_ms != 0) ToProtoTime(r.created_ms, out->mutable_create_time());
  // Stored templates parse (they were checked when applied).
  if (absl::StatusOr<TaskTemplate> t = ParseTaskTemplate(r.yaml); t.ok()) {
    for (const std::string& s : t->secrets) out->add_secrets(s);
    for (const std::string& a : t->accelerators) out->add_accelerators(a);
  }
  for (const auto& [source, ref] : r.mount_snapshots) {
    ToProto(ref, &(*out->mutable_mount_snapshots())[source]);
  }
}

}  // namespace

absl::Status SkyDeckService::CheckDefaultTemplate() {
  ASSIGN_OR_RETURN(std::optional<TaskTemplateRecord> t, store_->GetTaskTemplate(default_template_));
  if (t) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "the daemon's default task template \"", default_template_,
      "\" (skydeckd --default-template) does not exist: apply it (skydeck template apply -f "
      "FILE --name ",
      default_template_, "), or create with --template NAME or --no-template"));
}

absl::Status SkyDeckService::CheckLaunch(const ExperimentSpec& spec) {
  if (control_) return control_->CheckLaunchable(spec);
  if (spec.template_name.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::optional<TaskTemplateRecord> t,
                   store_->GetTaskTemplate(spec.template_name));
  if (!t) {
    return absl::FailedPreconditionError(
        absl::StrCat("task template \"", spec.template_name, "\" does not exist"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SkyDeckService::ApplyDefaultWorkdir(ExperimentSpec& spec,
                                                                const std::string& dir,
                                                                const pb::CodeSnapshot& snapshot,
                                                                bool dry_run) {
  if (dir.empty() || !spec.workdir.empty()) return std::string();
  absl::StatusOr<Workdir> w = ParseWorkdir(dir);
  if (!w.ok() || w->kind != Workdir::Kind::kLocal) {
    return absl::InvalidArgumentError(
        absl::StrCat("default_workdir ", QuoteForError(dir), ": must be an absolute directory"));
  }
  // A template with a workdir of its own wins over a directory the
  // client happened to be in.
  if (!spec.template_name.empty()) {
    ASSIGN_OR_RETURN(std::optional<TaskTemplateRecord> t,
                     store_->GetTaskTemplate(spec.template_name));
    if (t) {
      absl::StatusOr<TaskTemplate> parsed = ParseTaskTemplate(t->yaml);
      if (parsed.ok() && parsed->workdir) return std::string();
    }
  }
  // Uploaded by the client: where the directory is does not matter.
  std::error_code ec;
  if (snapshot.id().empty() && !std::filesystem::is_directory(dir, ec)) {
    return absl::StrCat("the current directory ", dir,
                        " is not on the daemon's machine, so it is not the job's workdir; pass "
                        "--workdir DIR (a directory there, or a git URL) to choose one");
  }
  std::string refusal = control_ ? control_->DefaultWorkdirRefusal() : "";
  if (!refusal.empty()) {
    return absl::StrCat("the current directory ", dir, " is not the job's workdir: ", refusal);
  }
  ASSIGN_OR_RETURN(spec.code, ResolveWorkdirCode(dir, snapshot, "default_code_snapshot", dry_run));
  spec.workdir = dir;
  return std::string();
}

bool SkyDeckService::LaunchFieldsChanged(const ExperimentSpec& before,
                                         const ExperimentSpec& after) {
  return !reconcile::RunsCurrentSpec(reconcile::LaunchSnapshot(before), after);
}

grpc::Status SkyDeckService::ApplyTaskTemplate(grpc::ServerContext* ctx,
                                               const pb::ApplyTaskTemplateRequest* req,
                                               pb::ApplyTaskTemplateResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string actor, ActorFromContext(*ctx));
    const std::string& yaml = req->template_().yaml();
    if (yaml.empty()) return absl::InvalidArgumentError("template.yaml: required");
    ASSIGN_OR_RETURN(TaskTemplate parsed, ParseTaskTemplate(yaml));
    std::string name = req->template_().name().empty() ? parsed.name : req->template_().name();
    if (name.empty()) {
      return absl::InvalidArgumentError("template.name: required (or a name: in the YAML)");
    }
    RETURN_IF_ERROR(ValidateTemplateName(name));
    ASSIGN_OR_RETURN(auto mounts, ResolveMountSnapshots(parsed, req->template_().mount_snapshots(),
                                                        req->validate_only()));
    ASSIGN_OR_RETURN(
        store::Store::AppliedTemplate applied,
        store_->ApplyTaskTemplate(
            name, yaml, actor,
            req->validate_only() ? store::WriteMode::kDryRun : store::WriteMode::kCommit, mounts));
    TemplateToProto(applied.record, resp->mutable_template_());
    resp->set_changed(applied.changed);
    return absl::OkStatus();
  });
}

grpc::Status SkyDeckService::GetTaskTemplate(grpc::ServerContext* ctx,
                                             const pb::GetTaskTemplateRequest* req,
                                             pb::GetTaskTemplateResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    RETURN_IF_ERROR(ValidateTemplateName(req->name()));
    if (req->version() < 0) return absl::InvalidArgumentError("version: must be >= 0");
    TaskTemplateRecord r;
    if (req->version() > 0) {
      ASSIGN_OR_RETURN(r, store_->GetTaskTemplateVersion(req->name(), req->version()));
    } else {
      ASSIGN_OR_RETURN(std::optional<TaskTemplateRecord> t, store_->GetTaskTemplate(req->name()));
      if (!t) {
        return absl::NotFoundError(absl::StrCat("task template \"", req->name(), "\" not found"));
      }
      r = *std::move(t);
    }
    TemplateToProto(r, resp->mutable_template_());
    return absl::OkStatus();
  });
}

grpc::Status SkyDeckService::ListTaskTemplates(grpc::ServerContext* ctx,
                                               const pb::ListTaskTemplatesRequest* req,
                                               pb::ListTaskTemplatesResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<TaskTemplateRecord> all, store_->ListTaskTemplates());
    for (const TaskTemplateRecord& r : all) TemplateToProto(r, resp->add_templates());
    return absl::OkStatus();
  });
}

grpc::Status SkyDeckService::DeleteTaskTemplate(grpc::ServerContext* ctx,
                                                const pb::DeleteTaskTemplateRequest* req,
                                                pb::DeleteTaskTemplateResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string actor, ActorFromContext(*ctx));
    RETURN_IF_ERROR(ValidateTemplateName(req->name()));
    ASSIGN_OR_RETURN(int64_t version, store_->DeleteTaskTemplate(req->name(), actor));
    resp->set_version(version);
    return absl::OkStatus();
  });
}

}  // namespace skydeck::service
