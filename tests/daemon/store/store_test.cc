#include "daemon/store/store.h"

#include <unistd.h>

#include <filesystem>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "store_fixture.h"

#include "daemon/store/migrations.h"

namespace skydeck::store {
namespace {

TEST_CASE("a new file is migrated to the latest schema and reopens", "[store]") {
  auto path = std::filesystem::temp_directory_path() /
              ("skydeck-store-" + std::to_string(getpid()) + ".db");
  std::filesystem::remove(path);
  int64_t id = 0;
  {
    auto store = Store::Open(path.string());
    REQUIRE(store.ok());
    auto r = (*store)->CreateExperiment(StoreFixture::Spec("persisted"), "t");
    REQUIRE(r.ok());
    id = r->id;
  }
  {
    auto conn = Connection::Open(path.string());
    REQUIRE(conn.ok());
    auto st = (*conn)->Prepare("PRAGMA user_version");
    REQUIRE(st.ok());
    REQUIRE(*(*st)->Step());
    CHECK((*st)->ColumnInt(0) == LatestSchemaVersion());
    (*st)->Reset();
    auto mode = (*conn)->Prepare("PRAGMA journal_mode");
    REQUIRE(*(*mode)->Step());
    CHECK((*mode)->ColumnText(0) == "wal");
    (*mode)->Reset();
  }
  auto store = Store::Open(path.string());
  REQUIRE(store.ok());
  auto r = (*store)->GetExperiment(id);
  REQUIRE(r.ok());
  CHECK(r->spec == StoreFixture::Spec("persisted"));
  CHECK((*store)->CheckIntegrity().ok());
  store->reset();
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path.string() + suffix);
  }
}

// Takes a database of schema version 10 back to 9 (the ended jobs' GPU
// time): its triggers read jobs columns that the older undos drop.
constexpr char kUndoV10[] =
    "DROP TRIGGER gpu_time_ended_insert; DROP TRIGGER gpu_time_ended_delete; "
    "DROP TRIGGER gpu_time_ended_update; DROP TABLE gpu_time_ended; "
    "PRAGMA user_version = 9";

// Takes a database of schema version 8 back to 7 (stars, order, time in
// state).
constexpr char kUndoV8[] =
    "ALTER TABLE experiments DROP COLUMN starred; "
    "ALTER TABLE experiments DROP COLUMN position; "
    "ALTER TABLE experiments DROP COLUMN state_since; "
    "ALTER TABLE jobs DROP COLUMN status_since; "
    "PRAGMA user_version = 7";

// Takes a database of schema version 7 back to 6 (GPU-hours and links),
// so the older migrations' tests below can undo theirs: v7 adds columns,
// which cannot be added twice.
constexpr char kUndoV7[] =
    "DROP INDEX jobs_by_end; "
    "ALTER TABLE jobs DROP COLUMN paused_ms; "
    "ALTER TABLE jobs DROP COLUMN paused_since; "
    "ALTER TABLE experiments DROP COLUMN link; "
    "PRAGMA user_version = 6";

// Takes a database of schema version 5 back to 4.
constexpr char kUndoV5[] =
    "ALTER TABLE experiments DROP COLUMN code_snapshot; "
    "ALTER TABLE jobs DROP COLUMN code_snapshot; "
    "ALTER TABLE task_templates DROP COLUMN mount_snapshots; "
    "PRAGMA user_version = 4";

// v2's poller marked a job it stopped seeing LOST with this exact reason;
// v3 knows such a job's outcome is unknown and must not relaunch it.
// Takes a database of schema version 4 back to 3.
constexpr char kUndoV4[] =
    "DROP INDEX experiments_by_template; DROP TABLE task_templates; "
    "ALTER TABLE experiments DROP COLUMN template; ALTER TABLE experiments DROP COLUMN envs; "
    "ALTER TABLE experiments DROP COLUMN secrets; ALTER TABLE experiments DROP COLUMN workdir; "
    "ALTER TABLE jobs DROP COLUMN template; ALTER TABLE jobs DROP COLUMN template_version; "
    "ALTER TABLE jobs DROP COLUMN envs; ALTER TABLE jobs DROP COLUMN secrets; "
    "ALTER TABLE jobs DROP COLUMN workdir; ALTER TABLE jobs DROP COLUMN code_commit; "
    "ALTER TABLE jobs DROP COLUMN code_dirty; ALTER TABLE jobs DROP COLUMN rendered_task; "
    "PRAGMA user_version = 3";

