#include "daemon/service/convert.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "common/model/proto_convert.h"
#include "common/model/validation.h"
#include "common/model/gpu_usage.h"
#include "common/model/link_template.h"
#include "common/model/workdir.h"
#include "common/status_macros.h"

namespace skydeck::service {
namespace {

// Sets a timestamp field only when the time is known: calling mutable_x()
// alone would already mark the field present.
template <typename Message>
void SetTime(int64_t ms, Message* msg, google::protobuf::Timestamp* (Message::*field)()) {
  if (ms != 0) ToProtoTime(ms, (msg->*field)());
}

// gpu_type and infra end up in a YAML task and on dashboards: keep them to
// the characters SkyPilot's own syntax uses ("H100", "k8s/ctx", "aws/us-east-1").
absl::Status ValidateToken(absl::string_view field, absl::string_view value) {
  if (value.size() > kMaxShortFieldBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", kMaxShortFieldBytes, " bytes"));
  }
  for (char c : value) {
    if (!(absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/' || c == ':' ||
          c == '@')) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, " \"", value, "\": only letters, digits and - _ . / : @ are allowed"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

void ToProto(const CodeSnapshotRef& c, pb::CodeSnapshot* out) {
  out->set_id(c.id);
  out->set_size_bytes(c.size_bytes);
  out->set_file_count(c.file_count);
  out->set_git_commit(c.git_commit);
  out->set_git_dirty(c.git_dirty);
  out->set_file_name(c.file_name);
}

void ToProto(const ExperimentRecord& r, pb::Experiment* out) {
  out->set_id(r.id);
  out->set_name(r.spec.name);
  out->set_description(r.spec.description);
  out->set_base_command(r.spec.base_command);
  skydeck::ToProto(r.spec.flags, out->mutable_flags());
  out->set_run_name(r.spec.run_name);
  out->set_nodes(r.spec.nodes);
  out->set_gpus(r.spec.gpus);
  out->set_gpu_type(r.spec.gpu_type);
  out->set_infra(r.spec.infra);
  out->set_spot(r.spec.spot);
  out->mutable_labels()->insert(r.spec.labels.begin(), r.spec.labels.end());
  out->set_max_restarts(r.spec.max_restarts);
  out->set_desired_state(skydeck::ToProto(r.spec.desired_state));
  out->set_template_(r.spec.template_name);
  out->mutable_envs()->insert(r.spec.envs.begin(), r.spec.envs.end());
  for (const std::string& name : r.spec.secrets) out->add_secrets(name);
  out->set_workdir(r.spec.workdir);
  out->set_link(r.spec.link);
  if (!r.spec.code.empty()) ToProto(r.spec.code, out->mutable_code_snapshot());
  out->set_generation(r.generation);
  out->set_observed_generation(r.observed_generation);
  out->set_observed_state(skydeck::ToProto(r.observed_state));
  for (const skydeck::Condition& c : r.conditions) {
    pb::Condition* pc = out->add_conditions();
    pc->set_type(c.type);
    pc->set_status(c.status);
    pc->set_reason(c.reason);
    pc->set_message(c.message);
    SetTime(c.last_transition_ms, pc, &pb::Condition::mutable_last_transition_time);
  }
  out->set_restart_count(r.restart_count);
  SetTime(r.next_retry_ms, out, &pb::Experiment::mutable_next_retry_time);
  out->set_current_job_id(r.current_job_id);
  out->set_job_count(r.job_count);
  SetTime(r.created_ms, out, &pb::Experiment::mutable_create_time);
  SetTime(r.updated_ms, out, &pb::Experiment::mutable_update_time);
  SetTime(r.deleted_ms, out, &pb::Experiment::mutable_delete_time);
  out->set_starred(r.starred);
  out->set_position(r.position);
  SetTime(r.state_since_ms, out, &pb::Experiment::mutable_state_since);
}

void ToProto(const JobRecord& j, pb::Job* out) {
  out->set_id(j.id);
  out->set_experiment_id(j.experiment_id);
  out->set_attempt(j.attempt);
  out->set_backend(j.backend);
  out->set_backend_name(j.backend_name);
  out->set_backend_job_id(j.backend_job_id);
  out->set_status(skydeck::ToProto(j.status));
  out->set_backend_status(j.backend_status);
  out->set_command(j.command);
  skydeck::ToProto(j.flags, out->mutable_flags());
  out->set_nodes(j.nodes);
  out->set_gpus(j.gpus);
  out->set_gpu_type(j.gpu_type);
  out->set_infra(j.infra);
  out->set_spot(j.spot);
  out->set_run_name(j.run_name);
  SetTime(j.submitted_ms, out, &pb::Job::mutable_submit_time);
  SetTime(j.started_ms, out, &pb::Job::mutable_start_time);
  SetTime(j.ended_ms, out, &pb::Job::mutable_end_time);
  if (j.exit_code) out->set_exit_code(*j.exit_code);
  out->set_failure_reason(j.failure_reason);
  out->set_recovery_count(j.recovery_count);
  out->set_paused_ms(j.paused_ms);
  out->set_gpu_hours(GpuHours(j, absl::ToUnixMillis(absl::Now())));
  out->set_template_(j.template_name);
  out->set_template_version(j.template_version);
  out->mutable_envs()->insert(j.envs.begin(), j.envs.end());
  for (const std::string& name : j.secrets) out->add_secrets(name);
  out->set_workdir(j.workdir);
  out->set_code_commit(j.code_commit);
  out->set_code_dirty(j.code_dirty);
  out->set_rendered_task(j.rendered_task);
  out->set_code_snapshot(j.code_snapshot);
  SetTime(j.status_since_ms, out, &pb::Job::mutable_status_since);
}

void ToProto(const EventRecord& e, pb::Event* out) {
  out->set_id(e.id);
  SetTime(e.time_ms, out, &pb::Event::mutable_time);
  out->set_experiment_id(e.experiment_id);
  out->set_job_id(e.job_id);
  out->set_type(e.type);
  out->set_reason(e.reason);
  out->set_message(e.message);
  out->set_actor(e.actor);
}

absl::Status ValidateSpec(const ExperimentSpec& s) {
  RETURN_IF_ERROR(ValidateExperimentName(s.name));
  RETURN_IF_ERROR(ValidateText("description", s.description, kMaxDescriptionBytes));
  if (absl::StripAsciiWhitespace(s.base_command).empty()) {
    return absl::InvalidArgumentError("base_command: required");
  }
  RETURN_IF_ERROR(ValidateText("base_command", s.base_command, kMaxCommandBytes));
  RETURN_IF_ERROR(ValidateFlags(s.flags));
  RETURN_IF_ERROR(ValidateCommandLine(s.base_command, s.flags));
  RETURN_IF_ERROR(ValidateText("run_name", s.run_name, kMaxShortFieldBytes));
  if (s.run_name.find('\n') != std::string::npos) {
    return absl::InvalidArgumentError("run_name: must be a single line");
  }
  RETURN_IF_ERROR(ValidateRange("nodes", s.nodes, 1, kMaxNodes));
  RETURN_IF_ERROR(ValidateRange("gpus", s.gpus, 0, kMaxGpusPerNode));
  RETURN_IF_ERROR(ValidateToken("gpu_type", s.gpu_type));
  RETURN_IF_ERROR(ValidateToken("infra", s.infra));
  RETURN_IF_ERROR(ValidateLabels(s.labels));
  RETURN_IF_ERROR(ValidateRange("max_restarts", s.max_restarts, 0, kMaxRestartsLimit));
  if (!s.template_name.empty()) {
    absl::Status name = ValidateExperimentName(s.template_name);
    if (!name.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("template: ", name.message()));
    }
  }
  RETURN_IF_ERROR(ValidateEnvs(s.envs));
  RETURN_IF_ERROR(ValidateSecretNames(s.secrets));
  for (const std::string& name : s.secrets) {
    if (s.envs.count(name) > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " is both an env and a secret; keep one"));
    }
  }
  RETURN_IF_ERROR(ValidateLinkUrl("link", s.link));
  return ParseWorkdir(s.workdir).status();
}

absl::StatusOr<ExperimentSpec> SpecFromProto(const pb::Experiment& e) {
  ExperimentSpec s;
  s.name = e.name();
  s.description = e.description();
  s.base_command = e.base_command();
  ASSIGN_OR_RETURN(s.flags, FromProto(e.flags()));
  s.run_name = e.run_name();
  s.nodes = e.nodes() == 0 ? 1 : e.nodes();
  s.gpus = e.gpus();
  s.gpu_type = e.gpu_type();
  s.infra = e.infra();
  s.spot = e.spot();
  s.labels.insert(e.labels().begin(), e.labels().end());
  s.max_restarts = e.has_max_restarts() ? e.max_restarts() : 3;
  if (e.desired_state() != pb::DESIRED_STATE_UNSPECIFIED) {
    ASSIGN_OR_RETURN(s.desired_state, FromProto(e.desired_state()));
  }
  s.template_name = e.template_();
  s.envs.insert(e.envs().begin(), e.envs().end());
  s.secrets.assign(e.secrets().begin(), e.secrets().end());
  s.workdir = e.workdir();
  s.link = e.link();
  RETURN_IF_ERROR(ValidateSpec(s));
  return s;
}

absl::Status ApplyFieldMask(const pb::Experiment& e, const google::protobuf::FieldMask& mask,
                            ExperimentSpec* s) {
  if (mask.paths_size() == 0) {
    return absl::InvalidArgumentError(
        "update_mask: required; name the fields to change, e.g. \"nodes,gpus\"");
  }
  for (const std::string& path : mask.paths()) {
    if (path == "name") {
      s->name = e.name();
    } else if (path == "description") {
      s->description = e.description();
    } else if (path == "base_command") {
      s->base_command = e.base_command();
    } else if (path == "flags") {
      ASSIGN_OR_RETURN(s->flags, FromProto(e.flags()));
    } else if (path == "run_name") {
      s->run_name = e.run_name();
    } else if (path == "nodes") {
      s->nodes = e.nodes();
    } else if (path == "gpus") {
      s->gpus = e.gpus();
    } else if (path == "gpu_type") {
      s->gpu_type = e.gpu_type();
    } else if (path == "infra") {
      s->infra = e.infra();
    } else if (path == "spot") {
      s->spot = e.spot();
    } else if (path == "labels") {
      s->labels = Labels(e.labels().begin(), e.labels().end());
    } else if (path == "max_restarts") {
      s->max_restarts = e.has_max_restarts() ? e.max_restarts() : 3;
    } else if (path == "desired_state") {
      ASSIGN_OR_RETURN(s->desired_state, FromProto(e.desired_state()));
    } else if (path == "template") {
      s->template_name = e.template_();
    } else if (path == "envs") {
      s->envs = std::map<std::string, std::string>(e.envs().begin(), e.envs().end());
    } else if (path == "secrets") {
      s->secrets.assign(e.secrets().begin(), e.secrets().end());
    } else if (path == "link" || path == "wandb_link") {
      s->link = e.link();
    } else if (path == "workdir") {
      // The snapshot goes with the workdir; the service resolves it.
      s->workdir = e.workdir();
      s->code = CodeSnapshotRef{};
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("update_mask: \"", path,
                       "\" is not an updatable field (name, description, "
                       "base_command, flags, run_name, nodes, gpus, gpu_type, infra, spot, labels, "
                       "max_restarts, desired_state, template, envs, secrets, workdir, link)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace skydeck::service
