// DaemonMetrics over a running Controller on an in-memory store and the
// fake backend (metered, as in skydeckd): reconcile outcomes, launches, the
// queue and live jobs by status read back from valid Prometheus text.
#include "daemon/metrics/daemon_metrics.h"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>

#include <catch2/catch.hpp>

#include "../../common/exposition_checker.h"
#include "../reconcile/fake_backend.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"

namespace skydeck::metrics {
namespace {

constexpr auto kWaitLimit = std::chrono::seconds(30);

struct DaemonMetricsFixture {
  std::unique_ptr<store::Store> store;
  BackendCallMetrics backend_calls;
  GrpcServerMetrics grpc;
  reconcile::FakeBackend* fake;  // owned by `backend`
  std::unique_ptr<MeteredBackend> backend;
  std::unique_ptr<reconcile::Controller> controller;
  store::StateCounts* counts = nullptr;  // live jobs from the store when null

  std::mutex mu;
  std::condition_variable changed;
  int reconciled = 0;  // guarded by mu

  DaemonMetricsFixture() {
    auto opened = store::Store::Open(":memory:");
    REQUIRE(opened.ok());
    store = std::move(*opened);
    auto owned = std::make_unique<reconcile::FakeBackend>();
    fake = owned.get();
    backend = std::make_unique<MeteredBackend>(std::move(owned), &backend_calls);
  }
  ~DaemonMetricsFixture() {
    if (controller) controller->Stop();
  }

  void Start() {
    reconcile::ControllerOptions o;
    o.workers = 1;
    o.poll_interval = absl::Hours(1);
    o.resync_interval = absl::Hours(1);
    o.error_backoff_initial = absl::Hours(1);  // an error is retried only when a test says
    o.on_reconciled = [this](const reconcile::ReconcileOutcome&) {
      {
        std::lock_guard<std::mutex> lock(mu);
        reconciled++;
      }
      changed.notify_all();
    };
    controller = std::make_unique<reconcile::Controller>(store.get(), backend.get(), "abcd1234", o);
    controller->Start();
  }

  int64_t Create(const std::string& name) {
    ExperimentSpec s;
    s.name = name;
    s.base_command = "python train.py";
    s.desired_state = DesiredState::kRunning;
    auto r = store->CreateExperiment(s, "test");
    REQUIRE(r.ok());
    return r->id;
  }

  bool WaitReconciled(int n) {
    std::unique_lock<std::mutex> lock(mu);
    return changed.wait_for(lock, kWaitLimit, [&] { return reconciled >= n; });
  }

  // Scrapes until `ready` holds (bounded): the poller re-enqueues
  // experiments whose jobs it saw change, so counts settle a moment later.
  testing::Exposition ScrapeWhen(const std::function<bool(const testing::Exposition&)>& ready) {
    auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
    testing::Exposition e = Scrape();
    while (!ready(e) && std::chrono::steady_clock::now() < deadline) {
      std::unique_lock<std::mutex> lock(mu);
      changed.wait_for(lock, std::chrono::milliseconds(5));
      lock.unlock();
      e = Scrape();
    }
    return e;
  }

