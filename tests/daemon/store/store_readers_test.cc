// Reads on the store's read-only connections (ReaderPool): they go on while
// a write transaction holds the writer, and while another read is slow.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "store_fixture.h"

#include "daemon/store/reader_pool.h"
#include "daemon/store/store.h"

namespace skydeck::store {
namespace {

namespace fs = std::filesystem;

// How long a read that should not wait may take before the test gives up:
// generous for a loaded machine, bounded so a regression fails, not hangs.
constexpr absl::Duration kReadDeadline = absl::Seconds(20);

// A database file of its own per test, removed afterwards.
struct TempDatabase {
  fs::path dir;
  std::string path;
  TempDatabase() {
    static int n = 0;
    dir = fs::temp_directory_path() / absl::StrCat("skydeck-readers-", getpid(), "-", n++);
    fs::remove_all(dir);
    fs::create_directories(dir);
    path = (dir / "skydeck.db").string();
  }
  ~TempDatabase() { fs::remove_all(dir); }
};

// Runs `read` on a thread of its own and reports whether it finished
// within kReadDeadline; `release` (which lets whatever blocks the read go)
// runs either way before the thread is joined, so nothing is left running.
bool FinishesWhileBlocked(const std::function<void()>& read, const std::function<void()>& release) {
  absl::Notification done;
  std::thread reader([&] {
    read();
    done.Notify();
  });
  bool finished = done.WaitForNotificationWithTimeout(kReadDeadline);
  release();
  reader.join();
  return finished;
}

TEST_CASE("reads complete while a write transaction holds the writer", "[store][readers]") {
  TempDatabase db;
  auto opened = Store::Open(db.path);
  REQUIRE(opened.ok());
  Store& store = **opened;
  auto created = store.CreateExperiment(StoreFixture::Spec("e1"), "t");
  REQUIRE(created.ok());
  const int64_t id = created->id;

  // A write that stays inside its transaction (under the store's lock, on
  // the writer connection, with the write lock of the file) until released.
  absl::Notification in_transaction, release_writer;
  std::thread writer([&] {
    auto updated = store.UpdateSpec(
        id,
        [&](ExperimentSpec& spec) -> absl::Status {
          spec.description = "changed";
          in_transaction.Notify();
          release_writer.WaitForNotification();
          return absl::OkStatus();
        },
        "t");
    CHECK(updated.ok());
  });
  in_transaction.WaitForNotification();

  absl::StatusOr<ExperimentRecord> during;
  absl::StatusOr<ExperimentPage> page;
  absl::StatusOr<std::vector<EventRecord>> events;
  bool finished = FinishesWhileBlocked(
      [&] {
        during = store.GetExperiment(id);
        page = store.ListExperiments(ExperimentQuery{});
        events = store.ListEvents(id, 0, 10);
      },
      [&] { release_writer.Notify(); });
  writer.join();
  REQUIRE(finished);
  REQUIRE(during.ok());
  // The read saw what was committed, not the open transaction's change.
  CHECK(during->spec.description != "changed");
  REQUIRE(page.ok());
  CHECK(page->experiments.size() == 1);
  CHECK(events.ok());

  // Once committed, a read on another connection sees the write at once.
  auto after = store.GetExperiment(id);
  REQUIRE(after.ok());
  CHECK(after->spec.description == "changed");
}

TEST_CASE("a read completes while another read is slow", "[store][readers]") {
  TempDatabase db;
  { REQUIRE(Store::Open(db.path).ok()); }  // creates and migrates the file
  auto pool = ReaderPool::Open(db.path, 2);
  REQUIRE(pool.ok());

  absl::Notification slow_started, release_slow;
  std::thread slow([&] {
    CHECK((*pool)
              ->Read([&](Connection&) {
                slow_started.Notify();
                release_slow.WaitForNotification();
                return absl::OkStatus();
              })
              .ok());
  });
  slow_started.WaitForNotification();
  absl::Status quick;
  bool finished = FinishesWhileBlocked(
      [&] {
        quick = (*pool)->Read([](Connection& c) -> absl::Status {
          auto st = c.Prepare("SELECT count(*) FROM experiments");
          if (!st.ok()) return st.status();
          return (*st)->ReadFirst(IntColumn(0)).status();
        });
      },
      [&] { release_slow.Notify(); });
  slow.join();
  CHECK(finished);
  CHECK(quick.ok());
}

TEST_CASE("a read connection refuses writes", "[store][readers]") {
  TempDatabase db;
  { REQUIRE(Store::Open(db.path).ok()); }
  auto pool = ReaderPool::Open(db.path, 1);
  REQUIRE(pool.ok());
  absl::Status wrote = (*pool)->Read(
      [](Connection& c) { return c.Exec("INSERT INTO meta (key, value) VALUES ('k', 'v')"); });
  CHECK(SqliteResultCode(wrote) == SQLITE_READONLY);
  // The failed statement ended its transaction: the connection serves the next read.
  CHECK((*pool)->Read([](Connection& c) { return c.Exec("SELECT 1"); }).ok());
}

TEST_CASE("an in-memory store reads through its writer connection", "[store][readers]") {
  StoreFixture f;
  int64_t id = f.Create("e1").id;
  auto got = f.store->GetExperiment(id);
  REQUIRE(got.ok());
  CHECK(got->spec.name == "e1");
}

}  // namespace
}  // namespace skydeck::store