TEST_CASE("migration 4 gives experiments and jobs empty workload fields", "[store]") {
  auto path =
      std::filesystem::temp_directory_path() / ("skydeck-v3-" + std::to_string(getpid()) + ".db");
  std::filesystem::remove(path);
  int64_t experiment = 0, job = 0;
  {
    auto store = Store::Open(path.string());
    REQUIRE(store.ok());
    auto e = (*store)->CreateExperiment(StoreFixture::Spec("old"), "t");
    REQUIRE(e.ok());
    auto j = (*store)->CreateLaunchIntent(StoreFixture::Intent(e->id), "t");
    REQUIRE(j.ok());
    experiment = e->id;
    job = j->id;
  }
  {
    auto conn = Connection::Open(path.string());
    REQUIRE(conn.ok());
    REQUIRE((*conn)->Exec(kUndoV10).ok());
    REQUIRE((*conn)->Exec(kUndoV8).ok());
    REQUIRE((*conn)->Exec(kUndoV7).ok());
    REQUIRE((*conn)->Exec(kUndoV5).ok());
    REQUIRE((*conn)->Exec(kUndoV4).ok());
  }
  {
    auto store = Store::Open(path.string());
    REQUIRE(store.ok());
    auto e = (*store)->GetExperiment(experiment);
    REQUIRE(e.ok());
    CHECK(e->spec.template_name.empty());
    CHECK(e->spec.envs.empty());
    CHECK(e->spec.secrets.empty());
    CHECK(e->spec.workdir.empty());
    auto j = (*store)->GetJob(job);
    REQUIRE(j.ok());
    CHECK(j->template_version == 0);
    CHECK(j->rendered_task.empty());
    CHECK((*store)->ListTaskTemplates()->empty());
  }
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path.string() + suffix);
  }
}

TEST_CASE("migration 5 gives experiments, jobs and templates no code snapshots", "[store]") {
  auto path =
      std::filesystem::temp_directory_path() / ("skydeck-v4-" + std::to_string(getpid()) + ".db");
  std::filesystem::remove(path);
  int64_t experiment = 0, job = 0;
  {
    auto store = Store::Open(path.string());
    REQUIRE(store.ok());
    auto e = (*store)->CreateExperiment(StoreFixture::Spec("old"), "t");
    REQUIRE(e.ok());
    auto j = (*store)->CreateLaunchIntent(StoreFixture::Intent(e->id), "t");
    REQUIRE(j.ok());
    REQUIRE((*store)->ApplyTaskTemplate("t", "name: t\n", "t").ok());
    experiment = e->id;
    job = j->id;
  }
  {
    auto conn = Connection::Open(path.string());
    REQUIRE(conn.ok());
    REQUIRE((*conn)->Exec(kUndoV10).ok());
    REQUIRE((*conn)->Exec(kUndoV8).ok());
    REQUIRE((*conn)->Exec(kUndoV7).ok());
    REQUIRE((*conn)->Exec(kUndoV5).ok());
  }
  {
    auto store = Store::Open(path.string());
    REQUIRE(store.ok());
    auto e = (*store)->GetExperiment(experiment);
    REQUIRE(e.ok());
    CHECK(e->spec.code.empty());
    auto j = (*store)->GetJob(job);
    REQUIRE(j.ok());
    CHECK(j->code_snapshot.empty());
    auto t = (*store)->GetTaskTemplate("t");
    REQUIRE(t.ok());
    REQUIRE(t->has_value());
    CHECK((*t)->mount_snapshots.empty());
    CHECK((*store)->ReferencedCodeSnapshots()->empty());
  }
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path.string() + suffix);
  }
}

