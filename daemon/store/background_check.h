// File: daemon/store/background_check.h
//
// The part of the start-up integrity check (integrity.h) that runs while
// the daemon already serves: the history tables (kHistoryTables: jobs and
// events), checked whole on a connection of their own. At 100,000
// experiments and 1,000,000 jobs they are over 90% of the file and of the
// check's time (seconds to tens of seconds on a busy machine), which
// kept start-up above a second; the tables every request reads (meta,
// experiments, ...) are still checked before serving (Store::Open).
//
// Safety while it runs: writes are accepted, as they were for the tables
// a start-up check had no time for. What is already damaged stays so; a
// write that reaches a damaged page fails on it (SQLITE_CORRUPT, which
// the store takes for damage too). When the check finds damage, the
// `on_damage` callback runs (the store then refuses every write until it
// is restored), so a damaged database is not written further.
//
// The check holds one read transaction per table: the WAL cannot be
// checkpointed past it meanwhile (it grows until the table is done).
//
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#include "daemon/store/sqlite.h"

namespace skydeck::store {

class BackgroundCheck {
 public:
  // Called once, from the check's thread, with the DATA_LOSS QuickCheck
  // returned. It must not call back into this object.
  using OnDamage = std::function<void(const absl::Status& damage)>;

  using BeforeTable = std::function<void(const std::string& table)>;

  // Starts checking `tables` of the database at `path` (an existing file)
  // on a connection of its own, table by table, with no time limit.
  // `before_table` (tests; may be null) runs on the check's thread before
  // each table.
  BackgroundCheck(std::string path, std::vector<std::string> tables, OnDamage on_damage,
                  BeforeTable before_table = nullptr);
  ~BackgroundCheck();  // Stop()
  BackgroundCheck(const BackgroundCheck&) = delete;
  BackgroundCheck& operator=(const BackgroundCheck&) = delete;

  // Interrupts the check in progress and waits for its thread. What was
  // not checked stays unchecked (logged). Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_, join_mu_);

  // While the check runs: the tables not yet checked, e.g. "jobs, events";
  // "" once it finished (whatever it found) or stopped.
  std::string Pending() const ABSL_LOCKS_EXCLUDED(mu_);
  // When the check started.
  absl::Time started() const { return started_; }

  // Waits until the check finished or stopped, at most `timeout`; returns
  // whether it did. For tests and tools.
  bool WaitUntilDone(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  // Checks one table; false when the check is over (damage, an error, or
  // Stop).
  bool CheckOne(Connection& db, const std::string& table) ABSL_LOCKS_EXCLUDED(mu_);

  const std::string path_;
  const OnDamage on_damage_;
  const BeforeTable before_table_;
  const absl::Time started_;

  mutable absl::Mutex mu_;
  std::vector<std::string> pending_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // The check's connection while it is open (for sqlite3_interrupt).
  Connection* db_ ABSL_GUARDED_BY(mu_) = nullptr;
  absl::Mutex join_mu_;  // one Stop joins at a time
  std::thread thread_;   // last: starts once the members above exist
};

}  // namespace skydeck::store
