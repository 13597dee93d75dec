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
//   ASSIGN_OR_RETURN(bool row, st->Step());
//   if (row) name = st->ColumnText(0);
//
// Thread-safety: none. The Store serialises all use behind its mutex.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace skydeck::store {

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

  // Columns are 0-based, as in SQLite.
  int64_t ColumnInt(int col) const;
  std::string ColumnText(int col) const;
  bool ColumnIsNull(int col) const;
  std::optional<int64_t> ColumnOptionalInt(int col) const;

 private:
  sqlite3_stmt* stmt_;
};

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
