// Bulk changes: one transaction, all or nothing, and per experiment the
// same result as the one-at-a-time path.
#include <unistd.h>

#include <filesystem>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "store_fixture.h"

#include "daemon/store/store.h"

namespace skydeck::store {
namespace {

ExperimentSelection Filtered(ExperimentFilter filter = {}) { return {{}, std::move(filter)}; }
ExperimentSelection Ids(std::vector<int64_t> ids) { return {std::move(ids), std::nullopt}; }

// Every experiment (deleted ones included) and every event, to compare a
// whole store before and after.
struct Snapshot {
  std::vector<ExperimentRecord> experiments;
  std::vector<EventRecord> events;
};
Snapshot Take(Store& store) {
  Snapshot s;
  ExperimentQuery q;
  q.include_deleted = true;
  q.limit = 1'000'000;
  s.experiments = store.ListExperiments(q)->experiments;
  s.events = *store.EventsAfter(0, 0, 1'000'000);
  return s;
}
void CheckSame(const Snapshot& a, const Snapshot& b) {
  REQUIRE(a.experiments.size() == b.experiments.size());
  for (size_t i = 0; i < a.experiments.size(); ++i) {
    const ExperimentRecord &x = a.experiments[i], &y = b.experiments[i];
    INFO("experiment " << x.id);
    CHECK(x.spec == y.spec);
    CHECK(x.generation == y.generation);
    CHECK(x.run_after_job_id == y.run_after_job_id);
    CHECK(x.updated_ms == y.updated_ms);
    CHECK(x.deleted_ms == y.deleted_ms);
  }
  REQUIRE(a.events.size() == b.events.size());
  for (size_t i = 0; i < a.events.size(); ++i) {
    INFO("event " << a.events[i].id);
    CHECK(a.events[i].experiment_id == b.events[i].experiment_id);
    CHECK(a.events[i].type == b.events[i].type);
    CHECK(a.events[i].reason == b.events[i].reason);
    CHECK(a.events[i].message == b.events[i].message);
    CHECK(a.events[i].actor == b.events[i].actor);
  }
}

// Experiments in every situation a desired-state change treats apart:
// stopped and idle, running with a live job, running with its job ended,
// terminated, deleted; two label values.
struct Zoo : StoreFixture {
  void Build() {
    auto make = [&](const std::string& name, const std::string& sweep, DesiredState desired) {
      ExperimentSpec spec = Spec(name);
      spec.labels = {{"sweep", sweep}};
      spec.desired_state = desired;
      auto r = store->CreateExperiment(spec, "tester");
      REQUIRE(r.ok());
      return r->id;
    };
    make("idle", "a", DesiredState::kStopped);
    int64_t live = make("live", "a", DesiredState::kRunning);
    REQUIRE(store->CreateLaunchIntent(Intent(live), "r").ok());
    int64_t done = make("done", "b", DesiredState::kRunning);
    auto job = store->CreateLaunchIntent(Intent(done), "r");
    REQUIRE(job.ok());
    EndJob(job->id, JobStatus::kSucceeded);
    make("ended", "b", DesiredState::kTerminated);
    int64_t gone = make("gone", "a", DesiredState::kStopped);
    REQUIRE(store->SoftDelete(gone, "tester").ok());
    now_ms += 1000;
  }
};

// The one-at-a-time path the service used before: UpdateSpec, or
// RequestRun for `start` on an experiment already RUNNING.
void OneByOne(Store& store, DesiredState desired, const std::string& reason) {
  std::vector<int64_t> ids = *store.ListLiveExperimentIds();
  for (int64_t id : ids) {
    ExperimentRecord r = *store.GetExperiment(id);
    if (desired == DesiredState::kRunning && r.spec.desired_state == DesiredState::kRunning) {
      REQUIRE(store.RequestRun(id, "bulk", reason).ok());
    } else {
      REQUIRE(store
                  .UpdateSpec(
                      id,
                      [&](ExperimentSpec& s) {
                        s.desired_state = desired;
                        return absl::OkStatus();
                      },
                      "bulk", reason)
                  .ok());
    }
  }
}

TEST_CASE("a bulk desired-state change writes what one change per experiment writes",
          "[store][bulk]") {
  for (DesiredState desired :
       {DesiredState::kRunning, DesiredState::kStopped, DesiredState::kTerminated}) {
    INFO("desired " << Name(desired));
    Zoo bulk, single;
    bulk.Build();
    single.Build();
    auto result = bulk.store->SetDesiredStates(Filtered(), desired, "bulk", "why");
    REQUIRE(result.ok());
    OneByOne(*single.store, desired, "why");
    CheckSame(Take(*bulk.store), Take(*single.store));
    // Four live experiments; one of them is already so each time (idle
    // for STOPPED, ended for TERMINATED, live for RUNNING: it runs).
    CHECK(result->ids.size() == 4);
    CHECK(result->experiments.size() == 4);
    CHECK(result->changed_ids.size() == 3);
  }
}

TEST_CASE_METHOD(Zoo, "a bulk change is one transaction and one commit", "[store][bulk]") {
  Build();
  std::vector<int64_t> announced;
  store->SetCommitListener([&](int64_t revision) { announced.push_back(revision); });
  int64_t transactions = store->TransactionCountForTesting();
  auto result = store->SetDesiredStates(Filtered(), DesiredState::kStopped, "bulk", "");
  REQUIRE(result.ok());
  CHECK(store->TransactionCountForTesting() == transactions + 1);
  REQUIRE(announced.size() == 1);
  CHECK(announced[0] == *store->LatestRevision());
  // Nothing to change: nothing written, nothing announced.
  auto again = store->SetDesiredStates(Filtered(), DesiredState::kStopped, "bulk", "");
  REQUIRE(again.ok());
  CHECK(again->changed_ids.empty());
  CHECK(announced.size() == 1);
}

TEST_CASE_METHOD(Zoo, "a bulk change selects by filter, ids, or both, each once", "[store][bulk]") {
  Build();
  ExperimentFilter a;
  a.selector = *LabelSelector::Parse("sweep=a");
  auto by_label = store->SelectExperiments(Filtered(a));
  REQUIRE(by_label.ok());
  CHECK(by_label->ids == std::vector<int64_t>{1, 2});  // "gone" is deleted
  CHECK(by_label->with_live_job == std::vector<int64_t>{2});

  ExperimentFilter running;
  running.desired_states = {DesiredState::kRunning};
  running.name_contains = "on";
  CHECK(store->SelectExperiments(Filtered(running))->ids == std::vector<int64_t>{3});

  ExperimentFilter words;
  words.words = {"train.py", "layers=4", "sweep=b"};
  CHECK(store->SelectExperiments(Filtered(words))->ids == std::vector<int64_t>{3, 4});
  words.words.push_back("ended");
  CHECK(store->SelectExperiments(Filtered(words))->ids == std::vector<int64_t>{4});

  ExperimentSelection both{{4, 1}, a};
  CHECK(store->SelectExperiments(both)->ids == std::vector<int64_t>{1, 2, 4});
}

TEST_CASE_METHOD(Zoo, "an unknown or deleted id changes nothing", "[store][bulk]") {
  Build();
  Snapshot before = Take(*store);
  CHECK(absl::IsNotFound(
      store->SetDesiredStates(Ids({1, 5}), DesiredState::kRunning, "u", "").status()));
  CHECK(absl::IsNotFound(
      store->SetDesiredStates(Ids({1, 99}), DesiredState::kRunning, "u", "").status()));
  CheckSame(before, Take(*store));
}

TEST_CASE_METHOD(StoreFixture, "a change stopped mid-way leaves every experiment as it was",
                 "[store][bulk]") {
  // 600 experiments: keep_going is asked every 256 rows, so the third ask
  // comes after 255 experiments were already changed in the transaction.
  for (int i = 0; i < 600; ++i) Create(absl::StrCat("e-", i));
  Snapshot before = Take(*store);
  int asked = 0;
  BulkOptions options;
  options.keep_going = [&]() -> absl::Status {
    return ++asked == 3 ? absl::DeadlineExceededError("deadline near") : absl::OkStatus();
  };
  auto result = store->SetDesiredStates(Filtered(), DesiredState::kRunning, "u", "", options);
  CHECK(absl::IsDeadlineExceeded(result.status()));
  CHECK(asked == 3);
  CheckSame(before, Take(*store));

  // The same change let through changes all 600, and returns no records
  // beyond max_records (only ids).
  asked = 10;
  options.max_records = 599;
  auto all = store->SetDesiredStates(Filtered(), DesiredState::kRunning, "u", "", options);
  REQUIRE(all.ok());
  CHECK(all->changed_ids.size() == 600);
  CHECK(all->experiments.empty());
  CHECK(store->ListEvents(0, 0, 5000)->size() == 1200);  // 600 created, 600 changed
}

TEST_CASE("a database error mid-way rolls the whole change back", "[store][bulk]") {
  auto path =
      std::filesystem::temp_directory_path() / ("skydeck-bulk-" + std::to_string(getpid()) + ".db");
  std::filesystem::remove(path);
  auto opened = Store::Open(path.string());
  REQUIRE(opened.ok());
  Store& store = **opened;
  for (int i = 0; i < 20; ++i) {
    REQUIRE(store.CreateExperiment(StoreFixture::Spec(absl::StrCat("e-", i)), "t").ok());
  }
  {
    // Experiment 13's row refuses the change, after 1-12 were written.
    auto conn = Connection::Open(path.string());
    REQUIRE(conn.ok());
    REQUIRE((*conn)
                ->Exec("CREATE TRIGGER refuse_13 BEFORE UPDATE ON experiments "
                       "WHEN NEW.id = 13 BEGIN SELECT RAISE(ABORT, 'injected'); END")
                .ok());
  }
  Snapshot before = Take(store);
  auto result = store.SetDesiredStates(Filtered(), DesiredState::kRunning, "u", "");
  CHECK_FALSE(result.ok());
  CHECK(result.status().message().find("injected") != std::string::npos);
  CheckSame(before, Take(store));
  opened->reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
}

TEST_CASE_METHOD(Zoo, "bulk delete refuses live jobs, naming them, and deletes nothing",
                 "[store][bulk]") {
  Build();
  Snapshot before = Take(*store);
  auto refused = store->SoftDeleteMany(Filtered(), "u");
  CHECK(absl::IsFailedPrecondition(refused.status()));
  CHECK(refused.status().message().find("live") != std::string::npos);
  CHECK(refused.status().message().find("nothing was changed") != std::string::npos);
  CheckSame(before, Take(*store));

  ExperimentFilter b;
  b.selector = *LabelSelector::Parse("sweep=b");
  auto deleted = store->SoftDeleteMany(Filtered(b), "u");
  REQUIRE(deleted.ok());
  CHECK(deleted->ids == std::vector<int64_t>{3, 4});
  REQUIRE(deleted->experiments.size() == 2);
  CHECK(deleted->experiments[0].deleted());
  CHECK(store->ListEvents(4, 0, 1)->front().type == "Deleted");
  CHECK(*store->ListLiveExperimentIds() == std::vector<int64_t>{1, 2});
}

TEST_CASE_METHOD(Zoo, "bulk purge removes experiments, jobs and events", "[store][bulk]") {
  Build();
  CHECK(absl::IsFailedPrecondition(store->PurgeMany(Ids({2, 3}), "u").status()));
  auto purged = store->PurgeMany(Ids({3, 5}), "u");  // 5 is deleted: purged by id
  REQUIRE(purged.ok());
  CHECK(purged->ids == std::vector<int64_t>{3, 5});
  CHECK(absl::IsNotFound(store->GetExperiment(3).status()));
  CHECK(absl::IsNotFound(store->GetExperiment(5).status()));
  CHECK(store->ListEvents(3, 0, 10)->empty());
  CHECK(store->ListEvents(0, 0, 1)->front().type == "Purged");
}

}  // namespace
}  // namespace skydeck::store