TEST_CASE("migration 3 marks jobs v2 lost from sight as outcome unknown", "[store]") {
  auto path =
      std::filesystem::temp_directory_path() / ("skydeck-v2-" + std::to_string(getpid()) + ".db");
  std::filesystem::remove(path);
  int64_t forgotten = 0, vanished = 0;
  {
    auto store = Store::Open(path.string());
    REQUIRE(store.ok());
    for (const char* name : {"forgotten", "vanished"}) {
      auto e = (*store)->CreateExperiment(StoreFixture::Spec(name), "t");
      REQUIRE(e.ok());
      auto job = (*store)->CreateLaunchIntent(StoreFixture::Intent(e->id), "t");
      REQUIRE(job.ok());
      (std::string(name) == "forgotten" ? forgotten : vanished) = job->id;
    }
  }
  {  // Back to v2 as that poller left it.
    auto conn = Connection::Open(path.string());
    REQUIRE(conn.ok());
    REQUIRE((*conn)->Exec(kUndoV10).ok());
    REQUIRE((*conn)->Exec(kUndoV8).ok());
    REQUIRE((*conn)->Exec(kUndoV7).ok());
    REQUIRE((*conn)->Exec(kUndoV5).ok());
    REQUIRE((*conn)->Exec(kUndoV4).ok());
    REQUIRE((*conn)->Exec("ALTER TABLE jobs DROP COLUMN outcome_unknown").ok());
    REQUIRE((*conn)
                ->Exec(absl::StrCat(
                    "UPDATE jobs SET status = 'LOST', ended_at = 1, failure_reason = CASE id WHEN ",
                    forgotten,
                    " THEN 'the backend no longer reports this job' ELSE "
                    "'node 0: processes vanished without an exit code' END"))
                .ok());
    REQUIRE((*conn)->Exec("PRAGMA user_version = 2").ok());
  }
  {
    auto store = Store::Open(path.string());
    REQUIRE(store.ok());
    auto a = (*store)->GetJob(forgotten);
    auto b = (*store)->GetJob(vanished);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a->outcome_unknown);
    CHECK_FALSE(b->outcome_unknown);  // the backend said it did not finish
  }
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path.string() + suffix);
  }
}

TEST_CASE("a database newer than the binary is refused", "[store]") {
  auto path = std::filesystem::temp_directory_path() /
              ("skydeck-future-" + std::to_string(getpid()) + ".db");
  std::filesystem::remove(path);
  {
    auto conn = Connection::Open(path.string());
    REQUIRE(conn.ok());
    REQUIRE((*conn)->Exec("PRAGMA user_version = 999").ok());
  }
  CHECK(absl::IsFailedPrecondition(Store::Open(path.string()).status()));
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path.string() + suffix);
  }
}

TEST_CASE_METHOD(StoreFixture, "created experiments read back exactly", "[store]") {
  ExperimentRecord r = Create("exp-a");
  CHECK(r.id > 0);
  CHECK(r.generation == 1);
  CHECK(r.observed_generation == 0);
  CHECK(r.observed_state == ObservedState::kIdle);
  CHECK(r.created_ms == now_ms);
  CHECK(r.spec.flags.at("trainer.lr") == FlagValue(3e-4));
  CHECK(r.spec.flags.at("model.layers") == FlagValue(int64_t{4}));
  auto by_name = store->FindExperimentByName("exp-a");
  REQUIRE(by_name.ok());
  CHECK(by_name->id == r.id);
  CHECK(absl::IsNotFound(store->GetExperiment(999).status()));
  CHECK(absl::IsNotFound(store->FindExperimentByName("nope").status()));
}

