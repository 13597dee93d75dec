// Store methods for declared flag schemas. See store.h for the contracts and
// migrations.cc (v2) for the table.
#include "absl/strings/str_cat.h"

#include "common/model/event_types.h"
#include "common/status_macros.h"
#include "daemon/store/store.h"

namespace skydeck::store {
namespace {

// Current (highest, not deleted) version per command.
constexpr absl::string_view kCurrentSchemas =
    "SELECT s.base_command, s.version, s.schema FROM flag_schemas s "
    "WHERE s.deleted = 0 AND s.version = (SELECT MAX(version) FROM flag_schemas m "
    "WHERE m.base_command = s.base_command)";

// Every version of a command (deletion markers included) counts.
constexpr char kMaxVersion[] =
    "SELECT coalesce(max(version), 0) FROM flag_schemas WHERE base_command = ?";

absl::StatusOr<FlagSchema> ReadSchema(const Statement& st) {
  const std::string text = st.ColumnText(2);
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  auto schema = FlagSchemaFromJson(json);
  if (!schema.ok()) {
    return absl::InternalError(absl::StrCat("stored flag schema for \"", st.ColumnText(0),
                                            "\" is unreadable: ", schema.status().message()));
  }
  schema->base_command = st.ColumnText(0);
  schema->version = st.ColumnInt(1);
  return schema;
}

}  // namespace

absl::StatusOr<FlagSchema> Store::ApplyFlagSchema(const FlagSchema& schema,
                                                  absl::string_view actor) {
  FlagSchema out = schema;
  RETURN_IF_ERROR(ValidateFlagSchema(out));
  out.version = 0;
  nlohmann::json json = FlagSchemaToJson(out);
  RETURN_IF_ERROR(Transaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    ASSIGN_OR_RETURN(out.version, NextVersionLocked(kMaxVersion, out.base_command));
    ASSIGN_OR_RETURN(Statement * st,
                     db_->Prepare("INSERT INTO flag_schemas (base_command, version, schema, "
                                  "actor, created_at) VALUES (?, ?, ?, ?, ?)"));
    st->Bind(1, out.base_command);
    st->Bind(2, out.version);
    st->Bind(3, json.dump());
    st->Bind(4, actor);
    st->Bind(5, clock_());
    RETURN_IF_ERROR(st->Run());
    // Daemon-wide, so watchers (the dashboard's typeahead) learn of it.
    return InsertEvent(
        NewEvent{0, 0, model::event::kFlagSchemaApplied, "SchemaApplied",
                 absl::StrCat("flag schema for \"", out.base_command, "\" version ", out.version,
                              " (", out.flags.size(), " flags", out.strict ? ", strict" : "", ")"),
                 std::string(actor)});
  }));
  return out;
}

absl::StatusOr<std::optional<FlagSchema>> Store::GetFlagSchema(absl::string_view base_command) {
  return Read([&](Connection& db) -> absl::StatusOr<std::optional<FlagSchema>> {
    ASSIGN_OR_RETURN(Statement * st,
                     db.Prepare(absl::StrCat(kCurrentSchemas, " AND s.base_command = ?")));
    st->Bind(1, base_command);
    return st->ReadFirst(ReadSchema);
  });
}

absl::StatusOr<FlagSchema> Store::GetFlagSchemaVersion(absl::string_view base_command,
                                                       int64_t version) {
  return Read([&](Connection& db) -> absl::StatusOr<FlagSchema> {
    ASSIGN_OR_RETURN(Statement * st,
                     db.Prepare("SELECT base_command, version, schema FROM flag_schemas "
                                "WHERE base_command = ? AND version = ? AND deleted = 0"));
    st->Bind(1, base_command);
    st->Bind(2, version);
    ASSIGN_OR_RETURN(std::optional<FlagSchema> schema, st->ReadFirst(ReadSchema));
    if (!schema) {
      return absl::NotFoundError(
          absl::StrCat("flag schema \"", base_command, "\" version ", version, " not found"));
    }
    return *std::move(schema);
  });
}

absl::StatusOr<std::vector<FlagSchema>> Store::ListFlagSchemas() {
  return Read([&](Connection& db) -> absl::StatusOr<std::vector<FlagSchema>> {
    ASSIGN_OR_RETURN(Statement * st,
                     db.Prepare(absl::StrCat(kCurrentSchemas, " ORDER BY s.base_command")));
    return st->ReadAll(ReadSchema);
  });
}

absl::StatusOr<int64_t> Store::DeleteFlagSchema(absl::string_view base_command,
                                                absl::string_view actor) {
  int64_t version = 0;
  RETURN_IF_ERROR(Transaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    ASSIGN_OR_RETURN(Statement * st,
                     db_->Prepare(absl::StrCat(kCurrentSchemas, " AND s.base_command = ?")));
    st->Bind(1, base_command);
    ASSIGN_OR_RETURN(std::optional<int64_t> current, st->ReadFirst(IntColumn(1)));
    if (!current) {
      return absl::NotFoundError(
          absl::StrCat("no flag schema declared for \"", base_command, "\""));
    }
    DeletionMarker marker{kMaxVersion,
                          "INSERT INTO flag_schemas (base_command, version, schema, deleted, "
                          "actor, created_at) VALUES (?1, ?2, '{}', 1, ?3, ?4)",
                          model::event::kFlagSchemaDeleted, "SchemaDeleted",
                          absl::StrCat("flag schema for \"", base_command, "\"")};
    ASSIGN_OR_RETURN(version, InsertDeletionMarkerLocked(marker, base_command, actor));
    return absl::OkStatus();
  }));
  return version;
}

}  // namespace skydeck::store
