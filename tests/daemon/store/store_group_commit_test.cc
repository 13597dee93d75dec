// Group commit (store.h): concurrent writes share one transaction, each in
// its own savepoint, and each returns only once that transaction committed.
//
// A write is held inside its body (an UpdateSpec mutation waiting on a
// notification) while the writes under test queue up behind it; released,
// it commits alone, and the queued writes then form the next batch, in the
// order they queued.
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

#include "daemon/store/store.h"
#include "tests/daemon/store/store_fixture.h"

namespace skydeck::store {
namespace {

constexpr absl::Duration kWait = absl::Seconds(30);

// Records every revision the store announces.
struct ListenerLog {
  absl::Mutex mu;
  std::vector<int64_t> revisions ABSL_GUARDED_BY(mu);

  // Makes this the store's commit listener.
  void Listen(Store& store) {
    store.SetCommitListener([this](int64_t revision) {
      absl::MutexLock lock(&mu);
      revisions.push_back(revision);
    });
  }

  std::vector<int64_t> Revisions() {
    absl::MutexLock lock(&mu);
    return revisions;
  }
};

// A write held in its body until Release(): the writes started meanwhile
// queue behind it.
class HeldWrite {
 public:
  HeldWrite(Store& store, int64_t id) {
    thread_ = std::thread([&store, id, this] {
      result_ = store
                    .UpdateSpec(
                        id,
                        [this](ExperimentSpec& spec) {
                          entered_.Notify();
                          release_.WaitForNotification();
                          spec.description = "held";
                          return absl::OkStatus();
                        },
                        "tester")
                    .status();
    });
    entered_.WaitForNotification();
  }
  absl::Status Release() {
    release_.Notify();
    thread_.join();
    return result_;
  }