  testing::Exposition Scrape() {
    std::string text = DaemonMetrics({.store = store.get(),
                                      .counts = counts,
                                      .controller = controller.get(),
                                      .backend_name = backend->name(),
                                      .grpc = &grpc,
                                      .backend_calls = &backend_calls});
    testing::Exposition e = testing::ParseExposition(text);
    INFO(text);
    CHECK(e.problems.empty());
    for (const auto& p : e.problems) WARN(p);
    return e;
  }
};

TEST_CASE("a reconcile that launches shows up as outcome, launch and live job",
          "[metrics][daemon]") {
  DaemonMetricsFixture f;
  f.Create("a");
  f.Start();
  REQUIRE(f.WaitReconciled(1));
  REQUIRE(f.controller->Refresh().ok());  // the poller observes the launched job
  testing::Exposition e = f.ScrapeWhen([](const testing::Exposition& e) {
    return e.Value("skydeck_live_jobs", {{"status", "PENDING"}}) == 1 &&
           e.Value("skydeck_reconcile_queue_depth") == 0;
  });
  CHECK(e.Value("skydeck_reconciles_total", {{"outcome", "ok"}}) >= 1);
  CHECK(e.Value("skydeck_reconciles_total", {{"outcome", "error"}}) == 0);
  CHECK(e.Value("skydeck_backend_launches_total", {{"outcome", "ok"}}) == 1);
  CHECK(e.Value("skydeck_backend_calls_total",
                {{"backend", "fake"}, {"operation", "launch"}, {"code", "OK"}}) == 1);
  CHECK(e.Value("skydeck_backend_call_duration_seconds_count",
                {{"backend", "fake"}, {"operation", "launch"}}) == 1);
  CHECK(e.Value("skydeck_backend_calls_total",
                {{"backend", "fake"}, {"operation", "health"}, {"code", "OK"}}) >= 1);
  // The fake reports a launched job PENDING; every other live status is 0.
  CHECK(e.Value("skydeck_live_jobs", {{"status", "PENDING"}}) == 1);
  CHECK(e.Value("skydeck_live_jobs", {{"status", "RUNNING"}}) == 0);
  CHECK(e.Value("skydeck_live_jobs", {{"status", "LAUNCHING"}}) == 0);
  CHECK_FALSE(e.Value("skydeck_live_jobs", {{"status", "SUCCEEDED"}}));  // terminal: not live
  CHECK(e.Value("skydeck_reconcile_queue_depth") == 0);
  CHECK(e.Value("skydeck_backend_polls_total", {{"backend", "fake"}, {"outcome", "ok"}}) >= 1);
  CHECK(e.Value("skydeck_backend_calls_total",
                {{"backend", "fake"}, {"operation", "query"}, {"code", "OK"}}) >= 1);
  CHECK(e.types.count("skydeck_grpc_requests_total") == 1);
}

TEST_CASE("a failing launch counts an error outcome and a delayed retry", "[metrics][daemon]") {
  DaemonMetricsFixture f;
  f.fake->launch_error = absl::UnavailableError("API server down");
  f.Create("a");
  f.Start();
  REQUIRE(f.WaitReconciled(1));
  testing::Exposition e = f.Scrape();
  CHECK(e.Value("skydeck_backend_launches_total", {{"outcome", "error"}}) == 1);
  CHECK(e.Value("skydeck_backend_calls_total",
                {{"backend", "fake"}, {"operation", "launch"}, {"code", "UNAVAILABLE"}}) == 1);
  // Whether the reconcile itself failed or recorded the failure and asked
  // to be called back, the experiment now waits out a delay, its launch
  // intent kept (the backend may have started the job).
  double ok = *e.Value("skydeck_reconciles_total", {{"outcome", "ok"}});
  double error = *e.Value("skydeck_reconciles_total", {{"outcome", "error"}});
  CHECK(ok + error == 1);
  CHECK(e.Value("skydeck_reconcile_queue_delayed") == 1);
  CHECK(e.Value("skydeck_reconcile_queue_depth") == 0);
  CHECK(e.Value("skydeck_live_jobs", {{"status", "LAUNCHING"}}) == 1);
}

TEST_CASE("experiments waiting for a worker count in the queue depth", "[metrics][daemon]") {
  DaemonMetricsFixture f;
  std::mutex gate_mu;
  std::condition_variable gate_cv;
  bool inside = false, release = false;
  f.fake->before_launch = [&](const backend::JobSpec&) {
    std::unique_lock<std::mutex> lock(gate_mu);
    inside = true;
    gate_cv.notify_all();
    gate_cv.wait(lock, [&] { return release; });
    return absl::OkStatus();
  };
  for (const char* name : {"a", "b", "c"}) f.Create(name);
  f.Start();  // one worker: it holds one launch, two ids wait
  {
    std::unique_lock<std::mutex> lock(gate_mu);
    REQUIRE(gate_cv.wait_for(lock, kWaitLimit, [&] { return inside; }));
  }
  testing::Exposition e = f.Scrape();
  CHECK(e.Value("skydeck_reconcile_queue_depth") == 2);
  CHECK(e.Value("skydeck_live_jobs", {{"status", "LAUNCHING"}}) == 1);  // the launch intent
  {
    std::lock_guard<std::mutex> lock(gate_mu);
    release = true;
  }
  gate_cv.notify_all();
  REQUIRE(f.WaitReconciled(3));
  REQUIRE(f.controller->Refresh().ok());
  e = f.ScrapeWhen([](const testing::Exposition& e) {
    return e.Value("skydeck_live_jobs", {{"status", "PENDING"}}) == 3 &&
           e.Value("skydeck_reconcile_queue_depth") == 0;
  });
  CHECK(e.Value("skydeck_live_jobs", {{"status", "PENDING"}}) == 3);
  CHECK(e.Value("skydeck_reconcile_queue_depth") == 0);
  CHECK(e.Value("skydeck_reconciles_total", {{"outcome", "ok"}}) >= 3);
  CHECK(e.Value("skydeck_backend_launches_total", {{"outcome", "ok"}}) == 3);
}

TEST_CASE("live jobs come from the background counts when the daemon has them",
          "[metrics][daemon]") {
  DaemonMetricsFixture f;
  f.Create("a");  // no controller: no job, so the store's count would be 0
  int calls = 0;
  store::StateCounts counts(
      [&]() -> absl::StatusOr<store::StateCountsSnapshot> {
        ++calls;
        store::StateCountsSnapshot s;
        s.live_jobs_by_status[JobStatus::kRunning] = 7;
        return s;
      },
      [] { return int64_t{0}; }, absl::Hours(1));
  f.counts = &counts;
  for (int i = 0; i < 3; ++i) {
    testing::Exposition e = f.Scrape();
    CHECK(e.Value("skydeck_live_jobs", {{"status", "RUNNING"}}) == 7);
    CHECK(e.Value("skydeck_live_jobs", {{"status", "PENDING"}}) == 0);
  }
  CHECK(calls == 1);  // three scrapes, one count
}

TEST_CASE_METHOD(DaemonMetricsFixture, "the store's writer shows its transactions, writes and time",
                 "[metrics][daemon]") {
  Create("a");
  Create("b");
  testing::Exposition e = Scrape();
  store::Store::WriteStats stats = store->write_stats();
  CHECK(stats.writes >= 2);
  CHECK(e.Value("skydeck_store_write_transactions_total") ==
        static_cast<double>(stats.transactions));
  CHECK(e.Value("skydeck_store_writes_total") == static_cast<double>(stats.writes));
  CHECK(e.Value("skydeck_store_writer_busy_seconds_total") > 0);
  CHECK(e.Value("skydeck_store_writer_busy_seconds_total") <= absl::ToDoubleSeconds(stats.busy));
}

TEST_CASE("the background integrity check shows as running until it is done", "[metrics][daemon]") {
  const std::string dir = absl::StrCat(std::filesystem::temp_directory_path().string(),
                                       "/skydeck-metrics-check-", getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/skydeck.db";
  { REQUIRE(store::Store::Open(path).ok()); }  // an existing file is checked
  absl::Notification release;
  store::OpenOptions options;
  options.integrity_check_budget = absl::Seconds(30);
  options.check_history_in_background = true;
  options.before_history_table = [&](const std::string&) {
    (void)release.WaitForNotificationWithTimeout(absl::Seconds(30));
  };
  {
    auto opened = store::Store::Open(path, options);
    REQUIRE(opened.ok());
    DaemonMetricSources sources;
    sources.store = opened->get();
    CHECK(
        testing::ParseExposition(DaemonMetrics(sources)).Value("skydeck_database_check_running") ==
        1);
    release.Notify();
    REQUIRE(sources.store->history_check()->WaitUntilDone(absl::Seconds(30)));
    CHECK(
        testing::ParseExposition(DaemonMetrics(sources)).Value("skydeck_database_check_running") ==
        0);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace skydeck::metrics
