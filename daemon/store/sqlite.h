// File: daemon/store/sqlite.h
//
// A thin RAII layer over the SQLite C API: a connection that caches prepared
// statements, and a statement with typed bind/column helpers. Every failure
// becomes an absl::Status carrying SQLite's message; constraint violations
// map to ALREADY_EXISTS / FAILED_PRECONDITION so callers can tell a conflict
// from a broken database.
//
//   ASSIGN_OR_RETURN(Statement* st, db.Prepare("SELECT name FROM t WHERE id=?"));
//   st->Bind(1, id);
//   ASSIGN_OR_RETURN(std::optional<std::string> name, st->ReadFirst(TextColumn(0)));
//
// Rows are read with ForEachRow, ReadAll or ReadFirst, never a hand-written
// Step loop: they reset the statement on every path, so no read
// transaction is left open behind an early return.
//
// Thread-safety: none. The Store serialises all use behind its mutex.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <sqlite3.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skydeck::store {

class Statement;

// What a ForEachRow callback asks for after a row.
enum class NextRow { kContinue, kStop };

namespace sqlite_internal {
// T for absl::StatusOr<T>, else the type itself.
template <typename R>
struct Unwrap {
  using type = R;
};
template <typename T>
struct Unwrap<absl::StatusOr<T>> {
  using type = T;
};
// The value a row reader returns, without its StatusOr.
template <typename Read>
using RowType = typename Unwrap<std::decay_t<std::invoke_result_t<Read&, const Statement&>>>::type;
// A reader's result as a StatusOr, whichever of the two it returned.
template <typename T>
absl::StatusOr<T> AsStatusOr(T value) {
  return value;
}
template <typename T>
absl::StatusOr<T> AsStatusOr(absl::StatusOr<T> value) {
  return value;
}
}  // namespace sqlite_internal

class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based, as in SQLite.
  void Bind(int index, int64_t value);
  void Bind(int index, int value) { Bind(index, static_cast<int64_t>(value)); }
  void Bind(int index, bool value) { Bind(index, static_cast<int64_t>(value)); }
  void Bind(int index, double value);
  void Bind(int index, absl::string_view value);
  void Bind(int index, const char* value) { Bind(index, absl::string_view(value)); }
  void Bind(int index, const std::string& value) { Bind(index, absl::string_view(value)); }
  void BindNull(int index);
  // NULL when empty.
  void Bind(int index, std::optional<int64_t> value);

  // true: a row is available; false: done. Errors carry SQLite's message.
  absl::StatusOr<bool> Step();
  // Steps to completion, for statements that return no rows.
  absl::Status Run();
  // Clears bindings and rewinds; called by Connection::Prepare on reuse.
  void Reset();

  // Statement::ForEachRow()
  //
  // Steps through the rows, calling `on_row(const Statement&)` for each.
  // `on_row` returns void, absl::Status (an error stops and is returned),
  // or absl::StatusOr<NextRow> (kStop ends early, OK). The statement is
  // reset (bindings cleared) on every path, SQLite's errors included.
  template <typename OnRow>
  absl::Status ForEachRow(OnRow&& on_row);

  // Statement::ReadAll()
  //
  // Every row, as `read(const Statement&)` returns it (a T, or an
  // absl::StatusOr<T> whose first error is returned). Resets as ForEachRow.
  //   ASSIGN_OR_RETURN(std::vector<int64_t> ids, st->ReadAll(IntColumn(0)));
  template <typename Read>
  absl::StatusOr<std::vector<sqlite_internal::RowType<Read>>> ReadAll(Read&& read);

  // Statement::ReadFirst()
  //
  // The first row as `read` returns it; nullopt when there is none. Later
  // rows are not stepped. Resets as ForEachRow.
  template <typename Read>
  absl::StatusOr<std::optional<sqlite_internal::RowType<Read>>> ReadFirst(Read&& read);

  // Columns are 0-based, as in SQLite. A NULL reads as 0 or "".
  int64_t ColumnInt(int col) const;
  double ColumnDouble(int col) const;
  std::string ColumnText(int col) const;
  bool ColumnIsNull(int col) const;
  std::optional<int64_t> ColumnOptionalInt(int col) const;

 private:
  sqlite3_stmt* stmt_;
};

// Row readers for one column, for ReadAll and ReadFirst.
inline auto IntColumn(int col) {
  return [col](const Statement& st) { return st.ColumnInt(col); };
}
inline auto TextColumn(int col) {
  return [col](const Statement& st) { return st.ColumnText(col); };
}

