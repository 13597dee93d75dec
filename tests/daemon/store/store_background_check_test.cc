// The history's integrity check after start-up (background_check.h): Open
// returns before it, it says what it has yet to check, damage it finds
// makes the store refuse writes; and asking whether writes work never
// waits for a write in progress (health asks on every call).
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "store_fixture.h"

#include "daemon/store/migrations.h"
#include "daemon/store/store.h"

namespace skydeck::store {
namespace {

namespace fs = std::filesystem;

// Generous for a loaded machine, bounded so a regression fails, not hangs.
constexpr absl::Duration kDeadline = absl::Seconds(20);

// A closed database file with `n` experiments and one job.
void MakeDatabase(const std::string& path, int n) {
  auto store = Store::Open(path);
  REQUIRE(store.ok());
  for (int i = 0; i < n; ++i) {
    REQUIRE((*store)->CreateExperiment(StoreFixture::Spec(absl::StrCat("e", i)), "t").ok());
  }
  REQUIRE((*store)->CreateLaunchIntent(StoreFixture::Intent(1), "t").ok());
}

// Overwrites the b-tree header of `table`'s root page, as a bad sector
// would.
void DamageTable(const std::string& path, const std::string& table) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  auto read_int = [&](const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    int64_t value = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return value;
  };
  int64_t page_size = read_int("PRAGMA page_size");
  int64_t root =
      read_int(absl::StrCat("SELECT rootpage FROM sqlite_schema WHERE name = '", table, "'"));
  sqlite3_close(db);
  int fd = open(path.c_str(), O_WRONLY);
  REQUIRE(fd >= 0);
  std::string garbage(64, '\x5a');
  REQUIRE(pwrite(fd, garbage.data(), garbage.size(), (root - 1) * page_size) ==
          static_cast<ssize_t>(garbage.size()));
  close(fd);
}

OpenOptions CheckHistoryLater() {
  OpenOptions options;
  options.integrity_check_budget = absl::Seconds(30);
  options.check_history_in_background = true;
  return options;
}

TEST_CASE("the history is checked after Open returns, and the store says so meanwhile",
          "[store][safety]") {
  TempDir dir;
  const std::string db = dir.File("skydeck.db");
  MakeDatabase(db, 20);

  // The check waits at its first table until the test has looked.
  absl::Notification release;
  OpenOptions options = CheckHistoryLater();
  options.before_history_table = [&](const std::string&) {
    (void)release.WaitForNotificationWithTimeout(kDeadline);
  };
  auto opened = Store::Open(db, options);
  REQUIRE(opened.ok());
  Store& store = **opened;
  REQUIRE(store.history_check() != nullptr);

  // Serving: reads and writes work while the history is unchecked.
  CHECK(store.GetExperiment(1).ok());
  CHECK(store.CreateExperiment(StoreFixture::Spec("during"), "t").ok());
  CHECK(store.WriteProblem().empty());
  CHECK(store.history_check()->Pending() == "jobs, events");

  release.Notify();
  REQUIRE(store.history_check()->WaitUntilDone(kDeadline));
  CHECK(store.history_check()->Pending().empty());
  CHECK(store.WriteProblem().empty());
  CHECK(store.CreateExperiment(StoreFixture::Spec("after"), "t").ok());
}

TEST_CASE("damage the background check finds makes the store refuse writes", "[store][safety]") {
  TempDir dir;
  const std::string db = dir.File("skydeck.db");
  MakeDatabase(db, 20);
  DamageTable(db, "jobs");

  // Checked whole before serving (no background), it is refused at Open.
  OpenOptions whole;
  whole.integrity_check_budget = absl::Seconds(30);
  CHECK(absl::IsDataLoss(Store::Open(db, whole).status()));

  auto opened = Store::Open(db, CheckHistoryLater());
  REQUIRE(opened.ok());
  Store& store = **opened;
  REQUIRE(store.history_check()->WaitUntilDone(kDeadline));

  const std::string problem = store.WriteProblem();
  CHECK_THAT(problem, Catch::Contains("is damaged") &&
                          Catch::Contains("quick_check of table jobs") &&
                          Catch::Contains("--restore-from"));
  auto refused = store.CreateExperiment(StoreFixture::Spec("after-damage"), "t");
  CHECK(absl::IsDataLoss(refused.status()));
  CHECK_THAT(std::string(refused.status().message()), Catch::Contains("--restore-from"));
  // What the damage spares can still be read (e.g. to see what ran).
  CHECK(store.GetExperiment(1).ok());
  // Damage does not heal on asking again.
  CHECK(store.WriteProblem() == problem);
}

TEST_CASE("before a migration the history is checked before Open returns", "[store][safety]") {
  TempDir dir;
  const std::string db = dir.File("skydeck.db");
  MakeDatabase(db, 20);
  DamageTable(db, "jobs");
  // One migration behind: the next Open would run it.
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &raw) == SQLITE_OK);
  const std::string behind = absl::StrCat("PRAGMA user_version = ", LatestSchemaVersion() - 1);
  REQUIRE(sqlite3_exec(raw, behind.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(raw);

  auto refused = Store::Open(db, CheckHistoryLater());
  REQUIRE(absl::IsDataLoss(refused.status()));
  CHECK_THAT(std::string(refused.status().message()), Catch::Contains("table jobs"));
}

TEST_CASE("a write that meets a damaged page makes the store refuse every write",
          "[store][safety]") {
  TempDir dir;
  const std::string db = dir.File("skydeck.db");
  MakeDatabase(db, 20);
  DamageTable(db, "jobs");
  auto opened = Store::Open(db);  // no check: the damage is met by a write
  REQUIRE(opened.ok());
  Store& store = **opened;
  REQUIRE(store.CreateExperiment(StoreFixture::Spec("sound"), "t").ok());

  auto met = store.CreateLaunchIntent(StoreFixture::Intent(2), "t");
  REQUIRE_FALSE(met.ok());
  CHECK_THAT(store.WriteProblem(),
             Catch::Contains("is damaged") && Catch::Contains("--restore-from"));
  // Also a write to a sound table: the file as a whole is not trusted.
  CHECK(absl::IsDataLoss(store.CreateExperiment(StoreFixture::Spec("later"), "t").status()));
}

TEST_CASE("a store closed while its background check runs stops the check", "[store][safety]") {
  TempDir dir;
  const std::string db = dir.File("skydeck.db");
  MakeDatabase(db, 20);
  absl::Notification reached;
  OpenOptions options = CheckHistoryLater();
  options.before_history_table = [&](const std::string&) {
    if (!reached.HasBeenNotified()) reached.Notify();
  };
  auto opened = Store::Open(db, options);
  REQUIRE(opened.ok());
  REQUIRE(reached.WaitForNotificationWithTimeout(kDeadline));
  opened->reset();  // joins the check's thread; must neither hang nor crash
  // The file is still sound and opens again.
  CHECK(Store::Open(db, CheckHistoryLater()).ok());
}

TEST_CASE("asking whether writes work does not wait for a write in progress", "[store][safety]") {
  TempDir dir;
  const std::string db = dir.File("skydeck.db");
  auto opened = Store::Open(db);
  REQUIRE(opened.ok());
  Store& store = **opened;
  REQUIRE(store.CreateExperiment(StoreFixture::Spec("e1"), "t").ok());

  // A write holding the store's lock until released.
  absl::Notification in_transaction, release_writer;
  std::thread writer([&] {
    CHECK(store
              .UpdateSpec(
                  1,
                  [&](ExperimentSpec&) -> absl::Status {
                    in_transaction.Notify();
                    release_writer.WaitForNotification();
                    return absl::OkStatus();
                  },
                  "t")
              .ok());
  });
  in_transaction.WaitForNotification();
  std::string problem = "unanswered";
  absl::Notification answered;
  std::thread asker([&] {
    problem = store.WriteProblem();
    answered.Notify();
  });
  const bool finished = answered.WaitForNotificationWithTimeout(kDeadline);
  release_writer.Notify();
  writer.join();
  asker.join();
  CHECK(finished);
  CHECK(problem.empty());
}

}  // namespace
}  // namespace skydeck::store
