// Store methods for task templates. See store.h for the contracts and
// migrations.cc (v4) for the table.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "common/model/event_types.h"
#include "common/status_macros.h"
#include "daemon/store/rows.h"
#include "daemon/store/store.h"

namespace skydeck::store {
namespace {

// Current (highest, not deleted) version per name.
constexpr absl::string_view kCurrentTemplates =
    "SELECT t.name, t.version, t.yaml, t.actor, t.created_at, t.mount_snapshots "
    "FROM task_templates t "
    "WHERE t.deleted = 0 AND t.version = (SELECT MAX(version) FROM task_templates m "
    "WHERE m.name = t.name)";

// Every version of a name (deletion markers included) counts.
constexpr char kMaxVersion[] =
    "SELECT coalesce(max(version), 0) FROM task_templates WHERE name = ?";

absl::StatusOr<TaskTemplateRecord> ReadTemplate(const Statement& st) {
  TaskTemplateRecord r;
  r.name = st.ColumnText(0);
  r.version = st.ColumnInt(1);
  r.yaml = st.ColumnText(2);
  r.actor = st.ColumnText(3);
  r.created_ms = st.ColumnInt(4);
  ASSIGN_OR_RETURN(r.mount_snapshots, internal::ReadMountSnapshots(st.ColumnText(5)));
  return r;
}

bool SameSnapshotIds(const std::map<std::string, CodeSnapshotRef>& a,
                     const std::map<std::string, CodeSnapshotRef>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [source, ref] : a) {
    auto it = b.find(source);
    if (it == b.end() || it->second.id != ref.id) return false;
  }
  return true;
}

absl::Status NoSuchTemplate(absl::string_view name) {
  return absl::NotFoundError(
      absl::StrCat("task template \"", name, "\" not found (skydeck template list shows them)"));
}

}  // namespace

absl::StatusOr<std::optional<TaskTemplateRecord>> Store::CurrentTaskTemplate(
    Connection& db, absl::string_view name) {
  ASSIGN_OR_RETURN(Statement * st, db.Prepare(absl::StrCat(kCurrentTemplates, " AND t.name = ?")));
  st->Bind(1, name);
  return st->ReadFirst(ReadTemplate);
}

absl::StatusOr<Store::AppliedTemplate> Store::ApplyTaskTemplate(
    absl::string_view name, absl::string_view yaml, absl::string_view actor, WriteMode mode,
    const std::map<std::string, CodeSnapshotRef>& mounts) {
  AppliedTemplate out;
  RETURN_IF_ERROR(Transaction(
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<TaskTemplateRecord> current,
                         CurrentTaskTemplate(*db_, name));
        if (current && current->yaml == yaml && SameSnapshotIds(current->mount_snapshots, mounts)) {
          out = AppliedTemplate{*current, false};
          return absl::OkStatus();
        }
        ASSIGN_OR_RETURN(int64_t version, NextVersionLocked(kMaxVersion, name));
        TaskTemplateRecord r{std::string(name),  version,  std::string(yaml),
                             std::string(actor), clock_(), mounts};
        ASSIGN_OR_RETURN(Statement * st,
                         db_->Prepare("INSERT INTO task_templates (name, version, yaml, actor, "
                                      "created_at, mount_snapshots) VALUES (?, ?, ?, ?, ?, ?)"));
        st->Bind(1, r.name);
        st->Bind(2, r.version);
        st->Bind(3, r.yaml);
        st->Bind(4, r.actor);
        st->Bind(5, r.created_ms);
        st->Bind(6, internal::MountSnapshotsToJson(r.mount_snapshots));
        RETURN_IF_ERROR(st->Run());
        out = AppliedTemplate{r, true};
        // Daemon-wide, so watchers (the dashboard's template list) learn of it.
        return InsertEvent(NewEvent{
            0, 0, model::event::kTaskTemplateApplied, "TemplateApplied",
            absl::StrCat("task template \"", name, "\" version ", r.version), std::string(actor)});
      },
      mode));
  return out;
}

