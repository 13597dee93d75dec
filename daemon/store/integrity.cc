#include "daemon/store/integrity.h"

#include <algorithm>
#include <thread>

#include <sqlite3.h>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"

#include "common/status_macros.h"

namespace skydeck::store {
namespace {

// How many of SQLite's problem lines the error quotes.
constexpr int kProblemsShown = 5;

// What every request needs first; anything else (sqlite_sequence, tables
// of later migrations) after these, by name.
constexpr const char* kCheckOrder[] = {"meta", "flag_schemas", "experiments", "jobs", "events"};

// Calls sqlite3_interrupt on `db` at `deadline` unless finished first.
class Watchdog {
 public:
  Watchdog(sqlite3* db, absl::Time deadline)
      : thread_([this, db, deadline] {
          absl::MutexLock lock(&mu_);
          if (!mu_.AwaitWithDeadline(absl::Condition(&done_), deadline)) {
            fired_ = true;
            sqlite3_interrupt(db);
          }
        }) {}
  // Joins before the connection can be used (or closed) by anyone else.
  ~Watchdog() {
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
    }
    thread_.join();
  }
  bool fired() {
    absl::MutexLock lock(&mu_);
    return fired_;
  }

 private:
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool fired_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts once the members above exist
};

// Problem lines of `PRAGMA quick_check(table)`; {"ok"} when sound.
absl::StatusOr<std::vector<std::string>> CheckTable(Connection& db, const std::string& table) {
  // The table name is a schema name SQLite gave us; quoted all the same.
  std::string quoted = absl::StrCat("\"", table, "\"");
  std::string sql = absl::StrCat("PRAGMA quick_check(", quoted, ")");
  ASSIGN_OR_RETURN(Statement * st, db.Prepare(sql));
  std::vector<std::string> rows;
  RETURN_IF_ERROR(st->ForEachRow([&](const Statement& row) -> absl::StatusOr<NextRow> {
    rows.push_back(row.ColumnText(0));
    // One more than is shown, so the caller can tell there are more.
    return static_cast<int>(rows.size()) > kProblemsShown ? NextRow::kStop : NextRow::kContinue;
  }));
  return rows;
}

absl::StatusOr<std::vector<std::string>> ReadTableNames(Connection& db) {
  ASSIGN_OR_RETURN(Statement * st,
                   db.Prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name"));
  return st->ReadAll(TextColumn(0));
}

}  // namespace

absl::StatusOr<std::vector<std::string>> TablesInCheckOrder(Connection& db) {
  absl::StatusOr<std::vector<std::string>> names = ReadTableNames(db);
  if (!names.ok()) {
    // Not even the schema can be read.
    return absl::DataLossError(absl::StrCat("reading the schema: ", names.status().message()));
  }
  auto rank = [](const std::string& name) {
    auto it = std::find(std::begin(kCheckOrder), std::end(kCheckOrder), name);
    return static_cast<int>(it - std::begin(kCheckOrder));
  };
  std::stable_sort(names->begin(), names->end(),
                   [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
  return names;
}

absl::StatusOr<IntegrityReport> QuickCheck(Connection& db, absl::Duration budget) {
  ASSIGN_OR_RETURN(std::vector<std::string> tables, TablesInCheckOrder(db));
  return QuickCheckTables(db, tables, budget);
}

absl::StatusOr<IntegrityReport> QuickCheckTables(Connection& db,
                                                 const std::vector<std::string>& tables,
                                                 absl::Duration budget) {
  absl::Time start = absl::Now();
  // Saturates: an infinite budget is a deadline that never comes.
  absl::Time deadline = start + budget;
  IntegrityReport report;
  for (const std::string& table : tables) {
    if (absl::Now() >= deadline) {
      report.unchecked.push_back(table);
      continue;
    }
    absl::StatusOr<std::vector<std::string>> rows;
    bool interrupted = false;
    {
      Watchdog watchdog(db.raw(), deadline);
      rows = CheckTable(db, table);
      interrupted = watchdog.fired();
    }
    if (interrupted) {
      report.unchecked.push_back(table);
      continue;
    }
    if (!rows.ok()) {
      // A file too damaged to walk fails the check itself.
      return absl::DataLossError(
          absl::StrCat("quick_check of table ", table, " failed: ", rows.status().message()));
    }
    if (rows->size() != 1 || (*rows)[0] != "ok") {
      bool more = static_cast<int>(rows->size()) > kProblemsShown;
      if (more) rows->resize(kProblemsShown);
      return absl::DataLossError(absl::StrCat("quick_check of table ", table, " found: ",
                                              absl::StrJoin(*rows, "; "), more ? "; ..." : ""));
    }
    report.checked.push_back(table);
  }
  report.took = absl::Now() - start;
  return report;
}

}  // namespace skydeck::store