TEST_CASE_METHOD(StoreFixture, "an intent's snapshot changes only until it reaches the backend",
                 "[store]") {
  ExperimentRecord e = Create("snap");
  auto intent = store->CreateLaunchIntent(Intent(e.id), "reconciler");
  REQUIRE(intent.ok());
  JobRecord snapshot = *intent;
  snapshot.command = "python train.py 'trainer.lr=0.001'";
  snapshot.flags = {{"trainer.lr", 1e-3}};
  snapshot.nodes = 2;
  auto replaced = store->ReplaceIntentSnapshot(intent->id, snapshot, "reconciler");
  REQUIRE(replaced.ok());
  CHECK(replaced->command == snapshot.command);
  CHECK(replaced->flags == snapshot.flags);
  CHECK(replaced->nodes == 2);
  CHECK(replaced->attempt == intent->attempt);
  CHECK(replaced->backend_name == intent->backend_name);

  REQUIRE(store
              ->UpdateJob(intent->id,
                          [](JobRecord& j, std::vector<NewEvent>*) {
                            j.backend_job_id = "backend-1";
                            return absl::OkStatus();
                          })
              .ok());
  CHECK(absl::IsFailedPrecondition(
      store->ReplaceIntentSnapshot(intent->id, *intent, "reconciler").status()));
  CHECK(store->GetJob(intent->id)->command == snapshot.command);
}

TEST_CASE_METHOD(StoreFixture, "names are unique among live experiments only", "[store]") {
  ExperimentRecord a = Create("dup");
  CHECK(absl::IsAlreadyExists(store->CreateExperiment(Spec("dup"), "t").status()));
  REQUIRE(store->SoftDelete(a.id, "t").ok());
  ExperimentRecord b = Create("dup");  // a deleted name can be reused
  CHECK(b.id != a.id);
  CHECK(store->FindExperimentByName("dup")->id == b.id);
  // Restoring the first one now collides with the second.
  CHECK(absl::IsAlreadyExists(store->Undelete(a.id, "t").status()));
}

TEST_CASE_METHOD(StoreFixture, "soft delete archives and undelete restores", "[store]") {
  ExperimentRecord a = Create("arch");
  auto deleted = store->SoftDelete(a.id, "t");
  REQUIRE(deleted.ok());
  CHECK(deleted->deleted_ms == now_ms);
  CHECK(absl::IsNotFound(store->FindExperimentByName("arch").status()));
  CHECK(store->GetExperiment(a.id).ok());  // history stays readable
  ExperimentQuery q;
  CHECK(store->ListExperiments(q)->experiments.empty());
  q.include_deleted = true;
  CHECK(store->ListExperiments(q)->experiments.size() == 1);
  CHECK(absl::IsNotFound(store->SoftDelete(a.id, "t").status()));
  auto restored = store->Undelete(a.id, "t");
  REQUIRE(restored.ok());
  CHECK_FALSE(restored->deleted());
  CHECK(absl::IsFailedPrecondition(store->Undelete(a.id, "t").status()));
}

TEST_CASE_METHOD(StoreFixture, "a second live job for one experiment is refused", "[store]") {
  ExperimentRecord a = Create("one-job");
  auto first = store->CreateLaunchIntent(Intent(a.id), "reconciler");
  REQUIRE(first.ok());
  CHECK(first->attempt == 1);
  CHECK(first->backend_name == "skydeck-" + std::to_string(a.id) + "-1");
  CHECK(first->status == JobStatus::kLaunching);
  CHECK(absl::IsFailedPrecondition(store->CreateLaunchIntent(Intent(a.id), "r").status()));

  // The schema itself refuses, even bypassing CreateLaunchIntent's path:
  // reviving an ended job while another is live violates the index.
  EndJob(first->id, JobStatus::kSucceeded);
  auto second = store->CreateLaunchIntent(Intent(a.id), "r");
  REQUIRE(second.ok());
  CHECK(second->attempt == 2);
  CHECK(absl::IsFailedPrecondition(store
                                       ->UpdateJob(first->id,
                                                   [](JobRecord& j, std::vector<NewEvent>*) {
                                                     j.ended_ms = 0;
                                                     return absl::OkStatus();
                                                   })
                                       .status()));
  CHECK(store->GetExperiment(a.id)->current_job_id == second->id);
  CHECK(store->GetExperiment(a.id)->job_count == 2);
}

TEST_CASE_METHOD(StoreFixture, "deleting is refused while a job is live", "[store]") {
  ExperimentRecord a = Create("busy");
  REQUIRE(store->CreateLaunchIntent(Intent(a.id), "r").ok());
  CHECK(absl::IsFailedPrecondition(store->SoftDelete(a.id, "t").status()));
  CHECK(absl::IsFailedPrecondition(store->Purge(a.id, "t")));
}