absl::StatusOr<std::optional<TaskTemplateRecord>> Store::GetTaskTemplate(absl::string_view name) {
  return Read([&](Connection& db) -> absl::StatusOr<std::optional<TaskTemplateRecord>> {
    return CurrentTaskTemplate(db, name);
  });
}

absl::StatusOr<TaskTemplateRecord> Store::GetTaskTemplateVersion(absl::string_view name,
                                                                 int64_t version) {
  return Read([&](Connection& db) -> absl::StatusOr<TaskTemplateRecord> {
    ASSIGN_OR_RETURN(Statement * st,
                     db.Prepare("SELECT name, version, yaml, actor, created_at, mount_snapshots "
                                "FROM task_templates WHERE name = ? AND version = ? AND "
                                "deleted = 0"));
    st->Bind(1, name);
    st->Bind(2, version);
    ASSIGN_OR_RETURN(std::optional<TaskTemplateRecord> r, st->ReadFirst(ReadTemplate));
    if (!r) {
      return absl::NotFoundError(
          absl::StrCat("task template \"", name, "\" version ", version, " not found"));
    }
    return *std::move(r);
  });
}

absl::StatusOr<std::vector<TaskTemplateRecord>> Store::ListTaskTemplates() {
  return Read([&](Connection& db) -> absl::StatusOr<std::vector<TaskTemplateRecord>> {
    ASSIGN_OR_RETURN(Statement * st,
                     db.Prepare(absl::StrCat(kCurrentTemplates, " ORDER BY t.name")));
    return st->ReadAll(ReadTemplate);
  });
}

absl::StatusOr<int64_t> Store::DeleteTaskTemplate(absl::string_view name, absl::string_view actor) {
  int64_t version = 0;
  RETURN_IF_ERROR(Transaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<TaskTemplateRecord> current, CurrentTaskTemplate(*db_, name));
    if (!current) return NoSuchTemplate(name);
    // An experiment naming a deleted template could never launch again.
    ASSIGN_OR_RETURN(Statement * users,
                     db_->Prepare("SELECT name FROM experiments WHERE template = ? AND "
                                  "deleted_at IS NULL ORDER BY id LIMIT 6"));
    users->Bind(1, name);
    ASSIGN_OR_RETURN(std::vector<std::string> names, users->ReadAll(TextColumn(0)));
    if (!names.empty()) {
      std::string listed =
          absl::StrJoin(names.begin(), names.begin() + std::min<size_t>(5, names.size()), ", ");
      return absl::FailedPreconditionError(absl::StrCat(
          "task template \"", name, "\" is used by experiment", names.size() > 1 ? "s " : " ",
          listed, names.size() > 5 ? ", ..." : "",
          "; change their template (skydeck exp update ID --template OTHER) or delete them first"));
    }
    DeletionMarker marker{kMaxVersion,
                          "INSERT INTO task_templates (name, version, yaml, deleted, actor, "
                          "created_at) VALUES (?1, ?2, '', 1, ?3, ?4)",
                          model::event::kTaskTemplateDeleted, "TemplateDeleted",
                          absl::StrCat("task template \"", name, "\"")};
    ASSIGN_OR_RETURN(version, InsertDeletionMarkerLocked(marker, name, actor));
    return absl::OkStatus();
  }));
  return version;
}

absl::StatusOr<std::set<std::string>> Store::ReferencedCodeSnapshots() {
  return Read([&](Connection& db) -> absl::StatusOr<std::set<std::string>> {
    std::set<std::string> ids;
    // Three small scans; the collector runs them once an hour.
    for (const char* sql :
         {"SELECT json_extract(code_snapshot, '$.id') FROM experiments WHERE code_snapshot != ''",
          "SELECT DISTINCT code_snapshot FROM jobs WHERE code_snapshot != ''",
          "SELECT json_extract(value, '$.id') FROM task_templates, "
          "json_each(task_templates.mount_snapshots)"}) {
      ASSIGN_OR_RETURN(Statement * st, db.Prepare(sql));
      RETURN_IF_ERROR(st->ForEachRow([&](const Statement& row) { ids.insert(row.ColumnText(0)); }));
    }
    return ids;
  });
}

}  // namespace skydeck::store
