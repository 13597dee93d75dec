// Events a caller hands to CreateExperiment and UpdateSpec (the service's
// "FlagWarning") commit in the same transaction as the change, or not at
// all.
#include <catch2/catch.hpp>

#include "store_fixture.h"

namespace skydeck::store {
namespace {

NewEvent Warning(const std::string& message, int64_t experiment_id = 0) {
  NewEvent e;
  e.experiment_id = experiment_id;
  e.type = "FlagWarning";
  e.reason = "UnknownFlag";
  e.message = message;
  e.actor = "tester";
  return e;
}

// No experiment has this id: an event naming it breaks the events table's
// foreign key, a failure between the change and its events.
constexpr int64_t kNoSuchExperiment = 999'999;

std::vector<std::string> Types(const std::vector<EventRecord>& events) {
  std::vector<std::string> out;
  for (const EventRecord& e : events) out.push_back(e.type);
  return out;
}

TEST_CASE("an experiment and its warnings commit together", "[store][events]") {
  StoreFixture f;
  std::vector<int64_t> commits;
  f.store->SetCommitListener([&](int64_t revision) { commits.push_back(revision); });
  int64_t before = f.store->TransactionCountForTesting();

  auto r = f.store->CreateExperiment(StoreFixture::Spec("warned"), "tester", WriteMode::kCommit,
                                     {Warning("unknown flag a"), Warning("unknown flag b")});
  REQUIRE(r.ok());
  CHECK(f.store->TransactionCountForTesting() == before + 1);
  REQUIRE(commits.size() == 1);
  auto events = f.store->EventsAfter(0, 0, 10);
  REQUIRE(events.ok());
  CHECK(Types(*events) == std::vector<std::string>{"Created", "FlagWarning", "FlagWarning"});
  CHECK(commits[0] == events->back().id);        // one revision announces all three
  CHECK(events->back().experiment_id == r->id);  // 0 meant the new experiment
  CHECK(events->back().message == "unknown flag b");
}

TEST_CASE("an experiment whose warning cannot be written is not created", "[store][events]") {
  StoreFixture f;
  auto r = f.store->CreateExperiment(StoreFixture::Spec("half"), "tester", WriteMode::kCommit,
                                     {Warning("lost", kNoSuchExperiment)});
  CHECK_FALSE(r.ok());
  CHECK(f.store->FindExperimentByName("half").status().code() == absl::StatusCode::kNotFound);
  CHECK(f.store->LatestRevision().value() == 0);
}

TEST_CASE("a dry run writes no warnings", "[store][events]") {
  StoreFixture f;
  auto r = f.store->CreateExperiment(StoreFixture::Spec("dry"), "tester", WriteMode::kDryRun,
                                     {Warning("not written")});
  REQUIRE(r.ok());
  CHECK(f.store->LatestRevision().value() == 0);
}

TEST_CASE("a spec change and the events its mutation appends commit together", "[store][events]") {
  StoreFixture f;
  ExperimentRecord e = f.Create("changed");
  int64_t revision = f.store->LatestRevision().value();
  std::vector<int64_t> commits;
  f.store->SetCommitListener([&](int64_t rev) { commits.push_back(rev); });

  auto r = f.store->UpdateSpec(
      e.id,
      [](ExperimentSpec& spec, std::vector<NewEvent>* events) {
        spec.flags["trainer.lrr"] = 0.1;
        events->push_back(Warning("unknown flag trainer.lrr"));
        return absl::OkStatus();
      },
      "tester");
  REQUIRE(r.ok());
  CHECK(r->generation == e.generation + 1);
  REQUIRE(commits.size() == 1);
  auto events = f.store->EventsAfter(revision, 0, 10);
  REQUIRE(events.ok());
  CHECK(Types(*events) == std::vector<std::string>{"Updated", "FlagWarning"});
  CHECK(commits[0] == events->back().id);
  CHECK(events->back().experiment_id == e.id);
}

TEST_CASE("a spec change whose event cannot be written is rolled back", "[store][events]") {
  StoreFixture f;
  ExperimentRecord e = f.Create("kept");
  int64_t revision = f.store->LatestRevision().value();
  auto r = f.store->UpdateSpec(
      e.id,
      [](ExperimentSpec& spec, std::vector<NewEvent>* events) {
        spec.description = "never stored";
        events->push_back(Warning("breaks the foreign key", kNoSuchExperiment));
        return absl::OkStatus();
      },
      "tester");
  CHECK_FALSE(r.ok());
  ExperimentRecord after = f.store->GetExperiment(e.id).value();
  CHECK(after.spec.description.empty());
  CHECK(after.generation == e.generation);
  CHECK(f.store->LatestRevision().value() == revision);  // no "Updated" either
}

TEST_CASE("events appended to an unchanged spec are still written", "[store][events]") {
  StoreFixture f;
  ExperimentRecord e = f.Create("same");
  int64_t revision = f.store->LatestRevision().value();
  auto r = f.store->UpdateSpec(
      e.id,
      [](ExperimentSpec&, std::vector<NewEvent>* events) {
        events->push_back(Warning("still unknown"));
        return absl::OkStatus();
      },
      "tester");
  REQUIRE(r.ok());
  CHECK(r->generation == e.generation);
  auto events = f.store->EventsAfter(revision, 0, 10);
  REQUIRE(events.ok());
  CHECK(Types(*events) == std::vector<std::string>{"FlagWarning"});
}

TEST_CASE("events of a failed mutation are dropped with it", "[store][events]") {
  StoreFixture f;
  ExperimentRecord e = f.Create("refused");
  int64_t revision = f.store->LatestRevision().value();
  auto r = f.store->UpdateSpec(
      e.id,
      [](ExperimentSpec&, std::vector<NewEvent>* events) {
        events->push_back(Warning("dropped"));
        return absl::InvalidArgumentError("no");
      },
      "tester");
  CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(f.store->LatestRevision().value() == revision);
}

}  // namespace
}  // namespace skydeck::store
