// Tests of the backend choice (daemon/backend_factory.h): the rules without
// I/O, then MakeBackend on a real database against the fake SkyPilot API
// server, including restarts on the same database.
#include "daemon/backend_factory.h"

#include <unistd.h>

#include <filesystem>

#include <catch2/catch.hpp>

#include "daemon/backend/skypilot_fake_fixture.h"
#include "daemon/store/store.h"

namespace skydeck {
namespace {

using testing::SkyPilotFake;

constexpr char kEndpoint[] = "http://127.0.0.1:46580";

BackendFacts Facts(const std::string& requested) {
  BackendFacts facts;
  facts.requested = requested;
  facts.skypilot_endpoint = kEndpoint;
  return facts;
}

// A probe that must not be called.
backend::BackendInfo NoProbe() {
  FAIL("the SkyPilot API server was probed");
  return {};
}

TEST_CASE("backend choice: auto on a new database probes SkyPilot once", "[backend]") {
  int probes = 0;
  auto answered = [&] {
    ++probes;
    return backend::BackendInfo{"skypilot", true, "31", "1.0.0", "", "http://127.0.0.1:46580"};
  };
  auto silent = [&] {
    ++probes;
    return backend::BackendInfo{
        "skypilot", false, "", "", "connection refused", "http://127.0.0.1:46580"};
  };
  auto sky = ChooseBackend(Facts("auto"), answered);
  REQUIRE(sky.ok());
  CHECK(sky->backend == "skypilot");
  CHECK(sky->reason == "auto: a SkyPilot API server answered at http://127.0.0.1:46580 (API 31)");
  auto local = ChooseBackend(Facts("auto"), silent);
  REQUIRE(local.ok());
  CHECK(local->backend == "local");
  CHECK(local->reason ==
        "auto: no SkyPilot API server answered at http://127.0.0.1:46580 (connection refused)");
  CHECK(probes == 2);
}

TEST_CASE("backend choice: auto keeps the recorded backend without probing", "[backend]") {
  BackendFacts facts = Facts("auto");
  facts.recorded = "skypilot";
  auto chosen = ChooseBackend(facts, NoProbe);
  REQUIRE(chosen.ok());
  CHECK(chosen->backend == "skypilot");
  CHECK(chosen->reason.find("recorded at its first start") != std::string::npos);

  // A database from before the record: its live jobs decide.
  BackendFacts legacy = Facts("auto");
  legacy.live_jobs["local"] = {3, 4};
  chosen = ChooseBackend(legacy, NoProbe);
  REQUIRE(chosen.ok());
  CHECK(chosen->backend == "local");
  CHECK(chosen->reason == "auto: this database has live jobs on local");
}

// Before `auto`, the default was local: such a database, with history but
// no live job, must not move to a SkyPilot server that happens to answer
// (its old jobs' logs would become unreadable, its next runs cloud jobs).
TEST_CASE("backend choice: auto keeps a database without a record where its jobs ran",
          "[backend]") {
  BackendFacts facts = Facts("auto");
  facts.newest_job_backend = "local";
  auto chosen = ChooseBackend(facts, NoProbe);
  REQUIRE(chosen.ok());
  CHECK(chosen->backend == "local");
  CHECK(chosen->reason == "auto: this database's jobs ran on local");
}

TEST_CASE("backend choice: an explicit backend is refused while jobs live on the other",
          "[backend]") {
  BackendFacts facts = Facts("local");
  facts.recorded = "skypilot";
  facts.live_jobs["skypilot"] = {7, 9};
  auto refused = ChooseBackend(facts, NoProbe);
  REQUIRE(absl::IsFailedPrecondition(refused.status()));
  CHECK(refused.status().message() ==
        "this database has 2 live jobs on the skypilot backend (jobs 7, 9), which --backend "
        "local cannot see: they would be reported lost and relaunched. Start skydeckd with "
        "--backend skypilot (or auto) and stop them first, or keep using skypilot");

  // Without live jobs there, switching is fine and said.
  facts.live_jobs.clear();
  auto switched = ChooseBackend(facts, NoProbe);
  REQUIRE(switched.ok());
  CHECK(switched->backend == "local");
  CHECK(switched->reason ==
        "--backend local (this database used skypilot before and has no live jobs there)");

  // Live jobs on both (a database from before the record): it starts, and
  // the other backend's jobs are reported as untouched.
  facts.live_jobs = {{"local", {1}}, {"skypilot", {2, 5}}};
  auto mixed = ChooseBackend(facts, NoProbe);
  REQUIRE(mixed.ok());
  CHECK(mixed->unwatched_jobs == std::vector<int64_t>{2, 5});
}

// A database in a temporary directory, reopened like a restarted daemon.
struct FactoryFixture {
  std::filesystem::path dir;
  DaemonOptions options;

  FactoryFixture() {
    char dir_template[] = "/tmp/skydeck_backend_factory_XXXXXX";
    REQUIRE(mkdtemp(dir_template) != nullptr);
    dir = dir_template;
    options.data_dir = dir.string();
    options.db_path = (dir / "skydeck.db").string();
    options.backend_probe_timeout = absl::Milliseconds(500);
  }
  ~FactoryFixture() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }

