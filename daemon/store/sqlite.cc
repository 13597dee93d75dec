#include "daemon/store/sqlite.h"

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "common/status_macros.h"

namespace skydeck::store {
namespace {

constexpr char kResultCodePayload[] = "type.skydeck.dev/sqlite.result_code";

absl::StatusCode CodeFor(int primary_rc) {
  switch (primary_rc) {
    case SQLITE_CONSTRAINT:
    case SQLITE_READONLY:
      return absl::StatusCode::kFailedPrecondition;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::StatusCode::kUnavailable;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      return absl::StatusCode::kResourceExhausted;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::StatusCode::kDataLoss;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

absl::Status SqliteError(sqlite3* db, int rc, absl::string_view context) {
  std::string msg = absl::StrCat(context, ": ", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  absl::Status status(CodeFor(rc & 0xff), msg);
  status.SetPayload(kResultCodePayload, absl::Cord(absl::StrCat(rc & 0xff)));
  return status;
}

int SqliteResultCode(const absl::Status& status) {
  int rc = 0;
  if (auto payload = status.GetPayload(kResultCodePayload)) {
    if (!absl::SimpleAtoi(std::string(*payload), &rc)) rc = 0;
  }
  return rc;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::Bind(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
void Statement::Bind(int index, double value) { sqlite3_bind_double(stmt_, index, value); }
void Statement::Bind(int index, absl::string_view value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
}
void Statement::BindNull(int index) { sqlite3_bind_null(stmt_, index); }
void Statement::Bind(int index, std::optional<int64_t> value) {
  if (value) {
    Bind(index, *value);
  } else {
    BindNull(index);
  }
}

absl::StatusOr<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3* db = sqlite3_db_handle(stmt_);
  absl::Status status = SqliteError(db, rc, "sqlite step");
  sqlite3_reset(stmt_);
  return status;
}

absl::Status Statement::Run() {
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
  }
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::ColumnInt(int col) const { return sqlite3_column_int64(stmt_, col); }

double Statement::ColumnDouble(int col) const { return sqlite3_column_double(stmt_, col); }
std::string Statement::ColumnText(int col) const {
  const unsigned char* text = sqlite3_column_text(stmt_, col);
  int size = sqlite3_column_bytes(stmt_, col);
  return text ? std::string(reinterpret_cast<const char*>(text), size) : std::string();
}
bool Statement::ColumnIsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}
std::optional<int64_t> Statement::ColumnOptionalInt(int col) const {
  if (ColumnIsNull(col)) return std::nullopt;
  return ColumnInt(col);
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::string& path,
                                                             OpenMode mode) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (mode == OpenMode::kCreate) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteError(db, rc, absl::StrCat("opening database ", path));
    sqlite3_close(db);
    return status;
  }
  // SQLite falls back to read-only when the file cannot be opened for
  // writing, and reads nothing until the first statement: refuse here,
  // before a read creates the "-shm" file with the database's read-only
  // mode (see the header).
  if (sqlite3_db_readonly(db, "main") == 1) {
    sqlite3_close(db);
    absl::Status status = absl::FailedPreconditionError(
        absl::StrCat("database ", path, " is read-only for this process"));
    status.SetPayload(kResultCodePayload, absl::Cord(absl::StrCat(SQLITE_READONLY)));
    return status;
  }
  std::unique_ptr<Connection> conn(new Connection(db));
  sqlite3_busy_timeout(db, 5000);
  sqlite3_extended_result_codes(db, 1);
  // WAL: readers never block the writer, and a kill -9 never loses a
  // committed transaction. synchronous=NORMAL only risks the last
  // transactions on power loss, not on a process crash.
  absl::Status status =
      conn->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  if (!status.ok()) return status;
  return conn;
}

Connection::~Connection() {
  cache_.clear();  // statements must be finalized before close
  sqlite3_close(db_);
}

absl::Status Connection::Exec(absl::string_view sql) {
  char* err = nullptr;
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string message = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    // SqliteError's code and payload, with sqlite3_exec's fuller message.
    absl::Status coded = SqliteError(nullptr, rc, "sqlite exec");
    absl::Status status(coded.code(), absl::StrCat("sqlite exec: ", message));
    coded.ForEachPayload(
        [&](absl::string_view url, const absl::Cord& payload) { status.SetPayload(url, payload); });
    return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<Statement*> Connection::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    it->second->Reset();
    return it->second.get();
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, absl::StrCat("preparing ", sql));
  auto [pos, inserted] = cache_.emplace(sql, std::make_unique<Statement>(stmt));
  return pos->second.get();
}

int64_t Connection::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }

std::vector<std::string> Connection::PreparedSql() const {
  std::vector<std::string> out;
  for (const auto& [sql, statement] : cache_) out.push_back(sql);
  return out;
}

absl::StatusOr<std::string> Connection::QueryPlan(const std::string& sql) {
  ASSIGN_OR_RETURN(Statement * st, Prepare(absl::StrCat("EXPLAIN QUERY PLAN ", sql)));
  // Columns: id, parent, notused, detail.
  ASSIGN_OR_RETURN(std::vector<std::string> steps, st->ReadAll(TextColumn(3)));
  return absl::StrJoin(steps, "\n");
}

}  // namespace skydeck::store