TEST_CASE_METHOD(StoreFixture, "spec updates bump generation and record events", "[store]") {
  ExperimentRecord a = Create("gen");
  now_ms += 1000;
  auto same = store->UpdateSpec(
      a.id, [](ExperimentSpec&) { return absl::OkStatus(); }, "u");
  REQUIRE(same.ok());
  CHECK(same->generation == 1);

  auto changed = store->UpdateSpec(
      a.id,
      [](ExperimentSpec& s) {
        s.nodes = 4;
        s.desired_state = DesiredState::kRunning;
        return absl::OkStatus();
      },
      "alice", "trying bigger");
  REQUIRE(changed.ok());
  CHECK(changed->generation == 2);
  CHECK(changed->updated_ms == now_ms);
  auto events = store->ListEvents(a.id, 0, 10);
  REQUIRE(events.ok());
  REQUIRE(events->size() == 3);  // Created, DesiredStateChanged, Updated
  CHECK((*events)[1].type == "DesiredStateChanged");
  CHECK((*events)[1].message == "STOPPED -> RUNNING: trying bigger");
  CHECK((*events)[1].actor == "alice");
  CHECK((*events)[0].type == "Updated");
  CHECK((*events)[0].message == "changed nodes");

  // A failing mutation writes nothing.
  auto refused = store->UpdateSpec(
      a.id,
      [](ExperimentSpec& s) {
        s.nodes = 8;
        return absl::InvalidArgumentError("no");
      },
      "u");
  CHECK(absl::IsInvalidArgument(refused.status()));
  CHECK(store->GetExperiment(a.id)->spec.nodes == 4);
}

TEST_CASE_METHOD(StoreFixture, "renaming onto a live name is ALREADY_EXISTS", "[store]") {
  Create("taken");
  ExperimentRecord b = Create("other");
  auto renamed = store->UpdateSpec(
      b.id,
      [](ExperimentSpec& s) {
        s.name = "taken";
        return absl::OkStatus();
      },
      "u");
  CHECK(absl::IsAlreadyExists(renamed.status()));
}

TEST_CASE_METHOD(StoreFixture, "lists page by id and filter by labels and state", "[store]") {
  for (int i = 0; i < 25; ++i) {
    ExperimentSpec s = Spec("e" + std::to_string(i));
    s.labels = {{"parity", i % 2 ? "odd" : "even"}};
    if (i % 5 == 0) s.desired_state = DesiredState::kRunning;
    REQUIRE(store->CreateExperiment(s, "t").ok());
  }
  ExperimentQuery q;
  q.limit = 10;
  std::vector<int64_t> seen;
  while (true) {
    auto page = store->ListExperiments(q);
    REQUIRE(page.ok());
    for (const auto& e : page->experiments) seen.push_back(e.id);
    if (!page->next_after_id) break;
    q.after_id = page->next_after_id;
  }
  CHECK(seen.size() == 25);
  CHECK(std::is_sorted(seen.begin(), seen.end()));

  ExperimentQuery odd;
  odd.selector = *LabelSelector::Parse("parity=odd");
  CHECK(store->ListExperiments(odd)->experiments.size() == 12);
  ExperimentQuery running;
  running.desired_states = {DesiredState::kRunning};
  CHECK(store->ListExperiments(running)->experiments.size() == 5);
  ExperimentQuery named;
  named.name_contains = "e2";
  CHECK(store->ListExperiments(named)->experiments.size() == 6);  // e2, e20..e24
}

