// File: tests/daemon/reconcile/reconcile_fixture.h
//
// A store, a fake backend, a fake secrets source, a reconciler and a
// poller, all on one fake clock.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "fake_backend.h"

#include "daemon/reconcile/poller.h"
#include "daemon/reconcile/reconciler.h"
#include "daemon/store/store.h"
#include "daemon/workload/secret_source.h"

namespace skydeck::reconcile {

using ::skydeck::ExperimentRecord;
using ::skydeck::ExperimentSpec;
using ::skydeck::JobRecord;

// Secret values from a map the test controls.
class FakeSecrets final : public workload::SecretSource {
 public:
  absl::StatusOr<workload::SecretValues> Resolve(const std::vector<std::string>& names) override {
    std::lock_guard<std::mutex> lock(mu);
    workload::SecretValues out;
    std::vector<std::string> missing;
    for (const std::string& n : names) {
      if (auto it = values.find(n); it != values.end()) {
        out[n] = it->second;
      } else {
        missing.push_back(n);
      }
    }
    if (!missing.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("secret ", absl::StrJoin(missing, ", "), " is not set in the test"));
    }
    return out;
  }
  std::string Describe() const override { return "the test"; }

  std::mutex mu;
  std::map<std::string, std::string> values;
};

// Store + fake backend + reconciler + poller, all on one fake clock.
struct ReconcileFixture {
  int64_t now_ms = 1'700'000'000'000;
  std::unique_ptr<store::Store> store;
  FakeBackend backend;
  std::unique_ptr<Reconciler> reconciler;
  std::unique_ptr<Poller> poller;
  std::set<int64_t> enqueued;
  FakeSecrets secrets;
  // The code version "found" in each workdir.
  std::map<std::string, CodeVersion> code;

  ReconcileFixture() {
    auto opened = store::Store::Open(":memory:", [this] { return now_ms; });
    REQUIRE(opened.ok());
    store = std::move(*opened);
    ReconcilerOptions options;
    options.environment_retry_limit = absl::Minutes(30);
    options.poll_failure = [this] {
      return poller ? poller->Failure() : std::optional<PollFailure>();
    };
    options.secrets = &secrets;
    options.inspect_code = [this](const std::string& dir) { return code[dir]; };
    reconciler = std::make_unique<Reconciler>(
        store.get(), &backend, "abcd1234", [this] { return now_ms; }, options);
    poller = std::make_unique<Poller>(
        store.get(), &backend, [this] { return now_ms; },
        [this](int64_t id) { enqueued.insert(id); });
  }

  int64_t Create(const std::string& name, DesiredState desired = DesiredState::kRunning,
                 int max_restarts = 3) {
    ExperimentSpec s;
    s.name = name;
    s.base_command = "python train.py";
    s.flags = {{"trainer.lr", 3e-4}};
    s.desired_state = desired;
    s.max_restarts = max_restarts;
    auto r = store->CreateExperiment(s, "test");
    REQUIRE(r.ok());
    return r->id;
  }

  ReconcileResult Reconcile(int64_t id) {
    auto result = reconciler->Reconcile(id);
    REQUIRE(result.ok());
    return *result;
  }

  void SetDesired(int64_t id, DesiredState d) {
    REQUIRE(store
                ->UpdateSpec(
                    id,
                    [d](ExperimentSpec& s) {
                      s.desired_state = d;
                      return absl::OkStatus();
                    },
                    "test")
                .ok());
  }

  ExperimentRecord Get(int64_t id) { return *store->GetExperiment(id); }
  std::optional<JobRecord> Live(int64_t id) { return *store->LiveJob(id); }
  std::vector<JobRecord> Jobs(int64_t id) { return *store->ListJobs(id, 0, 100); }

  void Poll() { REQUIRE(poller->PollOnce().ok()); }

  // Makes the live job end with `status` and lets the reconciler see it.
  void Finish(int64_t id, JobStatus status, int exit_code) {
    auto live = Live(id);
    REQUIRE(live);
    backend.Set(live->backend_job_id, status, exit_code);
    Poll();
  }

  // A launch intent as a daemon leaves it when it dies between writing the
  // intent and recording the backend's answer.
  void WriteCrashedIntent(int64_t id, const std::string& backend_name = "fake") {
    JobRecord intent;
    intent.experiment_id = id;
    intent.backend = backend_name;
    intent.backend_name = reconciler->JobName(id, 1);
    intent.command = "python train.py";
    REQUIRE(store->CreateLaunchIntent(intent, "reconciler").ok());
  }

  bool HasEvent(int64_t id, const std::string& type) {
    // Named: a range-for over `*temporary` reads the StatusOr after it died.
    auto events = store->ListEvents(id, 0, 1000);
    REQUIRE(events.ok());
    for (const auto& e : *events) {
      if (e.type == type) return true;
    }
    return false;
  }

  const skydeck::Condition* Condition(const ExperimentRecord& r, const std::string& type) {
    for (const auto& c : r.conditions) {
      if (c.type == type) return &c;
    }
    return nullptr;
  }
};

}  // namespace skydeck::reconcile
