// File: tests/daemon/store/store_fixture.h
//
// An in-memory store with a controllable clock, spec/job builders, and a
// scratch directory for tests that need database files.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include <catch2/catch.hpp>

#include "daemon/store/store.h"

namespace skydeck::store {

// A directory of its own per test (mode 0755 under the usual umask: the
// read-only tests reach it as another user), removed with everything in it.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int n = 0;
    path = std::filesystem::temp_directory_path() /
           ("skydeck-store-" + std::to_string(getpid()) + "-" + std::to_string(n++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string File(const std::string& name) const { return (path / name).string(); }
};

struct StoreFixture {
  int64_t now_ms = 1'700'000'000'000;
  std::unique_ptr<Store> store;

  StoreFixture() {
    auto opened = Store::Open(":memory:", [this] { return now_ms; });
    REQUIRE(opened.ok());
    store = std::move(*opened);
  }

  static ExperimentSpec Spec(const std::string& name) {
    ExperimentSpec s;
    s.name = name;
    s.base_command = "python train.py";
    s.flags = {{"trainer.lr", 3e-4}, {"model.layers", int64_t{4}}};
    s.labels = {{"sweep", "lr"}};
    return s;
  }

  ExperimentRecord Create(const std::string& name) {
    auto r = store->CreateExperiment(Spec(name), "tester");
    REQUIRE(r.ok());
    return *r;
  }

  // Ends job `job_id` now with `status`, as the poller would.
  void EndJob(int64_t job_id, JobStatus status) {
    auto ended = store->UpdateJob(job_id, [&](JobRecord& j, std::vector<NewEvent>*) {
      j.status = status;
      j.ended_ms = now_ms;
      return absl::OkStatus();
    });
    REQUIRE(ended.ok());
  }

  static JobRecord Intent(int64_t experiment_id) {
    JobRecord j;
    j.experiment_id = experiment_id;
    j.backend = "local";
    j.backend_name = "skydeck-" + std::to_string(experiment_id) + "-{attempt}";
    j.command = "python train.py";
    return j;
  }
};

}  // namespace skydeck::store
