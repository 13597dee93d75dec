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

class Connection {
 public:
  // Opens (creating if needed) the database at `path`; ":memory:" for a
  // private in-memory database. Sets WAL, foreign keys, a busy timeout.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& path);
  ~Connection();

  // Runs one or more statements with no parameters (DDL, PRAGMAs).
  absl::Status Exec(absl::string_view sql);
  // A cached prepared statement, reset and ready for binding. The pointer
  // stays valid for the connection's lifetime; do not hold it across another
  // Prepare of the same SQL.
  absl::StatusOr<Statement*> Prepare(const std::string& sql);
  int64_t LastInsertRowId() const;
  int Changes() const;
  sqlite3* raw() { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::map<std::string, std::unique_ptr<Statement>> cache_;
};

// Maps an SQLite result code (and message) to a canonical status.
absl::Status SqliteError(sqlite3* db, int rc, absl::string_view context);

}  // namespace skydeck::store