  std::unique_ptr<store::Store> OpenStore() {
    auto store = store::Store::Open(options.db_path);
    REQUIRE(store.ok());
    return std::move(*store);
  }

  // One daemon start: the backend chosen, or the error.
  absl::StatusOr<SelectedBackend> StartWith(const std::string& backend) {
    options.backend = backend;
    std::unique_ptr<store::Store> store = OpenStore();
    return MakeBackend(options, "abcd1234", *store);
  }

  // A job that ran and ended, as in a database from before the record.
  void AddEndedJob(const std::string& backend) {
    AddLiveJob(backend);
    std::unique_ptr<store::Store> store = OpenStore();
    auto live = store->ListLiveJobs();
    REQUIRE(live.ok());
    for (const JobRecord& job : *live) {
      REQUIRE(store
                  ->UpdateJob(job.id,
                              [](JobRecord& j, std::vector<NewEvent>*) {
                                j.status = JobStatus::kSucceeded;
                                j.ended_ms = 1;
                                return absl::OkStatus();
                              })
                  .ok());
    }
  }

  void AddLiveJob(const std::string& backend) {
    std::unique_ptr<store::Store> store = OpenStore();
    ExperimentSpec spec;
    spec.name = "live-on-" + backend;
    spec.base_command = "true";
    auto e = store->CreateExperiment(spec, "test");
    REQUIRE(e.ok());
    JobRecord intent;
    intent.experiment_id = e->id;
    intent.backend = backend;
    intent.backend_name = "skydeck-abcd1234-1-{attempt}";
    intent.command = "true";
    REQUIRE(store->CreateLaunchIntent(intent, "test").ok());
  }

  std::optional<std::string> Recorded() { return *OpenStore()->GetMeta(kBackendMetaKey); }
};

TEST_CASE_METHOD(FactoryFixture,
                 "backend auto: a database set up on SkyPilot stays on it while it is down",
                 "[backend]") {
  SkyPilotFake fake;
  options.skypilot_endpoint = fake.endpoint();
  auto first = StartWith("auto");
  REQUIRE(first.ok());
  CHECK(first->backend->name() == "skypilot");
  CHECK(first->reason.find("answered at " + fake.endpoint()) != std::string::npos);
  CHECK(Recorded() == "skypilot");

  fake.Down();
  auto again = StartWith("auto");
  REQUIRE(again.ok());
  CHECK(again->backend->name() == "skypilot");  // not switched to local
  CHECK(again->reason.find("recorded") != std::string::npos);
  CHECK_FALSE(again->backend->Probe().reachable);  // health shows it unreachable
}

TEST_CASE_METHOD(
    FactoryFixture,
    "backend auto: a database whose jobs ran locally stays local when SkyPilot answers",
    "[backend]") {
  SkyPilotFake fake;
  options.skypilot_endpoint = fake.endpoint();
  AddEndedJob("local");
  auto chosen = StartWith("auto");
  REQUIRE(chosen.ok());
  CHECK(chosen->backend->name() == "local");
  CHECK(chosen->reason == "auto: this database's jobs ran on local");
  CHECK(Recorded() == "local");
}

TEST_CASE_METHOD(FactoryFixture,
                 "backend auto: no API server means local, kept when one appears later",
                 "[backend]") {
  SkyPilotFake fake;
  options.skypilot_endpoint = fake.endpoint();
  fake.Down();
  auto first = StartWith("auto");
  REQUIRE(first.ok());
  CHECK(first->backend->name() == "local");
  CHECK(first->reason.find("no SkyPilot API server answered at " + fake.endpoint()) !=
        std::string::npos);
  CHECK(Recorded() == "local");

  fake.Up();
  auto again = StartWith("auto");
  REQUIRE(again.ok());
  CHECK(again->backend->name() == "local");
}

TEST_CASE_METHOD(FactoryFixture, "backend auto: the SkyPilot probe is bounded", "[backend]") {
  SkyPilotFake fake;
  options.skypilot_endpoint = fake.endpoint();
  // Answers, but only after the probe gave up.
  fake.Fault({{"slow_ms", 5000}, {"slow_routes", {"/api/health"}}});
  auto chosen = StartWith("auto");
  REQUIRE(chosen.ok());
  CHECK(chosen->backend->name() == "local");
  CHECK(Recorded() == "local");
}

TEST_CASE_METHOD(FactoryFixture,
                 "backend explicit: a switch with live jobs on the other backend fails start-up",
                 "[backend]") {
  auto local = StartWith("local");
  REQUIRE(local.ok());
  CHECK(local->reason == "--backend local");
  CHECK(Recorded() == "local");
  AddLiveJob("local");

  options.skypilot_endpoint = "http://127.0.0.1:1";  // never contacted
  auto refused = StartWith("skypilot");
  CHECK(absl::IsFailedPrecondition(refused.status()));
  CHECK(Recorded() == "local");  // unchanged
  // Starting with the backend of those jobs, or auto, still works.
  REQUIRE(StartWith("auto").ok());
  CHECK(StartWith("auto")->backend->name() == "local");
}

}  // namespace
}  // namespace skydeck
