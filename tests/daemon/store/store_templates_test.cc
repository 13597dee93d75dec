#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "store_fixture.h"

namespace skydeck::store {
namespace {

constexpr char kV1[] = "resources:\n  accelerators: H100:8\n";
constexpr char kV2[] = "resources:\n  accelerators: H100:4\n";

TEST_CASE_METHOD(StoreFixture, "task templates are versioned like flag schemas",
                 "[store][template]") {
  auto v1 = store->ApplyTaskTemplate("h100", kV1, "alice");
  REQUIRE(v1.ok());
  CHECK(v1->changed);
  CHECK(v1->record.version == 1);
  CHECK(v1->record.actor == "alice");
  CHECK(v1->record.created_ms == now_ms);

  // The same text again is not a new version.
  auto same = store->ApplyTaskTemplate("h100", kV1, "bob");
  REQUIRE(same.ok());
  CHECK_FALSE(same->changed);
  CHECK(same->record.version == 1);
  CHECK(same->record.actor == "alice");

  auto dry = store->ApplyTaskTemplate("h100", kV2, "bob", WriteMode::kDryRun);
  REQUIRE(dry.ok());
  CHECK(dry->record.version == 2);
  CHECK((*store->GetTaskTemplate("h100"))->version == 1);  // nothing written

  auto v2 = store->ApplyTaskTemplate("h100", kV2, "bob");
  REQUIRE(v2.ok());
  CHECK(v2->record.version == 2);
  auto current = store->GetTaskTemplate("h100");
  REQUIRE(current.ok());
  REQUIRE(current->has_value());
  CHECK((*current)->yaml == kV2);
  auto old = store->GetTaskTemplateVersion("h100", 1);
  REQUIRE(old.ok());
  CHECK(old->yaml == kV1);
  CHECK(absl::IsNotFound(store->GetTaskTemplateVersion("h100", 7).status()));

  auto deleted = store->DeleteTaskTemplate("h100", "carol");
  REQUIRE(deleted.ok());
  CHECK(*deleted == 3);
  CHECK_FALSE(store->GetTaskTemplate("h100")->has_value());
  CHECK(absl::IsNotFound(store->GetTaskTemplateVersion("h100", 3).status()));  // a marker
  CHECK(store->GetTaskTemplateVersion("h100", 2).ok());  // history stays
  CHECK(absl::IsNotFound(store->DeleteTaskTemplate("h100", "carol").status()));
  // Numbering continues after a delete.
  CHECK(store->ApplyTaskTemplate("h100", kV1, "alice")->record.version == 4);

  REQUIRE(store->ApplyTaskTemplate("a100", kV1, "alice").ok());
  auto all = store->ListTaskTemplates();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].name == "a100");
  CHECK((*all)[1].name == "h100");
  CHECK((*all)[1].version == 4);

  auto events = store->ListEvents(0, 0, 100);
  REQUIRE(events.ok());
  int applied = 0, removed = 0;
  for (const EventRecord& e : *events) {
    applied += e.type == "TaskTemplateApplied";
    removed += e.type == "TaskTemplateDeleted";
  }
  CHECK(applied == 4);
  CHECK(removed == 1);
}

TEST_CASE_METHOD(StoreFixture, "a template experiments name cannot be deleted",
                 "[store][template]") {
  REQUIRE(store->ApplyTaskTemplate("h100", kV1, "alice").ok());
  ExperimentSpec spec = Spec("uses-it");
  spec.template_name = "h100";
  auto e = store->CreateExperiment(spec, "alice");
  REQUIRE(e.ok());
  auto refused = store->DeleteTaskTemplate("h100", "alice");
  CHECK(absl::IsFailedPrecondition(refused.status()));
  CHECK(absl::StrContains(refused.status().message(), "uses-it"));
  // Deleted experiments do not hold it.
  REQUIRE(store->SoftDelete(e->id, "alice").ok());
  CHECK(store->DeleteTaskTemplate("h100", "alice").ok());
}

TEST_CASE_METHOD(StoreFixture, "workload fields of experiments and jobs are stored",
                 "[store][template]") {
  ExperimentSpec spec = Spec("w");
  spec.template_name = "h100";
  spec.envs = {{"WANDB_PROJECT", "llm"}, {"NOTE", "a \"quoted\"\nline"}};
  spec.secrets = {"WANDB_API_KEY", "HF_TOKEN"};
  spec.workdir = "/home/me/project";
  auto e = store->CreateExperiment(spec, "alice");
  REQUIRE(e.ok());
  auto read = store->GetExperiment(e->id);
  REQUIRE(read.ok());
  CHECK(read->spec == spec);  // secrets keep their order

  auto changed = store->UpdateSpec(
      e->id,
      [](ExperimentSpec& s) {
        s.envs["X"] = "1";
        s.workdir = "https://github.com/org/repo.git@main";
        return absl::OkStatus();
      },
      "alice");
  REQUIRE(changed.ok());
  CHECK(changed->generation == 2);
  auto events = store->ListEvents(e->id, 0, 1);
  REQUIRE(events.ok());
  CHECK((*events)[0].message == "changed envs, workdir");

  JobRecord intent = Intent(e->id);
  intent.template_name = "h100";
  intent.template_version = 3;
  intent.envs = spec.envs;
  intent.secrets = spec.secrets;
  intent.workdir = spec.workdir;
  intent.code_commit = std::string(40, 'a');
  intent.code_dirty = true;
  auto job = store->CreateLaunchIntent(intent, "reconciler", [](const JobRecord& j) {
    return absl::StatusOr<std::string>(
        absl::StrCat("task of ", j.backend_name, " attempt ", j.attempt));
  });
  REQUIRE(job.ok());
  CHECK(job->template_name == "h100");
  CHECK(job->template_version == 3);
  CHECK(job->envs == spec.envs);
  CHECK(job->secrets == spec.secrets);
  CHECK(job->workdir == spec.workdir);
  CHECK(job->code_commit == std::string(40, 'a'));
  CHECK(job->code_dirty);
  CHECK(job->rendered_task == absl::StrCat("task of skydeck-", e->id, "-1 attempt 1"));

  // A render that fails writes no intent.
  REQUIRE(store->UpdateJob(job->id, [&](JobRecord& j, std::vector<NewEvent>*) {
    j.status = JobStatus::kFailed;
    j.ended_ms = now_ms;
    return absl::OkStatus();
  }).ok());
  auto failed = store->CreateLaunchIntent(intent, "reconciler", [](const JobRecord&) {
    return absl::StatusOr<std::string>(absl::InternalError("no"));
  });
  CHECK(absl::IsInternal(failed.status()));
  CHECK_FALSE(store->LiveJob(e->id)->has_value());
}

}  // namespace
}  // namespace skydeck::store
