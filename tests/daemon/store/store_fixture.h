// File: tests/daemon/store/store_fixture.h
//
// An in-memory store with a controllable clock, and spec/job builders.
#pragma once

#include <memory>

#include <catch2/catch.hpp>

#include "daemon/store/store.h"

namespace skydeck::store {

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
