// File: daemon/store/integrity.h
//
// The start-up check that a database file is sound. A damaged page is
// otherwise found by whichever request first reads it, and from then on
// every call touching it fails with "database disk image is malformed"
// (health included, since it counts experiments); refusing to start with
// the reason, and the way to restore, is better than a daemon that serves
// errors.
//
// The check is SQLite's `PRAGMA quick_check(TABLE)`, table by table: every
// page of the table and its indexes is read and its b-tree structure
// verified (page types, cell bounds, key order, overflow chains), and
// every row's record format, NOT NULL, CHECK and STRICT types; unlike
// `integrity_check` it does not compare each index with its table, and
// table by table it does not account for free-list and unused pages.
// A full check grows with the file (bench/README.md: 6-23 s for 1.2 GB,
// 100,000 experiments and 1,000,000 jobs, on a loaded 2-core machine), so
// it is bounded: tables are checked in order of what every request needs
// (meta, flag_schemas, experiments, then jobs, then the events history)
// until the budget is spent; a check running at the deadline is
// interrupted (sqlite3_interrupt from a watchdog: the progress handler is
// not called inside SQLite's b-tree walk) and its table reported
// unchecked, like the tables not reached.
//
//   ASSIGN_OR_RETURN(IntegrityReport report, QuickCheck(db, absl::Seconds(10)));
//   if (!report.unchecked.empty()) LogWarn(...);
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

#include "daemon/store/sqlite.h"

namespace skydeck::store {

struct IntegrityReport {
  // Tables checked whole (with their indexes), in check order.
  std::vector<std::string> checked;
  // Tables not checked, or not to the end, within the budget.
  std::vector<std::string> unchecked;
  absl::Duration took;
};

// The history: tables that grow with every job and event (at 100,000
// experiments and 1,000,000 jobs over 90% of the file and of the check's
// time). A daemon checks them after it starts serving
// (background_check.h); the other tables before.
inline constexpr const char* kHistoryTables[] = {"jobs", "events"};

// The tables of `db`, in the check order described above.
// Errors: DATA_LOSS when the schema cannot be read.
absl::StatusOr<std::vector<std::string>> TablesInCheckOrder(Connection& db);

// QuickCheck()
//
// Checks the tables of `db` as described above within `budget`.
// Errors: DATA_LOSS naming the table and the first problems SQLite found
// (also when the file is too damaged to walk).
absl::StatusOr<IntegrityReport> QuickCheck(Connection& db, absl::Duration budget);
// The same for `tables` only, in their order.
absl::StatusOr<IntegrityReport> QuickCheckTables(Connection& db,
                                                 const std::vector<std::string>& tables,
                                                 absl::Duration budget);

}  // namespace skydeck::store
