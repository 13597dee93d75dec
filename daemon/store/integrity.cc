#include "daemon/store/integrity.h"

#include <sqlite3.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace skydeck::store {
namespace {

// How many of SQLite's problem lines the error quotes.
constexpr int kProblemsShown = 5;

// What every request needs first; anything else (sqlite_sequence, tables
// of later migrations) after these, by name.
constexpr const char* kCheckOrder[] = {"meta", "flag_schemas", "experiments", "jobs", "events"};

absl::StatusOr<std::vector<std::string>> TablesInCheckOrder(Connection& db) {
  ASSIGN_OR_RETURN(Statement * st,
                   db.Prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name"));
  std::vector<std::string> names;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    names.push_back(st->ColumnText(0));
  }
  auto rank = [](const std::string& name) {
    auto it = std::find(std::begin(kCheckOrder), std::end(kCheckOrder), name);
    return static_cast<int>(it - std::begin(kCheckOrder));
  };
  std::stable_sort(names.begin(), names.end(),
                   [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
  return names;
}

// Calls sqlite3_interrupt on `db` at `deadline` unless finished first.
class Watchdog {
 public:
  Watchdog(sqlite3* db, absl::Time deadline)
      : thread_([this, db, deadline] {
          std::unique_lock<std::mutex> lock(mu_);
          if (!cv_.wait_until(lock, absl::ToChronoTime(deadline), [this] { return done_; })) {
            fired_ = true;
            sqlite3_interrupt(db);
          }
        }) {}
  // Joins before the connection can be used (or closed) by anyone else.
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  bool fired() {
    std::lock_guard<std::mutex> lock(mu_);
    return fired_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool fired_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

// Problem lines of `PRAGMA quick_check(table)`; {"ok"} when sound.
absl::StatusOr<std::vector<std::string>> CheckTable(Connection& db, const std::string& table) {
  // The table name is a schema name SQLite gave us; quoted all the same.
  std::string quoted = absl::StrCat("\"", table, "\"");
  std::string sql = absl::StrCat("PRAGMA quick_check(", quoted, ")");
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db.raw(), sql.c_str(), -1, &st, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db.raw(), rc, sql);
  std::vector<std::string> rows;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW && static_cast<int>(rows.size()) <= kProblemsShown) {
    const unsigned char* text = sqlite3_column_text(st, 0);
    rows.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
  }
  absl::Status status = rc == SQLITE_ROW || rc == SQLITE_DONE ? absl::OkStatus()
                                                              : SqliteError(db.raw(), rc, sql);
  sqlite3_finalize(st);
  RETURN_IF_ERROR(status);
  return rows;
}

}  // namespace

absl::StatusOr<IntegrityReport> QuickCheck(Connection& db, absl::Duration budget) {
  absl::Time start = absl::Now();
  absl::Time deadline = start + budget;
  IntegrityReport report;
  absl::StatusOr<std::vector<std::string>> tables = TablesInCheckOrder(db);
  if (!tables.ok()) {
    // Not even the schema can be read.
    return absl::DataLossError(absl::StrCat("reading the schema: ", tables.status().message()));
  }
  for (const std::string& table : *tables) {
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