// Filters look only at the columns they test, so a row they reject is never
// fully decoded: here a row whose flags cannot be decoded at all.
TEST_CASE("list filters reject rows without decoding them", "[store]") {
  auto path = std::filesystem::temp_directory_path() /
              ("skydeck-filter-" + std::to_string(getpid()) + ".db");
  std::filesystem::remove(path);
  {
    auto store = Store::Open(path.string());
    REQUIRE(store.ok());
    ExperimentSpec keep = StoreFixture::Spec("keep");
    keep.labels["keep"] = "yes";
    REQUIRE((*store)->CreateExperiment(keep, "t").ok());
    REQUIRE((*store)->CreateExperiment(StoreFixture::Spec("undecodable"), "t").ok());
  }
  {
    auto conn = Connection::Open(path.string());
    REQUIRE(conn.ok());
    REQUIRE((*conn)->Exec("UPDATE experiments SET flags = '{' WHERE name = 'undecodable'").ok());
  }
  auto store = Store::Open(path.string());
  REQUIRE(store.ok());
  ExperimentQuery kept;
  kept.selector = *LabelSelector::Parse("keep=yes");
  auto page = (*store)->ListExperiments(kept);
  REQUIRE(page.ok());
  REQUIRE(page->experiments.size() == 1);
  CHECK(page->experiments[0].spec.name == "keep");
  ExperimentQuery named;
  named.name_contains = "kee";
  CHECK((*store)->ListExperiments(named).ok());
  // Unfiltered, the damaged row is read in full and reported.
  CHECK(absl::IsDataLoss((*store)->ListExperiments(ExperimentQuery{}).status()));
  store->reset();
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path.string() + suffix);
  }
}

TEST_CASE_METHOD(StoreFixture, "events are a gap-free log watchers can resume", "[store]") {
  int64_t notified = 0;
  store->SetCommitListener([&](int64_t rev) { notified = rev; });
  ExperimentRecord a = Create("w");
  int64_t after_create = *store->LatestRevision();
  CHECK(notified == after_create);
  REQUIRE(store
              ->UpdateSpec(
                  a.id,
                  [](ExperimentSpec& s) {
                    s.gpus = 2;
                    return absl::OkStatus();
                  },
                  "u")
              .ok());
  auto newer = store->EventsAfter(after_create, 0, 100);
  REQUIRE(newer.ok());
  REQUIRE(newer->size() == 1);
  CHECK((*newer)[0].type == "Updated");
  CHECK(notified == (*newer)[0].id);
}

TEST_CASE_METHOD(StoreFixture, "purge removes the experiment and its history", "[store]") {
  ExperimentRecord a = Create("gone");
  REQUIRE(store->Purge(a.id, "t").ok());
  CHECK(absl::IsNotFound(store->GetExperiment(a.id).status()));
  CHECK(store->ListEvents(a.id, 0, 10)->empty());
  auto all = store->ListEvents(0, 0, 1);
  REQUIRE(all->size() == 1);
  CHECK(all->front().type == "Purged");
}

TEST_CASE_METHOD(StoreFixture, "observed updates leave the spec alone", "[store]") {
  ExperimentRecord a = Create("obs");
  auto r = store->UpdateObserved(a.id, [](ExperimentRecord& e, std::vector<NewEvent>* events) {
    e.observed_state = ObservedState::kRunning;
    e.observed_generation = e.generation;
    e.spec.nodes = 99;  // ignored
    e.conditions.push_back({"Running", true, "JobRunning", "job 1 running", 5});
    events->push_back(NewEvent{0, 0, "JobStatusChanged", "Running", "now running", "poller"});
    return absl::OkStatus();
  });
  REQUIRE(r.ok());
  CHECK(r->observed_state == ObservedState::kRunning);
  CHECK(r->spec.nodes == 1);
  REQUIRE(r->conditions.size() == 1);
  CHECK(r->conditions[0].reason == "JobRunning");
  CHECK(store->ListEvents(a.id, 0, 1)->front().actor == "poller");

  // Nothing changed and no events: nothing written.
  int64_t revision = *store->LatestRevision();
  now_ms += 5000;
  auto same = store->UpdateObserved(
      a.id, [](ExperimentRecord&, std::vector<NewEvent>*) { return absl::OkStatus(); });
  REQUIRE(same.ok());
  CHECK(same->updated_ms == r->updated_ms);
  CHECK(*store->LatestRevision() == revision);
}

