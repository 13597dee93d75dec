// Contracts of daemon/store/sqlite.h: binding and reading values, NULLs,
// how SQLite's failures map to status codes, the statement cache, the row
// readers and transactions.
#include "daemon/store/sqlite.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <sys/stat.h>
#include "store_fixture.h"

namespace skydeck::store {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<Connection> Memory() {
  auto db = Connection::Open(":memory:");
  REQUIRE(db.ok());
  REQUIRE((*db)
              ->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT, "
                     "u TEXT UNIQUE, CHECK (i IS NULL OR i >= 0))")
              .ok());
  return *std::move(db);
}

Statement* Prepare(Connection& db, const std::string& sql) {
  auto st = db.Prepare(sql);
  REQUIRE(st.ok());
  return *st;
}

// Whether any statement of `db` is mid-way through its rows (holding its
// read transaction open).
bool AnyStatementBusy(Connection& db) {
  for (sqlite3_stmt* st = sqlite3_next_stmt(db.raw(), nullptr); st != nullptr;
       st = sqlite3_next_stmt(db.raw(), st)) {
    if (sqlite3_stmt_busy(st)) return true;
  }
  return false;
}

void InsertNumbers(Connection& db, int n) {
  Statement* ins = Prepare(db, "INSERT INTO t (i) VALUES (?)");
  for (int i = 1; i <= n; ++i) {
    ins->Reset();
    ins->Bind(1, i);
    REQUIRE(ins->Run().ok());
  }
}

TEST_CASE("values bound are read back with their types", "[store][sqlite]") {
  auto db = Memory();
  Statement* ins = Prepare(*db, "INSERT INTO t (i, r, s, u) VALUES (?, ?, ?, ?)");
  ins->Bind(1, int64_t{1} << 40);
  ins->Bind(2, 2.5);
  ins->Bind(3, std::string("a\0b", 3));  // the length, not a C string's end
  ins->Bind(4, "unique");
  REQUIRE(ins->Run().ok());
  CHECK(db->LastInsertRowId() == 1);
  CHECK(sqlite3_changes(db->raw()) == 1);

  Statement* st = Prepare(*db, "SELECT i, r, s, u, typeof(r) FROM t");
  auto row = st->ReadFirst([](const Statement& r) {
    return std::make_tuple(r.ColumnInt(0), r.ColumnText(1), r.ColumnText(2), r.ColumnText(3),
                           r.ColumnText(4));
  });
  REQUIRE(row.ok());
  REQUIRE(row->has_value());
  auto [i, r, s, u, type] = **row;
  CHECK(i == int64_t{1} << 40);
  CHECK(r == "2.5");
  CHECK(type == "real");
  CHECK(s == std::string("a\0b", 3));
  CHECK(u == "unique");
}

TEST_CASE("bools bind as 0 and 1", "[store][sqlite]") {
  auto db = Memory();
  Statement* st = Prepare(*db, "SELECT ?, ?");
  st->Bind(1, true);
  st->Bind(2, false);
  auto row = st->ReadFirst(
      [](const Statement& r) { return std::make_pair(r.ColumnInt(0), r.ColumnInt(1)); });
  REQUIRE(row.ok());
  CHECK(**row == std::make_pair(int64_t{1}, int64_t{0}));
}

TEST_CASE("NULL binds from BindNull and an empty optional, and reads as empty", "[store][sqlite]") {
  auto db = Memory();
  Statement* st = Prepare(*db, "SELECT ?, ?, ?, ?");
  st->BindNull(1);
  st->Bind(2, std::optional<int64_t>());
  st->Bind(3, std::optional<int64_t>(7));
  // Parameter 4 is never bound: NULL too.
  auto row = st->ReadFirst([](const Statement& r) {
    CHECK(r.ColumnIsNull(0));
    CHECK(r.ColumnIsNull(1));
    CHECK_FALSE(r.ColumnIsNull(2));
    CHECK(r.ColumnIsNull(3));
    CHECK(r.ColumnInt(0) == 0);
    CHECK(r.ColumnText(0).empty());
    CHECK(r.ColumnOptionalInt(1) == std::nullopt);
    return r.ColumnOptionalInt(2);
  });
  REQUIRE(row.ok());
  CHECK(**row == std::optional<int64_t>(7));
}

