#include "daemon/reconcile/poller.h"

#include <catch2/catch.hpp>

#include "common/model/event_types.h"
#include "daemon/reconcile/reconcile_fixture.h"

namespace skydeck::reconcile {
namespace {

// An experiment whose first job the fake backend has launched (PENDING).
int64_t Launched(ReconcileFixture& f, const std::string& name) {
  int64_t id = f.Create(name);
  f.Reconcile(id);
  REQUIRE(f.Live(id));
  REQUIRE(!f.Live(id)->backend_job_id.empty());
  return id;
}

TEST_CASE_METHOD(ReconcileFixture, "a poll asks about every live job in one backend call",
                 "[reconcile][poller]") {
  Launched(*this, "a");
  Launched(*this, "b");
  auto polled = poller->PollOnce();
  REQUIRE(polled.ok());
  CHECK(*polled == 2);
  CHECK(backend.query_calls == 1);
  CHECK(poller->health().backend_calls == 1);
}

TEST_CASE_METHOD(ReconcileFixture,
                 "unresolved intents and jobs of another backend are not asked about",
                 "[reconcile][poller]") {
  int64_t crashed = Create("crashed");
  WriteCrashedIntent(crashed);
  int64_t elsewhere = Create("elsewhere");
  WriteCrashedIntent(elsewhere, "local");
  auto polled = poller->PollOnce();
  REQUIRE(polled.ok());
  CHECK(*polled == 0);
  CHECK(backend.query_calls == 0);
  CHECK(backend.probe_calls == 1);  // the tick's only exchange
}

TEST_CASE_METHOD(ReconcileFixture, "an unchanged job is neither written nor enqueued",
                 "[reconcile][poller]") {
  int64_t id = Launched(*this, "steady");
  Poll();  // PENDING as reported: backend_status is filled in
  enqueued.clear();
  auto before = store->ListEvents(id, 0, 1000);
  REQUIRE(before.ok());
  JobRecord job_before = *Live(id);
  Poll();
  CHECK(enqueued.empty());
  CHECK(*Live(id) == job_before);
  auto after = store->ListEvents(id, 0, 1000);
  REQUIRE(after.ok());
  CHECK(after->size() == before->size());
}

TEST_CASE_METHOD(ReconcileFixture, "a status change is written and its experiment enqueued",
                 "[reconcile][poller]") {
  int64_t id = Launched(*this, "moving");
  enqueued.clear();
  backend.Set(Live(id)->backend_job_id, JobStatus::kRunning);
  Poll();
  CHECK(enqueued == std::set<int64_t>{id});
  CHECK(Live(id)->status == JobStatus::kRunning);
  CHECK(HasEvent(id, model::event::kJobStatusChanged));
}

TEST_CASE_METHOD(ReconcileFixture, "a job the backend no longer reports is LOST, outcome unknown",
                 "[reconcile][poller]") {
  int64_t id = Launched(*this, "vanished");
  Poll();  // PENDING: the backend has reported it
  std::string backend_id = Live(id)->backend_job_id;
  {
    std::lock_guard<std::mutex> lock(backend.mu);
    backend.jobs.erase(backend_id);
  }
  enqueued.clear();
  Poll();
  CHECK(!Live(id));
  JobRecord job = Jobs(id).front();
  CHECK(job.status == JobStatus::kLost);
  CHECK(job.outcome_unknown);
  CHECK(job.ended_ms == now_ms);
  CHECK(enqueued == std::set<int64_t>{id});
}

TEST_CASE_METHOD(ReconcileFixture,
                 "a launch the backend no longer reports is looked up by name, not lost",
                 "[reconcile][poller]") {
  int64_t id = Launched(*this, "forgotten");  // LAUNCHING: never reported yet
  {
    std::lock_guard<std::mutex> lock(backend.mu);
    backend.jobs.clear();
  }
  enqueued.clear();
  Poll();
  REQUIRE(Live(id));
  CHECK(Live(id)->status == JobStatus::kLaunching);
  CHECK(Live(id)->backend_job_id.empty());
  CHECK(HasEvent(id, model::event::kLaunchRequestForgotten));
  CHECK(enqueued == std::set<int64_t>{id});
}

TEST_CASE_METHOD(ReconcileFixture, "failing polls are kept as health and enqueue on each flip",
                 "[reconcile][poller]") {
  int64_t id = Launched(*this, "watched");
  Poll();
  enqueued.clear();
  CHECK(!poller->Failure());

  backend.query_error = absl::UnavailableError("connection refused");
  int64_t first_failure = now_ms += 1000;
  CHECK(absl::IsUnavailable(poller->PollOnce().status()));
  now_ms += 1000;
  CHECK(!poller->PollOnce().ok());
  std::optional<PollFailure> failure = poller->Failure();
  REQUIRE(failure);
  CHECK(failure->since_ms == first_failure);  // the streak's first, not the last
  CHECK(failure->last_success_ms == first_failure - 1000);
  CHECK(failure->error.find("connection refused") != std::string::npos);
  CHECK(poller->health().polls_error == 2);
  CHECK(enqueued == std::set<int64_t>{id});  // once, when polls started failing

  enqueued.clear();
  backend.query_error = absl::OkStatus();
  now_ms += 1000;
  Poll();
  CHECK(!poller->Failure());
  CHECK(poller->health().failing_since_ms == 0);
  CHECK(poller->health().last_success_ms == now_ms);
  CHECK(enqueued == std::set<int64_t>{id});  // and when they work again
}

TEST_CASE_METHOD(ReconcileFixture, "with no live job, an unreachable backend fails the poll",
                 "[reconcile][poller]") {
  backend.reachable = false;
  absl::StatusOr<int> polled = poller->PollOnce();
  CHECK(absl::IsUnavailable(polled.status()));
  CHECK(poller->health().last_success_ms == 0);

  SECTION("a probe the caller made counts as the tick's exchange") {
    backend::BackendInfo reachable{"fake", true, "1", "1", "", ""};
    int probes = backend.probe_calls;
    CHECK(poller->PollOnce(reachable).ok());
    CHECK(backend.probe_calls == probes);
  }
}

}  // namespace
}  // namespace skydeck::reconcile