TEST_CASE_METHOD(StoreFixture, "a new run starts after the jobs of the last one", "[store]") {
  ExperimentRecord a = Create("runs");
  auto job = store->CreateLaunchIntent(Intent(a.id), "r");
  REQUIRE(job.ok());
  EndJob(job->id, JobStatus::kSucceeded);
  CHECK(store->GetExperiment(a.id)->run_after_job_id == 0);
  auto running = store->UpdateSpec(
      a.id,
      [](ExperimentSpec& s) {
        s.desired_state = DesiredState::kRunning;
        return absl::OkStatus();
      },
      "u");
  REQUIRE(running.ok());
  CHECK(running->run_after_job_id == job->id);
  auto again = store->RequestRun(a.id, "u", "once more");
  REQUIRE(again.ok());
  CHECK(again->generation == running->generation + 1);
  CHECK(store->ListEvents(a.id, 0, 1)->front().reason == "RunRequested");
  CHECK(store->InstallationId()->size() == 8);
}

TEST_CASE_METHOD(StoreFixture, "UpdateJobs writes many jobs in one transaction", "[store]") {
  std::vector<int64_t> ids;
  for (int i = 0; i < 3; ++i) {
    ExperimentRecord e = Create("batch-" + std::to_string(i));
    auto job = store->CreateLaunchIntent(Intent(e.id), "r");
    REQUIRE(job.ok());
    ids.push_back(job->id);
  }
  int64_t revision = *store->LatestRevision();
  int64_t transactions = store->TransactionCountForTesting();
  auto results = store->UpdateJobs(ids, [&](JobRecord& j, std::vector<NewEvent>* events) {
    if (j.id == ids[1]) return absl::FailedPreconditionError("refused");
    j.status = JobStatus::kRunning;
    events->push_back(NewEvent{0, 0, "JobStatusChanged", "RUNNING", "", "poller"});
    return absl::OkStatus();
  });
  REQUIRE(results.ok());
  CHECK(store->TransactionCountForTesting() == transactions + 1);
  REQUIRE(results->size() == 3);
  CHECK((*results)[0].ok());
  CHECK(absl::IsFailedPrecondition((*results)[1].status()));
  CHECK((*results)[2].ok());
  // The refused job is untouched; the others are written with their events.
  CHECK(store->GetJob(ids[0])->status == JobStatus::kRunning);
  CHECK(store->GetJob(ids[1])->status == JobStatus::kLaunching);
  CHECK(store->GetJob(ids[2])->status == JobStatus::kRunning);
  auto events = *store->EventsAfter(revision, 0, 10);
  REQUIRE(events.size() == 2);
  CHECK(events[0].job_id == ids[0]);
  CHECK(events[1].job_id == ids[2]);
  CHECK(*store->LatestRevision() == events[1].id);

  // Nothing changed: nothing written, no event.
  revision = *store->LatestRevision();
  auto same =
      store->UpdateJobs(ids, [](JobRecord&, std::vector<NewEvent>*) { return absl::OkStatus(); });
  REQUIRE(same.ok());
  CHECK(*store->LatestRevision() == revision);
}

TEST_CASE_METHOD(StoreFixture, "a job's unknown outcome is stored", "[store]") {
  ExperimentRecord e = Create("unknown-outcome");
  auto job = store->CreateLaunchIntent(Intent(e.id), "r");
  REQUIRE(job.ok());
  CHECK_FALSE(job->outcome_unknown);
  REQUIRE(store
              ->UpdateJob(job->id,
                          [&](JobRecord& j, std::vector<NewEvent>*) {
                            j.status = JobStatus::kLost;
                            j.ended_ms = now_ms;
                            j.outcome_unknown = true;
                            return absl::OkStatus();
                          })
              .ok());
  CHECK(store->GetJob(job->id)->outcome_unknown);
}

TEST_CASE_METHOD(StoreFixture, "meta keys are set, replaced and read back", "[store]") {
  CHECK(store->GetMeta("backend")->has_value() == false);
  REQUIRE(store->SetMeta("backend", "local").ok());
  CHECK(**store->GetMeta("backend") == "local");
  REQUIRE(store->SetMeta("backend", "skypilot").ok());
  CHECK(**store->GetMeta("backend") == "skypilot");
  CHECK(**store->GetMeta("installation_id") == *store->InstallationId());
}

}  // namespace
}  // namespace skydeck::store
