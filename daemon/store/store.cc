#include "daemon/store/store.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "daemon/store/migrations.h"
#include "daemon/store/rows.h"

namespace skydeck::store {

using internal::kEventColumns;
using internal::ReadEvent;

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path, Clock clock) {
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> db, Connection::Open(path));
  RETURN_IF_ERROR(Migrate(*db));
  if (!clock) clock = NowMillis;
  return std::unique_ptr<Store>(new Store(std::move(db), std::move(clock)));
}

Store::Store(std::unique_ptr<Connection> db, Clock clock)
    : clock_(std::move(clock)), db_(std::move(db)) {}

absl::Status Store::Transaction(const std::function<absl::Status()>& body, WriteMode mode) {
  int64_t revision = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_revision_ = 0;
    transactions_++;
    RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
    absl::Status status = body();
    if (status.ok() && mode == WriteMode::kDryRun) {
      RETURN_IF_ERROR(db_->Exec("ROLLBACK"));
      return absl::OkStatus();
    }
    if (status.ok()) status = db_->Exec("COMMIT");
    if (!status.ok()) {
      (void)db_->Exec("ROLLBACK");
      return status;
    }
    revision = pending_revision_;
  }
  if (revision != 0 && listener_) listener_(revision);
  return absl::OkStatus();
}

absl::Status Store::InsertEvent(const NewEvent& event) {
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("INSERT INTO events (time, experiment_id, job_id, type, "
                                "reason, message, actor) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  st->Bind(1, clock_());
  st->Bind(2, event.experiment_id ? std::optional<int64_t>(event.experiment_id)
                                  : std::nullopt);
  st->Bind(3, event.job_id ? std::optional<int64_t>(event.job_id) : std::nullopt);
  st->Bind(4, event.type);
  st->Bind(5, event.reason);
  st->Bind(6, event.message);
  st->Bind(7, event.actor);
  RETURN_IF_ERROR(st->Run());
  pending_revision_ = db_->LastInsertRowId();
  return absl::OkStatus();
}

absl::Status Store::AppendEvent(const NewEvent& event) {
  return Transaction([&] { return InsertEvent(event); });
}

absl::StatusOr<std::vector<EventRecord>> Store::ListEvents(int64_t experiment_id,
                                                           int64_t before_id, int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(
      Statement * st,
      db_->Prepare(absl::StrCat("SELECT ", kEventColumns,
                                " FROM events WHERE (?1 = 0 OR experiment_id = ?1) "
                                "AND (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3")));
  st->Bind(1, experiment_id);
  st->Bind(2, before_id);
  st->Bind(3, limit);
  std::vector<EventRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    out.push_back(ReadEvent(*st));
  }
  return out;
}

absl::StatusOr<std::vector<EventRecord>> Store::EventsAfter(int64_t revision,
                                                            int64_t experiment_id,
                                                            int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(
      Statement * st,
      db_->Prepare(absl::StrCat("SELECT ", kEventColumns,
                                " FROM events WHERE id > ?1 "
                                "AND (?2 = 0 OR experiment_id = ?2) ORDER BY id LIMIT ?3")));
  st->Bind(1, revision);
  st->Bind(2, experiment_id);
  st->Bind(3, limit);
  std::vector<EventRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    out.push_back(ReadEvent(*st));
  }
  return out;
}

absl::StatusOr<int64_t> Store::LatestRevision() {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare("SELECT coalesce(max(id), 0) FROM events"));
  ASSIGN_OR_RETURN(bool row, st->Step());
  int64_t revision = row ? st->ColumnInt(0) : 0;
  st->Reset();
  return revision;
}

absl::StatusOr<std::string> Store::InstallationId() {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("SELECT value FROM meta WHERE key = 'installation_id'"));
  ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return absl::DataLossError("meta.installation_id is missing");
  std::string id = st->ColumnText(0);
  st->Reset();
  return id;
}

absl::StatusOr<std::optional<std::string>> Store::GetMeta(absl::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare("SELECT value FROM meta WHERE key = ?"));
  st->Bind(1, std::string(key));
  ASSIGN_OR_RETURN(bool row, st->Step());
  std::optional<std::string> value;
  if (row) value = st->ColumnText(0);
  st->Reset();
  return value;
}

absl::Status Store::SetMeta(absl::string_view key, absl::string_view value) {
  return Transaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(Statement * st,
                     db_->Prepare("INSERT INTO meta (key, value) VALUES (?1, ?2) "
                                  "ON CONFLICT (key) DO UPDATE SET value = ?2"));
    st->Bind(1, std::string(key));
    st->Bind(2, std::string(value));
    return st->Run();
  });
}

absl::Status Store::CheckIntegrity() {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare("PRAGMA integrity_check"));
  ASSIGN_OR_RETURN(bool row, st->Step());
  std::string result = row ? st->ColumnText(0) : "no result";
  st->Reset();
  if (result != "ok") {
    return absl::DataLossError(absl::StrCat("integrity check: ", result));
  }
  return absl::OkStatus();
}

}  // namespace skydeck::store
