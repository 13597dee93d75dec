#include "daemon/store/background_check.h"

#include <algorithm>
#include <memory>
#include <utility>

#include <sqlite3.h>

#include "absl/strings/str_join.h"

#include "common/log.h"
#include "daemon/store/integrity.h"

namespace skydeck::store {

BackgroundCheck::BackgroundCheck(std::string path, std::vector<std::string> tables,
                                 OnDamage on_damage, BeforeTable before_table)
    : path_(std::move(path)),
      on_damage_(std::move(on_damage)),
      before_table_(std::move(before_table)),
      started_(absl::Now()),
      pending_(std::move(tables)),
      thread_([this] { Run(); }) {}

BackgroundCheck::~BackgroundCheck() { Stop(); }

void BackgroundCheck::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    // An interrupt only ends the statement running when it is made: repeat
    // it until the thread notices, in case a table's check began just after.
    while (!done_) {
      if (db_ != nullptr) sqlite3_interrupt(db_->raw());
      mu_.AwaitWithTimeout(absl::Condition(&done_), absl::Milliseconds(10));
    }
  }
  absl::MutexLock join_lock(&join_mu_);
  if (thread_.joinable()) thread_.join();
}

std::string BackgroundCheck::Pending() const {
  absl::MutexLock lock(&mu_);
  return done_ ? "" : absl::StrJoin(pending_, ", ");
}

bool BackgroundCheck::WaitUntilDone(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&done_), timeout);
}

void BackgroundCheck::Run() {
  std::vector<std::string> tables;
  {
    absl::MutexLock lock(&mu_);
    tables = pending_;
  }
  absl::StatusOr<std::unique_ptr<Connection>> db = Connection::Open(path_, OpenMode::kExisting);
  if (!db.ok()) {
    LogWarn("database check of the history could not start",
            {{"db", path_}, {"error", std::string(db.status().message())}});
  } else {
    {
      absl::MutexLock lock(&mu_);
      db_ = db->get();
    }
    bool completed = true;
    for (const std::string& table : tables) {
      if (!CheckOne(**db, table)) {
        completed = false;
        break;
      }
    }
    if (completed) {
      LogInfo("database history checked", {{"db", path_},
                                           {"tables", absl::StrJoin(tables, ",")},
                                           {"took", absl::FormatDuration(absl::Now() - started_)}});
    }
  }
  absl::MutexLock lock(&mu_);
  db_ = nullptr;  // before the connection closes (Stop may interrupt it)
  done_ = true;
  // `db` closes after the lock is released, when nothing can reach it.
}

bool BackgroundCheck::CheckOne(Connection& db, const std::string& table) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return false;
  }
  if (before_table_) before_table_(table);
  absl::StatusOr<IntegrityReport> report = QuickCheckTables(db, {table}, absl::InfiniteDuration());
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      // An interrupted check says nothing about the table.
      LogInfo("database check of the history stopped",
              {{"db", path_}, {"unchecked", absl::StrJoin(pending_, ",")}});
      return false;
    }
  }
  if (!report.ok()) {
    if (absl::IsDataLoss(report.status())) {
      LogError("database damaged",
               {{"db", path_}, {"error", std::string(report.status().message())}});
      on_damage_(report.status());
    } else {
      LogWarn("database check of the history failed",
              {{"db", path_}, {"table", table}, {"error", std::string(report.status().message())}});
    }
    return false;
  }
  absl::MutexLock lock(&mu_);
  pending_.erase(std::remove(pending_.begin(), pending_.end(), table), pending_.end());
  return true;
}

}  // namespace skydeck::store