TEST_CASE("Prepare caches statements and hands them back reset and unbound", "[store][sqlite]") {
  auto db = Memory();
  Statement* first = Prepare(*db, "SELECT ?");
  first->Bind(1, 42);
  REQUIRE(first->Step().value());  // mid-way: a row is pending
  Statement* again = Prepare(*db, "SELECT ?");
  CHECK(again == first);
  CHECK_FALSE(AnyStatementBusy(*db));
  auto value = again->ReadFirst([](const Statement& r) { return r.ColumnIsNull(0); });
  REQUIRE(value.ok());
  CHECK(**value);  // the old binding is gone
}

TEST_CASE("constraint violations are FAILED_PRECONDITION with SQLite's code", "[store][sqlite]") {
  auto db = Memory();
  Statement* ins = Prepare(*db, "INSERT INTO t (u) VALUES (?)");
  ins->Bind(1, "x");
  REQUIRE(ins->Run().ok());
  ins->Reset();
  ins->Bind(1, "x");
  absl::Status unique = ins->Run();
  CHECK(unique.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(IsConstraintViolation(unique));
  CHECK(SqliteResultCode(unique) == SQLITE_CONSTRAINT);  // not the extended _UNIQUE
  CHECK_THAT(std::string(unique.message()), Catch::Contains("t.u"));

  Statement* check = Prepare(*db, "INSERT INTO t (i) VALUES (-1)");
  CHECK(IsConstraintViolation(check->Run()));
  // After a failed step the statement is reset and runs again.
  CHECK(IsConstraintViolation(check->Run()));
}

TEST_CASE("SqliteError maps result codes to canonical codes", "[store][sqlite]") {
  struct Case {
    int rc;
    absl::StatusCode code;
  };
  for (Case c : {Case{SQLITE_CONSTRAINT_UNIQUE, absl::StatusCode::kFailedPrecondition},
                 Case{SQLITE_READONLY, absl::StatusCode::kFailedPrecondition},
                 Case{SQLITE_BUSY, absl::StatusCode::kUnavailable},
                 Case{SQLITE_LOCKED, absl::StatusCode::kUnavailable},
                 Case{SQLITE_FULL, absl::StatusCode::kResourceExhausted},
                 Case{SQLITE_NOMEM, absl::StatusCode::kResourceExhausted},
                 Case{SQLITE_CORRUPT, absl::StatusCode::kDataLoss},
                 Case{SQLITE_NOTADB, absl::StatusCode::kDataLoss},
                 Case{SQLITE_IOERR, absl::StatusCode::kInternal},
                 Case{SQLITE_ERROR, absl::StatusCode::kInternal}}) {
    absl::Status s = SqliteError(nullptr, c.rc, "context");
    CHECK(s.code() == c.code);
    CHECK(SqliteResultCode(s) == (c.rc & 0xff));
    CHECK_THAT(std::string(s.message()), Catch::StartsWith("context: "));
  }
  CHECK(SqliteResultCode(absl::FailedPreconditionError("not from SQLite")) == 0);
  CHECK_FALSE(IsConstraintViolation(SqliteError(nullptr, SQLITE_READONLY, "ro")));
}

TEST_CASE("errors in SQL text are INTERNAL from Prepare and Exec", "[store][sqlite]") {
  auto db = Memory();
  auto bad = db->Prepare("SELEKT 1");
  CHECK(bad.status().code() == absl::StatusCode::kInternal);
  CHECK_THAT(std::string(bad.status().message()), Catch::Contains("SELEKT"));
  absl::Status exec = db->Exec("CREATE TABLE t (x)");  // exists already
  CHECK(exec.code() == absl::StatusCode::kInternal);
  CHECK(SqliteResultCode(exec) == SQLITE_ERROR);
  CHECK_THAT(std::string(exec.message()), Catch::Contains("already exists"));
}

TEST_CASE("a write on a query-only connection is FAILED_PRECONDITION (READONLY)",
          "[store][sqlite]") {
  auto db = Memory();
  REQUIRE(db->Exec("PRAGMA query_only=1").ok());
  absl::Status write = Prepare(*db, "INSERT INTO t (i) VALUES (1)")->Run();
  CHECK(write.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(SqliteResultCode(write) == SQLITE_READONLY);
  CHECK_FALSE(IsConstraintViolation(write));
}

TEST_CASE("a writer locked out is UNAVAILABLE (BUSY), and can retry later", "[store][sqlite]") {
  TempDir dir;
  std::string path = (dir.path / "db").string();
  auto a = Connection::Open(path);
  REQUIRE(a.ok());
  REQUIRE((*a)->Exec("CREATE TABLE t (x)").ok());
  auto b = Connection::Open(path, OpenMode::kExisting);
  REQUIRE(b.ok());
  REQUIRE((*b)->Exec("PRAGMA busy_timeout=0").ok());  // fail at once, not in 5 s
  REQUIRE((*a)->Exec("BEGIN IMMEDIATE").ok());
  absl::Status busy = (*b)->Exec("BEGIN IMMEDIATE");
  CHECK(busy.code() == absl::StatusCode::kUnavailable);
  CHECK(SqliteResultCode(busy) == SQLITE_BUSY);
  REQUIRE((*a)->Exec("COMMIT").ok());
  CHECK((*b)->Exec("BEGIN IMMEDIATE; INSERT INTO t VALUES (1); COMMIT").ok());
}

TEST_CASE("Open refuses what it cannot use, with distinct codes", "[store][sqlite]") {
  TempDir dir;
  SECTION("a missing file with kExisting is INTERNAL, and is not created") {
    std::string path = (dir.path / "missing").string();
    auto db = Connection::Open(path, OpenMode::kExisting);
    CHECK(db.status().code() == absl::StatusCode::kInternal);
    CHECK_FALSE(fs::exists(path));
  }
  SECTION("a file that is not a database is DATA_LOSS") {
    std::string path = (dir.path / "text").string();
    std::ofstream(path) << std::string(4096, 'x');
    auto db = Connection::Open(path);
    CHECK(db.status().code() == absl::StatusCode::kDataLoss);
  }
  SECTION("a read-only file is FAILED_PRECONDITION before a -shm file is made") {
    if (geteuid() == 0) {
      SUCCEED("root writes whatever the file's mode: nothing to refuse here");
      return;
    }
    std::string path = (dir.path / "ro").string();
    { REQUIRE(Connection::Open(path).ok()); }
    REQUIRE(chmod(path.c_str(), 0444) == 0);
    auto db = Connection::Open(path, OpenMode::kExisting);
    CHECK(db.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(SqliteResultCode(db.status()) == SQLITE_READONLY);
    CHECK_FALSE(fs::exists(path + "-shm"));
  }
}

TEST_CASE("Open sets WAL and foreign keys", "[store][sqlite]") {
  TempDir dir;
  auto db = Connection::Open((dir.path / "db").string());
  REQUIRE(db.ok());
  auto mode = Prepare(**db, "PRAGMA journal_mode")->ReadFirst(TextColumn(0));
  REQUIRE(mode.ok());
  CHECK(**mode == "wal");
  auto fk = Prepare(**db, "PRAGMA foreign_keys")->ReadFirst(IntColumn(0));
  REQUIRE(fk.ok());
  CHECK(**fk == 1);
}

TEST_CASE("a rolled-back transaction leaves nothing; a committed one stays", "[store][sqlite]") {
  auto db = Memory();
  REQUIRE(db->Exec("BEGIN IMMEDIATE").ok());
  InsertNumbers(*db, 3);
  REQUIRE(db->Exec("ROLLBACK").ok());
  Statement* count = Prepare(*db, "SELECT count(*) FROM t");
  CHECK(count->ReadFirst(IntColumn(0))->value() == 0);
  REQUIRE(db->Exec("BEGIN IMMEDIATE").ok());
  InsertNumbers(*db, 2);
  REQUIRE(db->Exec("COMMIT").ok());
  CHECK(Prepare(*db, "SELECT count(*) FROM t")->ReadFirst(IntColumn(0))->value() == 2);
}

TEST_CASE("ReadAll reads every row in order; ReadFirst only the first", "[store][sqlite]") {
  auto db = Memory();
  InsertNumbers(*db, 5);
  Statement* st = Prepare(*db, "SELECT i FROM t ORDER BY i");
  auto all = st->ReadAll(IntColumn(0));
  REQUIRE(all.ok());
  CHECK(*all == std::vector<int64_t>{1, 2, 3, 4, 5});
  CHECK_FALSE(AnyStatementBusy(*db));

  auto first = Prepare(*db, "SELECT i FROM t ORDER BY i DESC")->ReadFirst(IntColumn(0));
  REQUIRE(first.ok());
  CHECK(*first == std::optional<int64_t>(5));
  CHECK_FALSE(AnyStatementBusy(*db));  // rows left unread, yet reset

  auto none = Prepare(*db, "SELECT i FROM t WHERE i > 99")->ReadFirst(IntColumn(0));
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  auto empty = Prepare(*db, "SELECT i FROM t WHERE i > 99")->ReadAll(IntColumn(0));
  REQUIRE(empty.ok());
  CHECK(empty->empty());
}

TEST_CASE("a reader's error ends the read and is returned", "[store][sqlite]") {
  auto db = Memory();
  InsertNumbers(*db, 5);
  int calls = 0;
  auto read = [&](const Statement& r) -> absl::StatusOr<int64_t> {
    ++calls;
    if (r.ColumnInt(0) == 3) return absl::DataLossError("row 3 is bad");
    return r.ColumnInt(0);
  };
  auto all = Prepare(*db, "SELECT i FROM t ORDER BY i")->ReadAll(read);
  CHECK(all.status().code() == absl::StatusCode::kDataLoss);
  CHECK(calls == 3);
  CHECK_FALSE(AnyStatementBusy(*db));
  auto first = Prepare(*db, "SELECT i FROM t WHERE i = 3")->ReadFirst(read);
  CHECK(first.status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("ForEachRow stops on kStop or an error, and reports SQLite's errors", "[store][sqlite]") {
  auto db = Memory();
  InsertNumbers(*db, 5);
  Statement* st = Prepare(*db, "SELECT i FROM t ORDER BY i");

  std::vector<int64_t> seen;
  absl::Status stopped = st->ForEachRow([&](const Statement& r) -> absl::StatusOr<NextRow> {
    seen.push_back(r.ColumnInt(0));
    return seen.size() == 2 ? NextRow::kStop : NextRow::kContinue;
  });
  CHECK(stopped.ok());
  CHECK(seen == std::vector<int64_t>{1, 2});
  CHECK_FALSE(AnyStatementBusy(*db));

  int64_t sum = 0;
  CHECK(st->ForEachRow([&](const Statement& r) { sum += r.ColumnInt(0); }).ok());
  CHECK(sum == 15);

  absl::Status refused = st->ForEachRow([&](const Statement& r) -> absl::Status {
    return r.ColumnInt(0) == 2 ? absl::AbortedError("enough") : absl::OkStatus();
  });
  CHECK(refused.code() == absl::StatusCode::kAborted);
  CHECK_FALSE(AnyStatementBusy(*db));

  // SQLite fails on the second row (its text is not JSON): the first was read.
  Statement* text = Prepare(*db, "INSERT INTO t (s) VALUES (?)");
  text->Bind(1, "[1]");
  REQUIRE(text->Run().ok());
  text->Reset();
  text->Bind(1, "not json");
  REQUIRE(text->Run().ok());
  std::vector<std::string> read;
  absl::Status failed =
      Prepare(*db, "SELECT json_array_length(s) FROM t WHERE s IS NOT NULL ORDER BY id")
          ->ForEachRow([&](const Statement& r) { read.push_back(r.ColumnText(0)); });
  CHECK(failed.code() == absl::StatusCode::kInternal);
  CHECK_THAT(std::string(failed.message()), Catch::Contains("JSON"));
  CHECK(read == std::vector<std::string>{"1"});
  CHECK_FALSE(AnyStatementBusy(*db));
}

}  // namespace
}  // namespace skydeck::store
