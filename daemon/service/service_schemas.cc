// Flag schema handlers of SkyDeckService, and the validation of experiment
// flags against the declared schema of their base command.
#include <limits>
#include <set>

#include "absl/strings/str_cat.h"

#include "common/grpc_status.h"
#include "common/model/event_types.h"
#include "common/model/flag_schema.h"
#include "common/model/validation.h"
#include "common/status_macros.h"
#include "daemon/service/inferred_schemas.h"
#include "daemon/service/skydeck_service.h"

namespace skydeck::service {

absl::StatusOr<std::vector<std::string>> SkyDeckService::CheckSpecFlags(ExperimentSpec& spec) {
  ASSIGN_OR_RETURN(std::optional<FlagSchema> schema, store_->GetFlagSchema(spec.base_command));
  if (!schema) return std::vector<std::string>{};
  ASSIGN_OR_RETURN(FlagCheck check, CheckFlags(*schema, spec.flags));
  spec.flags = std::move(check.flags);
  return std::move(check.warnings);
}

absl::StatusOr<SkyDeckService::CheckedChange> SkyDeckService::ChangeSpecChecked(
    const ExperimentRecord& current, const store::Store::SpecMutation& mutate,
    absl::string_view actor, store::WriteMode mode) {
  // The store runs `mutate` under its lock, where the schema cannot be read:
  // read it first for the base command the change leads to.
  ExperimentSpec preview = current.spec;
  RETURN_IF_ERROR(mutate(preview));
  ASSIGN_OR_RETURN(std::optional<FlagSchema> schema, store_->GetFlagSchema(preview.base_command));
  std::vector<std::string> warnings;
  ASSIGN_OR_RETURN(ExperimentRecord r,
                   ChangeSpec(
                       current.id,
                       [&](ExperimentSpec& spec, std::vector<NewEvent>* events) -> absl::Status {
                         ExperimentSpec before = spec;
                         RETURN_IF_ERROR(mutate(spec));
                         if (spec.base_command != preview.base_command) {
                           return absl::AbortedError("the experiment changed concurrently; retry");
                         }
                         bool flags_touched =
                             spec.flags != before.flags || spec.base_command != before.base_command;
                         if (!schema || !flags_touched) return absl::OkStatus();
                         ASSIGN_OR_RETURN(FlagCheck check, CheckFlags(*schema, spec.flags));
                         spec.flags = std::move(check.flags);
                         warnings = std::move(check.warnings);
                         // In the change's transaction: a watcher never sees the change
                         // without its warnings.
                         *events = FlagWarningEvents(warnings, actor);
                         return absl::OkStatus();
                       },
                       actor, "", mode));
  return CheckedChange{std::move(r), std::move(warnings)};
}

std::vector<NewEvent> SkyDeckService::FlagWarningEvents(const std::vector<std::string>& warnings,
                                                        absl::string_view actor) {
  std::vector<NewEvent> events;
  for (const std::string& w : warnings) {
    NewEvent e;
    e.type = model::event::kFlagWarning;
    e.reason = "UnknownFlag";
    e.message = w;
    e.actor = std::string(actor);
    events.push_back(std::move(e));
  }
  return events;
}

grpc::Status SkyDeckService::ListFlagSchemas(grpc::ServerContext* ctx,
                                             const pb::ListFlagSchemasRequest* req,
                                             pb::ListFlagSchemasResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    RETURN_IF_ERROR(ValidateText("base_command", req->base_command(), kMaxCommandBytes));
    if (req->version() != 0) {
      if (req->base_command().empty()) {
        return absl::InvalidArgumentError("version: needs base_command");
      }
      ASSIGN_OR_RETURN(FlagSchema s,
                       store_->GetFlagSchemaVersion(req->base_command(), req->version()));
      FlagSchemaToProto(s, resp->add_schemas());
      return absl::OkStatus();
    }
    // Declared schemas win; inferred ones fill in the other commands.
    ASSIGN_OR_RETURN(std::vector<FlagSchema> declared, store_->ListFlagSchemas());
    std::set<std::string> declared_commands;
    for (const FlagSchema& s : declared) {
      declared_commands.insert(s.base_command);
      if (req->base_command().empty() || s.base_command == req->base_command()) {
        FlagSchemaToProto(s, resp->add_schemas());
      }
    }
    store::ExperimentQuery q;
    q.limit = std::numeric_limits<int>::max();
    ASSIGN_OR_RETURN(store::ExperimentPage page, store_->ListExperiments(q));
    for (auto& schema : InferFlagSchemas(page.experiments)) {
      if (declared_commands.contains(schema.base_command())) continue;
      if (req->base_command().empty() || schema.base_command() == req->base_command()) {
        *resp->add_schemas() = std::move(schema);
      }
    }
    return absl::OkStatus();
  });
}

grpc::Status SkyDeckService::ApplyFlagSchema(grpc::ServerContext* ctx,
                                             const pb::ApplyFlagSchemaRequest* req,
                                             pb::ApplyFlagSchemaResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string actor, ActorFromContext(*ctx));
    ASSIGN_OR_RETURN(FlagSchema schema, FlagSchemaFromProto(req->schema()));
    ASSIGN_OR_RETURN(FlagSchema stored, store_->ApplyFlagSchema(schema, actor));
    FlagSchemaToProto(stored, resp->mutable_schema());
    return absl::OkStatus();
  });
}

grpc::Status SkyDeckService::DeleteFlagSchema(grpc::ServerContext* ctx,
                                              const pb::DeleteFlagSchemaRequest* req,
                                              pb::DeleteFlagSchemaResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string actor, ActorFromContext(*ctx));
    if (req->base_command().empty()) {
      return absl::InvalidArgumentError("base_command: required");
    }
    RETURN_IF_ERROR(ValidateText("base_command", req->base_command(), kMaxCommandBytes));
    ASSIGN_OR_RETURN(int64_t version, store_->DeleteFlagSchema(req->base_command(), actor));
    resp->set_version(version);
    return absl::OkStatus();
  });
}

}  // namespace skydeck::service