template <typename OnRow>
absl::Status Statement::ForEachRow(OnRow&& on_row) {
  using Result = std::invoke_result_t<OnRow&, const Statement&>;
  absl::Status status;
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) {
      status = row.status();
      break;
    }
    if (!*row) break;
    if constexpr (std::is_void_v<Result>) {
      on_row(static_cast<const Statement&>(*this));
    } else if constexpr (std::is_same_v<Result, absl::Status>) {
      status = on_row(static_cast<const Statement&>(*this));
      if (!status.ok()) break;
    } else {
      static_assert(std::is_same_v<Result, absl::StatusOr<NextRow>>,
                    "on_row returns void, absl::Status or absl::StatusOr<NextRow>");
      absl::StatusOr<NextRow> next = on_row(static_cast<const Statement&>(*this));
      if (!next.ok()) status = next.status();
      if (!next.ok() || *next == NextRow::kStop) break;
    }
  }
  Reset();
  return status;
}

template <typename Read>
absl::StatusOr<std::vector<sqlite_internal::RowType<Read>>> Statement::ReadAll(Read&& read) {
  std::vector<sqlite_internal::RowType<Read>> out;
  absl::Status status = ForEachRow([&](const Statement& st) -> absl::Status {
    auto value = sqlite_internal::AsStatusOr(read(st));
    if (!value.ok()) return value.status();
    out.push_back(*std::move(value));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return out;
}

template <typename Read>
absl::StatusOr<std::optional<sqlite_internal::RowType<Read>>> Statement::ReadFirst(Read&& read) {
  std::optional<sqlite_internal::RowType<Read>> out;
  absl::Status status = ForEachRow([&](const Statement& st) -> absl::StatusOr<NextRow> {
    auto value = sqlite_internal::AsStatusOr(read(st));
    if (!value.ok()) return value.status();
    out = *std::move(value);
    return NextRow::kStop;
  });
  if (!status.ok()) return status;
  return out;
}

// Whether Connection::Open may create the database file.
enum class OpenMode { kCreate, kExisting };

class Connection {
 public:
  // Opens the database at `path` for reading and writing (creating it with
  // kCreate); ":memory:" for a private in-memory database. Sets WAL,
  // foreign keys, a busy timeout.
  // Errors: FAILED_PRECONDITION when the file can only be opened read-only
  // (its mode, owner or file system), found before anything is read: a
  // read-only connection to a WAL database would leave a read-only "-shm"
  // file behind, which keeps the database unwritable for every later
  // connection even once the file itself is writable again. DATA_LOSS for
  // a file that is not a database. INTERNAL otherwise (e.g. a missing
  // file with kExisting).
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& path,
                                                          OpenMode mode = OpenMode::kCreate);
  ~Connection();

  // Runs one or more statements with no parameters (DDL, PRAGMAs).
  absl::Status Exec(absl::string_view sql);
  // A cached prepared statement, reset and ready for binding. The pointer
  // stays valid for the connection's lifetime; do not hold it across another
  // Prepare of the same SQL.
  absl::StatusOr<Statement*> Prepare(const std::string& sql);
  int64_t LastInsertRowId() const;
  sqlite3* raw() { return db_; }

  // The SQL of every statement prepared on this connection so far.
  std::vector<std::string> PreparedSql() const;
  // SQLite's EXPLAIN QUERY PLAN for `sql`, one step per line (e.g. "SEARCH
  // events USING INDEX events_by_experiment (experiment_id=? AND id<?)").
  absl::StatusOr<std::string> QueryPlan(const std::string& sql);

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::map<std::string, std::unique_ptr<Statement>> cache_;
};

// Maps an SQLite result code (and message) to a canonical status:
// constraint violations FAILED_PRECONDITION, BUSY/LOCKED UNAVAILABLE,
// FULL/NOMEM RESOURCE_EXHAUSTED, READONLY FAILED_PRECONDITION (the database
// or its "-shm" file cannot be written: fixed by the operator, not by a
// retry), CORRUPT/NOTADB DATA_LOSS, anything else INTERNAL. The primary
// result code rides along (SqliteResultCode).
absl::Status SqliteError(sqlite3* db, int rc, absl::string_view context);

// The primary SQLite result code (e.g. SQLITE_READONLY) of a status made by
// SqliteError, or 0 for any other status.
int SqliteResultCode(const absl::Status& status);

// Whether `status` is a constraint SQLite enforced (UNIQUE, CHECK, ...):
// not every FAILED_PRECONDITION is one (a read-only database is too).
inline bool IsConstraintViolation(const absl::Status& status) {
  return SqliteResultCode(status) == SQLITE_CONSTRAINT;
}

}  // namespace skydeck::store
