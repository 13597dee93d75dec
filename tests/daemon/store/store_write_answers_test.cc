// What a write answers is the row as a read returns it afterwards: the
// hot writes (UpdateSpec, UpdateObserved, SetDesiredStates by id) answer
// with the record they wrote instead of reading it back, so these tests
// hold them to what a later GetExperiment sees. And UpdateObserved writes
// the observed fields only.
#include <catch2/catch.hpp>

#include "store_fixture.h"

#include "daemon/store/store.h"

namespace skydeck::store {
namespace {

void CheckSameRecord(const ExperimentRecord& answered, const ExperimentRecord& read) {
  INFO("experiment " << read.id);
  CHECK(answered.id == read.id);
  CHECK(answered.spec == read.spec);
  CHECK(answered.generation == read.generation);
  CHECK(answered.SameObserved(read));
  CHECK(answered.run_after_job_id == read.run_after_job_id);
  CHECK(answered.created_ms == read.created_ms);
  CHECK(answered.updated_ms == read.updated_ms);
  CHECK(answered.deleted_ms == read.deleted_ms);
  CHECK(answered.current_job_id == read.current_job_id);
  CHECK(answered.job_count == read.job_count);
  CHECK(answered.state_since_ms == read.state_since_ms);
  CHECK(answered.starred == read.starred);
  CHECK(answered.position == read.position);
}

// An experiment with one ended job (so a new run starts after it) and one
// condition, at a later clock than its creation.
struct AnswersFixture : StoreFixture {
  ExperimentRecord WithHistory(const std::string& name) {
    ExperimentRecord r = Create(name);
    auto job = store->CreateLaunchIntent(Intent(r.id), "r");
    REQUIRE(job.ok());
    EndJob(job->id, JobStatus::kFailed);
    REQUIRE(store
                ->UpdateObserved(r.id,
                                 [](ExperimentRecord& e, std::vector<NewEvent>*) {
                                   e.conditions.push_back({"Ready", false, "Failed", "x", 7});
                                   return absl::OkStatus();
                                 })
                .ok());
    now_ms += 1000;
    return *store->GetExperiment(r.id);
  }
};

TEST_CASE_METHOD(AnswersFixture, "a spec change answers the row as it was written",
                 "[store][write_answers]") {
  ExperimentRecord a = WithHistory("spec");
  auto changed = store->UpdateSpec(a.id, [](ExperimentSpec& s) {
    s.flags["trainer.lr"] = 1e-3;
    s.labels["extra"] = "yes";
    s.desired_state = DesiredState::kRunning;  // a new run: run_after_job_id moves
    return absl::OkStatus();
  }, "tester");
  REQUIRE(changed.ok());
  CHECK(changed->generation == a.generation + 1);
  CHECK(changed->run_after_job_id > 0);
  CheckSameRecord(*changed, *store->GetExperiment(a.id));
}

TEST_CASE_METHOD(AnswersFixture, "an observed change answers the row as it was written",
                 "[store][write_answers]") {
  ExperimentRecord a = WithHistory("observed");
  auto observed =
      store->UpdateObserved(a.id, [](ExperimentRecord& e, std::vector<NewEvent>* events) {
        e.observed_state = ObservedState::kFailed;
        e.observed_generation = e.generation;
        e.restart_count = 2;
        e.next_retry_ms = 1234;
        e.conditions.push_back({"Degraded", true, "BackendUnavailable", "down", 9});
        events->push_back(NewEvent{0, 0, "ObservedStateChanged", "Failed", "failed", "r"});
        return absl::OkStatus();
      });
  REQUIRE(observed.ok());
  CHECK(observed->updated_ms == now_ms);
  CheckSameRecord(*observed, *store->GetExperiment(a.id));
}

TEST_CASE_METHOD(AnswersFixture, "an observed change writes nothing but the observed fields",
                 "[store][write_answers]") {
  ExperimentRecord a = WithHistory("narrow");
  now_ms += 5'000;
  auto observed = store->UpdateObserved(a.id, [](ExperimentRecord& e, std::vector<NewEvent>*) {
    e.observed_state = ObservedState::kStopped;
    // Not the reconciler's: none of these may reach the row.
    e.starred = true;
    e.position = -1;
    e.generation += 5;
    e.run_after_job_id = 999;
    e.created_ms = 1;
    e.deleted_ms = 2;
    e.spec.name = "renamed";
    return absl::OkStatus();
  });
  REQUIRE(observed.ok());
  ExperimentRecord read = *store->GetExperiment(a.id);
  CHECK(read.observed_state == ObservedState::kStopped);
  CHECK(read.generation == a.generation);
  CHECK(read.run_after_job_id == a.run_after_job_id);
  CHECK(read.created_ms == a.created_ms);
  CHECK(read.deleted_ms == 0);
  CHECK(read.spec == a.spec);
  CHECK_FALSE(read.starred);
  CHECK(read.position == a.position);
  // The time in state is the reconciler's too: it starts with the new state.
  CHECK(a.observed_state != ObservedState::kStopped);
  CHECK(read.state_since_ms == now_ms);
  CheckSameRecord(*observed, read);
}

TEST_CASE_METHOD(AnswersFixture, "a desired-state change by id answers the rows as written",
                 "[store][write_answers]") {
  ExperimentRecord a = WithHistory("bulk-a");
  ExperimentRecord b = WithHistory("bulk-b");
  ExperimentRecord c = Create("bulk-c");  // no jobs
  REQUIRE(store
              ->UpdateSpec(c.id,
                           [](ExperimentSpec& s) {
                             s.desired_state = DesiredState::kRunning;
                             return absl::OkStatus();
                           },
                           "tester")
              .ok());
  now_ms += 1000;
  // a and b become RUNNING (a new run after their failed job); c is
  // RUNNING already without a live job: a new run too.
  auto result = store->SetDesiredStates({{c.id, a.id, b.id}, std::nullopt},
                                        DesiredState::kRunning, "tester", "why", BulkOptions());
  REQUIRE(result.ok());
  REQUIRE(result->experiments.size() == 3);
  CHECK(result->changed_ids.size() == 3);
  for (const ExperimentRecord& answered : result->experiments) {
    CHECK(answered.updated_ms == now_ms);
    CheckSameRecord(answered, *store->GetExperiment(answered.id));
  }
  CHECK(result->experiments[0].id == a.id);  // by id
  CHECK(result->experiments[0].run_after_job_id > 0);

  // Unchanged ones answer as they are.
  REQUIRE(store
              ->SetDesiredStates({{a.id}, std::nullopt}, DesiredState::kStopped, "tester", "",
                                 BulkOptions())
              .ok());
  now_ms += 1000;
  auto again = store->SetDesiredStates({{a.id}, std::nullopt}, DesiredState::kStopped, "tester",
                                       "", BulkOptions());
  REQUIRE(again.ok());
  CHECK(again->changed_ids.empty());
  REQUIRE(again->experiments.size() == 1);
  CheckSameRecord(again->experiments[0], *store->GetExperiment(a.id));
}

TEST_CASE_METHOD(AnswersFixture, "writes in the same millisecond still move the update time on",
                 "[store][write_answers]") {
  // The clock stands still: every write below happens "at once".
  ExperimentRecord a = Create("same-ms");
  std::vector<int64_t> times = {a.updated_ms};
  auto spec = store->UpdateSpec(a.id, [](ExperimentSpec& s) {
    s.description = "one";
    return absl::OkStatus();
  }, "tester");
  REQUIRE(spec.ok());
  times.push_back(spec->updated_ms);
  auto observed = store->UpdateObserved(a.id, [](ExperimentRecord& e, std::vector<NewEvent>*) {
    e.observed_state = ObservedState::kStopped;
    return absl::OkStatus();
  });
  REQUIRE(observed.ok());
  times.push_back(observed->updated_ms);
  auto desired = store->SetDesiredStates({{a.id}, std::nullopt}, DesiredState::kTerminated,
                                         "tester", "", BulkOptions());
  REQUIRE(desired.ok());
  REQUIRE(desired->experiments.size() == 1);
  times.push_back(desired->experiments[0].updated_ms);
  auto deleted = store->SoftDelete(a.id, "tester");
  REQUIRE(deleted.ok());
  times.push_back(deleted->updated_ms);
  for (size_t i = 1; i < times.size(); ++i) {
    INFO("write " << i);
    CHECK(times[i] > times[i - 1]);
  }
  CHECK(store->GetExperiment(a.id)->updated_ms == times.back());
}

}  // namespace
}  // namespace skydeck::store
