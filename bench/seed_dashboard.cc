// seed_dashboard: writes a database of N experiments with J ended jobs each
// through the Store API (no raw SQL), for the dashboard at scale
// (tests/browser/run_scale_test.py, bench/dashboard_scale.py).
//
//   seed_dashboard --db PATH [--experiments 10000] [--jobs-per-experiment 10]
//
// Experiments are named exp-<i>, labelled sweep=s<i % 50> and
// group=g<i % 7>, with flags that differ within a sweep; all are STOPPED
// (nothing for the reconciler to launch). Jobs are launched and ended in
// rounds: one launch intent per experiment, then every one of them ended
// (SUCCEEDED, one in 10 FAILED) in one UpdateJobs transaction, so the
// newest job of an experiment is the last round's. PATH must not exist.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "CLI/CLI.hpp"
#include "daemon/store/store.h"

namespace {

using namespace skydeck::store;
using skydeck::ExperimentSpec;
using skydeck::JobRecord;
using skydeck::JobStatus;
using skydeck::NewEvent;

void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "seed_dashboard: %s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("seed_dashboard: a database of many experiments with jobs, via the Store API");
  std::string db;
  int experiments = 10000, jobs_per_experiment = 10;
  app.add_option("--db", db, "database file to create")->required();
  app.add_option("--experiments", experiments, "experiments to create")
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--jobs-per-experiment", jobs_per_experiment, "ended jobs per experiment")
      ->check(CLI::Range(0, 1000));
  CLI11_PARSE(app, argc, argv);
  if (std::filesystem::exists(db)) {
    std::fprintf(stderr, "seed_dashboard: %s exists; it must be a new file\n", db.c_str());
    return 2;
  }

  auto opened = Store::Open(db);
  Check(opened.status(), "open");
  Store& store = **opened;
  std::vector<int64_t> ids;
  ids.reserve(experiments);
  for (int i = 0; i < experiments; ++i) {
    ExperimentSpec spec;
    spec.name = absl::StrCat("exp-", i);
    spec.base_command = "python train.py";
    spec.flags = {{"trainer.lr", 1e-4 * (1 + i % 13)},
                  {"model.layers", int64_t{4 + i % 5}},
                  {"seed", int64_t{i}}};
    spec.labels = {{"sweep", absl::StrCat("s", i % 50)}, {"group", absl::StrCat("g", i % 7)}};
    auto created = store.CreateExperiment(spec, "seed");
    Check(created.status(), "create");
    ids.push_back(created->id);
  }

  for (int round = 0; round < jobs_per_experiment; ++round) {
    std::vector<int64_t> job_ids;
    job_ids.reserve(ids.size());
    for (int64_t id : ids) {
      JobRecord intent;
      intent.experiment_id = id;
      intent.backend = "local";
      intent.backend_name = absl::StrCat("seed-", id, "-{attempt}");
      intent.command = "python train.py";
      auto job = store.CreateLaunchIntent(intent, "seed");
      Check(job.status(), "launch intent");
      job_ids.push_back(job->id);
    }
    int64_t now = NowMs();
    auto ended = store.UpdateJobs(job_ids, [&](JobRecord& j, std::vector<NewEvent>*) {
      j.status = j.id % 10 == 0 ? JobStatus::kFailed : JobStatus::kSucceeded;
      j.exit_code = j.status == JobStatus::kFailed ? 1 : 0;
      j.started_ms = now - 60'000;
      j.ended_ms = now;
      return absl::OkStatus();
    });
    Check(ended.status(), "end jobs");
    for (const auto& r : *ended) Check(r.status(), "end job");
  }
  std::printf("seeded %s: %d experiments, %d jobs\n", db.c_str(), experiments,
              experiments * jobs_per_experiment);
  return 0;
}
