// The background counts behind GetHealth and skydeck_live_jobs: when they
// are recounted (a fake clock and counter), and that the store's counter
// counts on a read connection, never waiting for the writer.
#include "daemon/store/state_counts.h"

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "absl/synchronization/notification.h"
#include "store_fixture.h"

#include "daemon/store/store.h"

namespace skydeck::store {
namespace {

// A counter that answers `experiments` IDLE experiments and counts its calls.
struct FakeSource {
  int64_t experiments = 0;
  int64_t revision = 0;
  int calls = 0;
  absl::Time now = absl::FromUnixSeconds(1000);

  StateCounts Make(absl::Duration interval) {
    return StateCounts(
        [this]() -> absl::StatusOr<StateCountsSnapshot> {
          ++calls;
          StateCountsSnapshot s;
          s.experiments_by_state[ObservedState::kIdle] = experiments;
          return s;
        },
        [this] { return revision; }, interval, [this] { return now; });
  }
};

TEST_CASE("StateCounts: Latest counts once, then answers from memory") {
  FakeSource src;
  src.experiments = 3;
  StateCounts counts = src.Make(absl::Seconds(2));
  for (int i = 0; i < 100; ++i) {
    auto latest = counts.Latest();
    REQUIRE(latest.ok());
    CHECK(latest->experiments_by_state.at(ObservedState::kIdle) == 3);
  }
  CHECK(src.calls == 1);
  CHECK(counts.counts_taken() == 1);
}

TEST_CASE("StateCounts: recounts only after the interval and a change") {
  FakeSource src;
  StateCounts counts = src.Make(absl::Seconds(2));
  REQUIRE(counts.Latest().ok());
  REQUIRE(src.calls == 1);

  // A change, but the interval has not passed: the old counts stand.
  src.experiments = 5;
  src.revision = 7;
  src.now += absl::Seconds(1);
  auto due = counts.RefreshIfDue();
  REQUIRE(due.ok());
  CHECK_FALSE(*due);
  CHECK(counts.Latest()->experiments_by_state.at(ObservedState::kIdle) == 0);

  // The interval passed: recounted, and the answer says when.
  src.now += absl::Seconds(1);
  due = counts.RefreshIfDue();
  REQUIRE(due.ok());
  CHECK(*due);
  CHECK(counts.Latest()->experiments_by_state.at(ObservedState::kIdle) == 5);
  CHECK(counts.Latest()->counted_at == src.now);
  CHECK(src.calls == 2);

  // Nothing changed since: however long it idles, no count.
  src.now += absl::Hours(1);
  due = counts.RefreshIfDue();
  REQUIRE(due.ok());
  CHECK_FALSE(*due);
  CHECK(src.calls == 2);
}

TEST_CASE("StateCounts: the store's count does not wait for the writer") {
  char dir_template[] = "/tmp/skydeck-state-counts-XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  const std::string path = std::string(dir_template) + "/skydeck.db";
  {
    auto opened = Store::Open(path);
    REQUIRE(opened.ok());
    std::unique_ptr<Store> store = std::move(*opened);
    for (int i = 0; i < 5; ++i)
      REQUIRE(store->CreateExperiment(StoreFixture::Spec("e" + std::to_string(i)), "t").ok());
    REQUIRE(store->SoftDelete(2, "tester").ok());
    REQUIRE(store->CreateLaunchIntent(StoreFixture::Intent(1), "t").ok());
    StateCounts::Counter count = StateCounts::CountStore(store.get());

    // A write that holds the store's lock and the file's write lock until
    // released: the count must finish meanwhile, from the last commit.
    absl::Notification in_transaction, release_writer;
    std::thread writer([&] {
      CHECK(store
                ->UpdateSpec(
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
    absl::StatusOr<StateCountsSnapshot> counted;
    absl::Notification counted_done;
    std::thread counter([&] {
      counted = count();
      counted_done.Notify();
    });
    const bool finished = counted_done.WaitForNotificationWithTimeout(absl::Seconds(20));
    release_writer.Notify();
    writer.join();
    counter.join();
    REQUIRE(finished);
    REQUIRE(counted.ok());
    // The deleted experiment is not counted; the launch intent is live.
    CHECK(counted->experiments_by_state.at(ObservedState::kIdle) == 4);
    CHECK(counted->live_jobs_by_status.at(JobStatus::kLaunching) == 1);

    // A later commit is counted (no snapshot left open between counts).
    REQUIRE(store->CreateExperiment(StoreFixture::Spec("later"), "t").ok());
    counted = count();
    REQUIRE(counted.ok());
    CHECK(counted->experiments_by_state.at(ObservedState::kIdle) == 5);
  }
  std::filesystem::remove_all(dir_template);
}

TEST_CASE("StateCounts: the thread recounts after a change, and Stop ends it") {
  StoreFixture f;
  f.Create("a");
  int64_t revision = 1;
  absl::Mutex mu;
  StateCounts counts(
      StateCounts::CountStore(f.store.get()),
      [&] {
        absl::MutexLock lock(&mu);
        return revision;
      },
      absl::Milliseconds(20));
  counts.Start();
  CHECK(counts.Latest()->experiments_by_state.at(ObservedState::kIdle) == 1);
  f.Create("b");
  {
    absl::MutexLock lock(&mu);
    revision = 2;
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (counts.Latest()->experiments_by_state.at(ObservedState::kIdle) != 2 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  CHECK(counts.Latest()->experiments_by_state.at(ObservedState::kIdle) == 2);
  counts.Stop();
  counts.Stop();  // idempotent
}

}  // namespace
}  // namespace skydeck::store