 private:
  absl::Notification entered_, release_;
  absl::Status result_;
  std::thread thread_;
};

// Starts `write` on its own thread once the previous ones have queued, so
// the queue holds them in this order.
class QueuedWrites {
 public:
  explicit QueuedWrites(Store& store) : store_(store) {}
  ~QueuedWrites() { Join(); }
  template <typename Write>
  void Add(Write write) {
    threads_.emplace_back(std::move(write));
    REQUIRE(store_.AwaitQueuedWritesForTesting(threads_.size(), kWait));
  }
  void Join() {
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

 private:
  Store& store_;
  std::vector<std::thread> threads_;
};

TEST_CASE("writes queued behind a write commit together, each acknowledged after the commit",
          "[store][group_commit]") {
  StoreFixture f;
  ListenerLog log;
  log.Listen(*f.store);
  ExperimentRecord held = f.Create("held");
  int64_t before = f.store->TransactionCountForTesting();

  HeldWrite first(*f.store, held.id);
  absl::StatusOr<ExperimentRecord> a, b, c;
  {
    QueuedWrites queued(*f.store);
    queued.Add([&] { a = f.store->CreateExperiment(StoreFixture::Spec("a"), "tester"); });
    queued.Add([&] { b = f.store->CreateExperiment(StoreFixture::Spec("b"), "tester"); });
    queued.Add([&] { c = f.store->CreateExperiment(StoreFixture::Spec("c"), "tester"); });
    REQUIRE(first.Release().ok());
    queued.Join();
  }
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(c.ok());
  // The held write alone, then one transaction for the three.
  CHECK(f.store->TransactionCountForTesting() - before == 2);
  // In the order they queued.
  CHECK(a->id < b->id);
  CHECK(b->id < c->id);
  // Announced once per transaction: the batch with its newest event.
  auto latest = f.store->LatestRevision();
  REQUIRE(latest.ok());
  std::vector<int64_t> revisions = log.Revisions();
  REQUIRE(revisions.size() == 3);  // "held"'s create, the held write, the batch
  CHECK(revisions[2] == *latest);
  CHECK(revisions[1] < revisions[2]);
  for (const char* name : {"a", "b", "c"}) CHECK(f.store->FindExperimentByName(name).ok());
}

TEST_CASE("the writer's stats count transactions, the writes they carry and the time held",
          "[store][group_commit]") {
  StoreFixture f;
  ExperimentRecord held = f.Create("held");
  Store::WriteStats before = f.store->write_stats();

  HeldWrite first(*f.store, held.id);
  const absl::Time entered = absl::Now();  // the writer is busy from here
  {
    QueuedWrites queued(*f.store);
    queued.Add([&] { (void)f.store->CreateExperiment(StoreFixture::Spec("a"), "tester"); });
    queued.Add([&] { (void)f.store->CreateExperiment(StoreFixture::Spec("b"), "tester"); });
    const absl::Duration held_for = absl::Now() - entered;
    REQUIRE(first.Release().ok());
    queued.Join();
    Store::WriteStats after = f.store->write_stats();
    CHECK(after.transactions - before.transactions == 2);  // the held write, then the batch
    CHECK(after.writes - before.writes == 3);
    CHECK(after.busy - before.busy >= held_for);
  }
}

TEST_CASE("a write that fails in a batch is undone alone and gets its own error",
          "[store][group_commit]") {
  StoreFixture f;
  ExperimentRecord held = f.Create("held");
  f.Create("taken");
  int64_t before = f.store->TransactionCountForTesting();

  HeldWrite first(*f.store, held.id);
  absl::StatusOr<ExperimentRecord> a, dup, broken, d;
  {
    QueuedWrites queued(*f.store);
    queued.Add([&] { a = f.store->CreateExperiment(StoreFixture::Spec("a"), "tester"); });
    queued.Add([&] { dup = f.store->CreateExperiment(StoreFixture::Spec("taken"), "tester"); });
    // Fails after it wrote its experiment and its Created event: its
    // extra event names an experiment that does not exist.
    queued.Add([&] {
      broken = f.store->CreateExperiment(
          StoreFixture::Spec("broken"), "tester", WriteMode::kCommit,
          {NewEvent{999999, 0, "FlagWarning", "Test", "no such experiment", "tester"}});
    });
    queued.Add([&] { d = f.store->CreateExperiment(StoreFixture::Spec("d"), "tester"); });
    REQUIRE(first.Release().ok());
    queued.Join();
  }
  CHECK(f.store->TransactionCountForTesting() - before == 2);
  REQUIRE(a.ok());
  REQUIRE(d.ok());
  CHECK(dup.status().code() == absl::StatusCode::kAlreadyExists);
  CHECK_FALSE(broken.ok());
  CHECK(f.store->FindExperimentByName("a").ok());
  CHECK(f.store->FindExperimentByName("d").ok());
  CHECK(f.store->FindExperimentByName("broken").status().code() == absl::StatusCode::kNotFound);
  // Nothing of the failed write is left: not its Created event either.
  auto events = f.store->ListEvents(0, 0, 100);
  REQUIRE(events.ok());
  for (const EventRecord& e : *events) CHECK(e.message.find("no such") == std::string::npos);
  int created = 0;
  for (const EventRecord& e : *events) created += e.type == "Created" ? 1 : 0;
  CHECK(created == 4);  // held, taken, a, d
}

TEST_CASE("a dry run in a batch is rolled back to its savepoint", "[store][group_commit]") {
  StoreFixture f;
  ListenerLog log;
  log.Listen(*f.store);
  ExperimentRecord held = f.Create("held");

  HeldWrite first(*f.store, held.id);
  absl::StatusOr<ExperimentRecord> dry, real;
  {
    QueuedWrites queued(*f.store);
    queued.Add([&] {
      dry = f.store->CreateExperiment(StoreFixture::Spec("x"), "tester", WriteMode::kDryRun);
    });
    // Would be ALREADY_EXISTS had the dry run been kept.
    queued.Add([&] { real = f.store->CreateExperiment(StoreFixture::Spec("x"), "tester"); });
    REQUIRE(first.Release().ok());
    queued.Join();
  }
  REQUIRE(dry.ok());
  CHECK(dry->id == 0);
  REQUIRE(real.ok());
  auto latest = f.store->LatestRevision();
  REQUIRE(latest.ok());
  std::vector<int64_t> revisions = log.Revisions();
  REQUIRE(!revisions.empty());
  CHECK(revisions.back() == *latest);
}

TEST_CASE("a failed commit fails every write of the batch and announces nothing",
          "[store][group_commit]") {
  StoreFixture f;
  ListenerLog log;
  ExperimentRecord held = f.Create("held");
  log.Listen(*f.store);
  f.store->FailCommitsForTesting(true);

  HeldWrite first(*f.store, held.id);
  absl::StatusOr<ExperimentRecord> a, b;
  absl::StatusOr<ExperimentRecord> dry;
  {
    QueuedWrites queued(*f.store);
    queued.Add([&] { a = f.store->CreateExperiment(StoreFixture::Spec("a"), "tester"); });
    queued.Add([&] {
      dry = f.store->CreateExperiment(StoreFixture::Spec("y"), "tester", WriteMode::kDryRun);
    });
    queued.Add([&] { b = f.store->CreateExperiment(StoreFixture::Spec("b"), "tester"); });
    CHECK_FALSE(first.Release().ok());
    queued.Join();
  }
  CHECK_FALSE(a.ok());
  CHECK_FALSE(dry.ok());
  CHECK_FALSE(b.ok());
  CHECK(log.Revisions().empty());
  f.store->FailCommitsForTesting(false);
  CHECK(f.store->FindExperimentByName("a").status().code() == absl::StatusCode::kNotFound);
  CHECK(f.store->FindExperimentByName("b").status().code() == absl::StatusCode::kNotFound);
  // The store writes again once commits succeed.
  CHECK(f.store->CreateExperiment(StoreFixture::Spec("a"), "tester").ok());
}

TEST_CASE("many concurrent writers: every write lands once, the last revision is announced",
          "[store][group_commit]") {
  StoreFixture f;
  ListenerLog log;
  log.Listen(*f.store);
  constexpr int kThreads = 8, kPerThread = 100;
  std::vector<std::thread> threads;
  std::vector<std::vector<int64_t>> ids(kThreads);
  int64_t before = f.store->TransactionCountForTesting();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = f.store->CreateExperiment(
            StoreFixture::Spec("w" + std::to_string(t) + "-" + std::to_string(i)), "tester");
        if (r.ok()) ids[t].push_back(r->id);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::set<int64_t> all;
  for (const auto& v : ids) all.insert(v.begin(), v.end());
  CHECK(all.size() == kThreads * kPerThread);
  CHECK(f.store->TransactionCountForTesting() - before <= kThreads * kPerThread);
  auto live = f.store->ListLiveExperimentIds();
  REQUIRE(live.ok());
  CHECK(live->size() == all.size());
  auto latest = f.store->LatestRevision();
  REQUIRE(latest.ok());
  std::vector<int64_t> revisions = log.Revisions();
  REQUIRE(!revisions.empty());
  CHECK(*std::max_element(revisions.begin(), revisions.end()) == *latest);
}

}  // namespace
}  // namespace skydeck::store
