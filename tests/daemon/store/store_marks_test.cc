// Stars, positions and time in state (issue 20): the store's side.
#include <unistd.h>

#include <filesystem>

#include <catch2/catch.hpp>

#include "store_fixture.h"

#include "common/model/event_types.h"
#include "common/model/experiment_search.h"
#include "daemon/store/migrations.h"

namespace skydeck::store {
namespace {

std::vector<std::string> EventTypes(Store& store, int64_t id) {
  std::vector<std::string> out;
  auto events = store.ListEvents(id, 0, 100);
  REQUIRE(events.ok());
  for (const EventRecord& e : *events) out.push_back(e.type);
  return out;
}

TEST_CASE_METHOD(StoreFixture, "a star is a mark, not a spec change", "[store][marks]") {
  ExperimentRecord a = Create("a");
  ExperimentRecord b = Create("b");
  CHECK_FALSE(a.starred);
  now_ms += 1000;
  auto starred = store->SetStarred({{a.id}, std::nullopt}, true, "tester");
  REQUIRE(starred.ok());
  CHECK(starred->changed_ids == std::vector<int64_t>{a.id});
  ExperimentRecord after = *store->GetExperiment(a.id);
  CHECK(after.starred);
  // No generation bump (so no Outdated, no relaunch), no spec event, and
  // update_time kept: the spec did not change.
  CHECK(after.generation == a.generation);
  CHECK(after.updated_ms == a.updated_ms);
  CHECK(after.spec == a.spec);
  CHECK(EventTypes(*store, a.id).front() == model::event::kStarred);
  CHECK_FALSE(store->GetExperiment(b.id)->starred);

  // Starring again changes nothing and records nothing.
  auto again = store->SetStarred({{a.id}, std::nullopt}, true, "tester");
  REQUIRE(again.ok());
  CHECK(again->changed_ids.empty());
  CHECK(EventTypes(*store, a.id).size() == 2);  // Created, Starred

  // A spec update keeps the star (it is written by its own UPDATE only).
  REQUIRE(store
              ->UpdateSpec(a.id,
                           [](ExperimentSpec& s) {
                             s.description = "changed";
                             return absl::OkStatus();
                           },
                           "tester")
              .ok());
  CHECK(store->GetExperiment(a.id)->starred);

  auto unstarred = store->SetStarred({{a.id}, std::nullopt}, false, "tester");
  REQUIRE(unstarred.ok());
  CHECK_FALSE(store->GetExperiment(a.id)->starred);
  CHECK(EventTypes(*store, a.id).front() == model::event::kUnstarred);
}

TEST_CASE_METHOD(StoreFixture, "stars select and filter lists", "[store][marks]") {
  ExperimentRecord a = Create("a");
  ExperimentRecord b = Create("b");
  ExperimentRecord c = Create("c");
  ExperimentFilter by_name;
  by_name.name_contains = "b";
  // By filter, in one transaction, with the ids.
  auto r = store->SetStarred({{a.id}, by_name}, true, "tester");
  REQUIRE(r.ok());
  CHECK(r->ids == std::vector<int64_t>{a.id, b.id});

  ExperimentQuery q;
  q.starred_only = true;
  auto page = store->ListExperiments(q);
  REQUIRE(page.ok());
  REQUIRE(page->experiments.size() == 2);
  CHECK(page->experiments[0].id == a.id);
  CHECK(page->experiments[1].id == b.id);

  ExperimentFilter starred;
  starred.starred_only = true;
  auto selected = store->SelectExperiments({{}, starred});
  REQUIRE(selected.ok());
  CHECK(selected->ids == std::vector<int64_t>{a.id, b.id});
  (void)c;
}

TEST_CASE_METHOD(StoreFixture, "a position is its id until moved, one write per move",
                 "[store][marks]") {
  ExperimentRecord a = Create("a");
  ExperimentRecord b = Create("b");
  CHECK(a.position == static_cast<double>(a.id));
  CHECK(b.position == static_cast<double>(b.id));
  auto moved = store->SetPosition(b.id, a.position - 0.5, "tester");
  REQUIRE(moved.ok());
  CHECK(moved->position == a.position - 0.5);
  CHECK(moved->generation == b.generation);
  CHECK(moved->updated_ms == b.updated_ms);
  CHECK(EventTypes(*store, b.id).front() == model::event::kMoved);
  // The same position again writes nothing.
  REQUIRE(store->SetPosition(b.id, a.position - 0.5, "tester").ok());
  CHECK(EventTypes(*store, b.id).size() == 2);
  CHECK(absl::IsInvalidArgument(
      store->SetPosition(a.id, std::numeric_limits<double>::infinity(), "t").status()));
  REQUIRE(store->SoftDelete(a.id, "t").ok());
  CHECK(absl::IsNotFound(store->SetPosition(a.id, 1, "t").status()));
}

TEST_CASE_METHOD(StoreFixture, "state_since moves only when the observed state changes",
                 "[store][marks]") {
  ExperimentRecord a = Create("a");
  CHECK(a.state_since_ms == now_ms);
  int64_t created = now_ms;
  auto set_state = [&](ObservedState s, int restarts) {
    auto r = store->UpdateObserved(a.id, [&](ExperimentRecord& e, std::vector<NewEvent>*) {
      e.observed_state = s;
      e.restart_count = restarts;
      return absl::OkStatus();
    });
    REQUIRE(r.ok());
    return *r;
  };
  now_ms += 1000;
  // Another observed field changes: the state's time stays.
  CHECK(set_state(ObservedState::kIdle, 1).state_since_ms == created);
  now_ms += 1000;
  int64_t pending_at = now_ms;
  CHECK(set_state(ObservedState::kPending, 1).state_since_ms == pending_at);
  now_ms += 5000;
  CHECK(set_state(ObservedState::kPending, 2).state_since_ms == pending_at);
  // A spec change is not a state change either.
  REQUIRE(store
              ->UpdateSpec(a.id,
                           [](ExperimentSpec& s) {
                             s.description = "x";
                             return absl::OkStatus();
                           },
                           "t")
              .ok());
  CHECK(store->GetExperiment(a.id)->state_since_ms == pending_at);
  now_ms += 1000;
  CHECK(set_state(ObservedState::kRunning, 2).state_since_ms == now_ms);
}

TEST_CASE_METHOD(StoreFixture, "status_since moves only when a job's status changes",
                 "[store][marks]") {
  ExperimentRecord a = Create("a");
  auto intent = store->CreateLaunchIntent(Intent(a.id), "reconciler");
  REQUIRE(intent.ok());
  CHECK(intent->status_since_ms == now_ms);
  int64_t launched = now_ms;
  auto update = [&](JobStatus s, const std::string& backend_status) {
    auto j = store->UpdateJob(intent->id, [&](JobRecord& job, std::vector<NewEvent>*) {
      job.status = s;
      job.backend_status = backend_status;
      return absl::OkStatus();
    });
    REQUIRE(j.ok());
    return *j;
  };
  now_ms += 1000;
  CHECK(update(JobStatus::kLaunching, "queued").status_since_ms == launched);
  now_ms += 1000;
  int64_t pending_at = now_ms;
  CHECK(update(JobStatus::kPending, "queued").status_since_ms == pending_at);
  CHECK(store->GetJob(intent->id)->status_since_ms == pending_at);
  now_ms += 60000;
  CHECK(update(JobStatus::kPending, "still queued").status_since_ms == pending_at);
  CHECK(update(JobStatus::kRunning, "up").status_since_ms == now_ms);
}

TEST_CASE_METHOD(StoreFixture, "list and bulk filters read time-in-state words",
                 "[store][marks]") {
  ExperimentRecord a = Create("a");
  ExperimentRecord b = Create("b");
  REQUIRE(store
              ->UpdateObserved(a.id,
                               [](ExperimentRecord& e, std::vector<NewEvent>*) {
                                 e.observed_state = ObservedState::kPending;
                                 return absl::OkStatus();
                               })
              .ok());
  now_ms += 20 * 60000;
  REQUIRE(store
              ->UpdateObserved(b.id,
                               [](ExperimentRecord& e, std::vector<NewEvent>*) {
                                 e.observed_state = ObservedState::kPending;
                                 return absl::OkStatus();
                               })
              .ok());
  now_ms += 15 * 60000;  // a: pending 35m, b: 15m
  ExperimentQuery q;
  q.words = skydeck::SearchWords("pending>30m");
  auto page = store->ListExperiments(q);
  REQUIRE(page.ok());
  REQUIRE(page->experiments.size() == 1);
  CHECK(page->experiments[0].id == a.id);
  q.words = skydeck::SearchWords("pending<30m");
  CHECK(store->ListExperiments(q)->experiments.at(0).id == b.id);
  ExperimentFilter f;
  f.words = skydeck::SearchWords("pending>10m");
  CHECK(store->SelectExperiments({{}, f})->ids == std::vector<int64_t>{a.id, b.id});
  now_ms += 30 * 60000;  // a: 65m, b: 45m
  f.words = skydeck::SearchWords("pending>1h");
  CHECK(store->SelectExperiments({{}, f})->ids == std::vector<int64_t>{a.id});
}

TEST_CASE("schema 7 gives older rows their best known time in state", "[store][marks]") {
  auto path = std::filesystem::temp_directory_path() /
              ("skydeck-marks-" + std::to_string(getpid()) + ".db");
  std::filesystem::remove(path);
  int64_t clock = 1'700'000'000'000;
  int64_t id = 0, job_id = 0;
  {
    auto store = Store::Open(path.string(), [&] { return clock; });
    REQUIRE(store.ok());
    id = (*store)->CreateExperiment(StoreFixture::Spec("old"), "t")->id;
    auto intent = (*store)->CreateLaunchIntent(StoreFixture::Intent(id), "t");
    REQUIRE(intent.ok());
    job_id = intent->id;
    clock += 5000;
    REQUIRE((*store)
                ->UpdateJob(job_id,
                            [&](JobRecord& j, std::vector<NewEvent>*) {
                              j.status = JobStatus::kSucceeded;
                              j.started_ms = clock - 1000;
                              j.ended_ms = clock;
                              return absl::OkStatus();
                            })
                .ok());
  }
  {
    // Back to schema 7, as a database written before this version.
    auto conn = Connection::Open(path.string());
    REQUIRE(conn.ok());
    REQUIRE((*conn)
                ->Exec("ALTER TABLE experiments DROP COLUMN starred; "
                       "ALTER TABLE experiments DROP COLUMN position; "
                       "ALTER TABLE experiments DROP COLUMN state_since; "
                       "ALTER TABLE jobs DROP COLUMN status_since; "
                       "UPDATE experiments SET updated_at = 1700000000777; "
                       "PRAGMA user_version = 7;")
                .ok());
  }
  auto store = Store::Open(path.string());
  REQUIRE(store.ok());
  ExperimentRecord r = *(*store)->GetExperiment(id);
  CHECK(r.state_since_ms == 1700000000777);
  CHECK_FALSE(r.starred);
  CHECK(r.position == static_cast<double>(id));
  CHECK((*store)->GetJob(job_id)->status_since_ms == clock);  // its end
  store->reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
}

}  // namespace
}  // namespace skydeck::store
