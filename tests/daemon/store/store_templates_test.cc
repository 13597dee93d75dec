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
  CHECK(store->GetTaskTemplateVersion("h100", 2).ok());                        // history stays
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
  EndJob(job->id, JobStatus::kFailed);
  auto failed = store->CreateLaunchIntent(intent, "reconciler", [](const JobRecord&) {
    return absl::StatusOr<std::string>(absl::InternalError("no"));
  });
  CHECK(absl::IsInternal(failed.status()));
  CHECK_FALSE(store->LiveJob(e->id)->has_value());
}

}  // namespace
}  // namespace skydeck::store

namespace skydeck::store {
namespace {

CodeSnapshotRef Ref(char digit, std::string file_name = "") {
  CodeSnapshotRef r;
  r.id = std::string(64, digit);
  r.size_bytes = 1234;
  r.file_count = 5;
  r.file_name = std::move(file_name);
  r.git_commit = std::string(40, 'c');
  r.git_dirty = true;
  return r;
}

TEST_CASE_METHOD(StoreFixture, "code snapshots of specs, jobs and templates are stored",
                 "[store][snapshots]") {
  ExperimentSpec spec = Spec("code");
  spec.workdir = "/home/me/project";
  spec.code = Ref('1');
  auto e = store->CreateExperiment(spec, "alice");
  REQUIRE(e.ok());
  CHECK(store->GetExperiment(e->id)->spec.code == spec.code);

  // A new snapshot of the same directory is a spec change.
  auto changed = store->UpdateSpec(
      e->id,
      [](ExperimentSpec& s) {
        s.code = Ref('2');
        return absl::OkStatus();
      },
      "alice");
  REQUIRE(changed.ok());
  CHECK(changed->generation == 2);
  CHECK(store->ListEvents(e->id, 0, 1)->at(0).message == "changed code_snapshot");

  JobRecord intent = Intent(e->id);
  intent.code_snapshot = std::string(64, '3');
  auto job = store->CreateLaunchIntent(intent, "reconciler");
  REQUIRE(job.ok());
  CHECK(job->code_snapshot == std::string(64, '3'));

  auto applied = store->ApplyTaskTemplate("t", "name: t\n", "alice", WriteMode::kCommit,
                                          {{"./cfg.yaml", Ref('4', "cfg.yaml")}});
  REQUIRE(applied.ok());
  CHECK(applied->record.version == 1);
  auto read = store->GetTaskTemplate("t");
  REQUIRE(read.ok());
  CHECK((*read)->mount_snapshots.at("./cfg.yaml") == Ref('4', "cfg.yaml"));
  // The same text with the same snapshot changes nothing; another content
  // of a mount is a new version (the old one keeps its snapshot).
  CHECK_FALSE(store
                  ->ApplyTaskTemplate("t", "name: t\n", "bob", WriteMode::kCommit,
                                      {{"./cfg.yaml", Ref('4', "cfg.yaml")}})
                  ->changed);
  auto v2 = store->ApplyTaskTemplate("t", "name: t\n", "bob", WriteMode::kCommit,
                                     {{"./cfg.yaml", Ref('5', "cfg.yaml")}});
  REQUIRE(v2.ok());
  CHECK(v2->record.version == 2);
  CHECK(store->GetTaskTemplateVersion("t", 1)->mount_snapshots.at("./cfg.yaml").id ==
        std::string(64, '4'));

  // What the collector keeps: every experiment (deleted too), job and
  // template version's snapshots.
  ExperimentSpec other = Spec("deleted");
  other.workdir = "/p";
  other.code = Ref('6');
  auto d = store->CreateExperiment(other, "alice");
  REQUIRE(d.ok());
  REQUIRE(store->SoftDelete(d->id, "alice").ok());
  auto refs = store->ReferencedCodeSnapshots();
  REQUIRE(refs.ok());
  CHECK(*refs == std::set<std::string>{std::string(64, '2'), std::string(64, '3'),
                                       std::string(64, '4'), std::string(64, '5'),
                                       std::string(64, '6')});
}

}  // namespace
}  // namespace skydeck::store
