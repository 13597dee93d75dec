#include "daemon/reconcile/reconciler.h"

#include <set>

#include <catch2/catch.hpp>

#include "fake_backend.h"
#include "reconcile_fixture.h"

#include "daemon/backend/never_sent.h"
#include "daemon/backend/retry_at.h"
#include "daemon/reconcile/poller.h"
#include "daemon/reconcile/restart_policy.h"
#include "daemon/store/store.h"

namespace skydeck::reconcile {
namespace {

TEST_CASE_METHOD(ReconcileFixture, "desired RUNNING launches one job from an intent",
                 "[reconcile]") {
  int64_t id = Create("run");
  Reconcile(id);
  REQUIRE(backend.launch_calls == 1);
  auto job = Live(id);
  REQUIRE(job);
  CHECK(job->attempt == 1);
  CHECK(job->backend_name == "skydeck-abcd1234-" + std::to_string(id) + "-1");
  CHECK(job->status == JobStatus::kLaunching);  // until the backend reports
  CHECK(job->command == "python train.py 'trainer.lr=0.0003'");
  const backend::JobSpec& spec = backend.specs.at(job->backend_job_id);
  CHECK(spec.name == job->backend_name);
  CHECK(spec.env.at("SKYDECK_EXPERIMENT") == "run");
  CHECK(spec.env.at("SKYDECK_ATTEMPT") == "1");
  CHECK(spec.env.at("SKYDECK_RUN_NAME") == "run");
  ExperimentRecord r = Get(id);
  CHECK(r.observed_generation == r.generation);
  CHECK(HasEvent(id, "LaunchIntent"));
  CHECK(HasEvent(id, "Launched"));
}

TEST_CASE_METHOD(ReconcileFixture, "acting on a spec change is visible to watchers",
                 "[reconcile]") {
  int64_t id = Create("gen");
  Reconcile(id);
  backend.Set(Live(id)->backend_job_id, JobStatus::kRunning);
  Poll();
  Reconcile(id);
  int64_t revision = *store->LatestRevision();
  // A change the running job does not depend on is acted on at once.
  REQUIRE(store
              ->UpdateSpec(
                  id,
                  [](ExperimentSpec& s) {
                    s.labels["team"] = "vision";
                    return absl::OkStatus();
                  },
                  "u")
              .ok());
  Reconcile(id);
  ExperimentRecord r = Get(id);
  CHECK(r.observed_generation == r.generation);
  auto events = *store->EventsAfter(revision, id, 10);
  REQUIRE(events.size() == 2);  // Updated, Reconciled
  CHECK(events[1].type == "Reconciled");
  Reconcile(id);  // nothing new: no event
  CHECK(store->EventsAfter(revision, id, 10)->size() == 2);
}

TEST_CASE_METHOD(ReconcileFixture, "double start and repeated reconciles never double-launch",
                 "[reconcile]") {
  int64_t id = Create("twice");
  Reconcile(id);
  Reconcile(id);
  REQUIRE(store->RequestRun(id, "u").ok());  // a second `start` while live
  Reconcile(id);
  Reconcile(id);
  CHECK(backend.launch_calls == 1);
  CHECK(Jobs(id).size() == 1);
}

TEST_CASE_METHOD(ReconcileFixture, "a succeeded job leaves the experiment SUCCEEDED",
                 "[reconcile]") {
  int64_t id = Create("ok");
  Reconcile(id);
  auto job = Live(id);
  backend.Set(job->backend_job_id, JobStatus::kRunning);
  Poll();
  CHECK(enqueued.count(id));
  Reconcile(id);
  CHECK(Get(id).observed_state == ObservedState::kRunning);
  Finish(id, JobStatus::kSucceeded, 0);
  Reconcile(id);
  ExperimentRecord r = Get(id);
  CHECK(r.observed_state == ObservedState::kSucceeded);
  CHECK(Jobs(id).front().exit_code == 0);
  Reconcile(id);
  CHECK(backend.launch_calls == 1);
  // `start` again means a new run.
  REQUIRE(store->RequestRun(id, "u").ok());
  Reconcile(id);
  CHECK(backend.launch_calls == 2);
  CHECK(Live(id)->attempt == 2);
}

TEST_CASE_METHOD(ReconcileFixture, "failures back off then stall when the budget is spent",
                 "[reconcile]") {
  int64_t id = Create("flaky", DesiredState::kRunning, /*max_restarts=*/2);
  Reconcile(id);
  for (int attempt = 1; attempt <= 3; ++attempt) {
    INFO("attempt " << attempt);
    REQUIRE(backend.launch_calls == attempt);
    Finish(id, JobStatus::kFailed, 1);
    ReconcileResult result = Reconcile(id);
    ExperimentRecord r = Get(id);
    CHECK(r.observed_state == ObservedState::kFailed);
    if (attempt <= 2) {
      // Backoff doubles from 10 s, +-20% jitter.
      double expected = 10.0 * (1 << (attempt - 1));
      double got = absl::ToDoubleSeconds(result.requeue_after);
      CHECK(got >= expected * 0.8);
      CHECK(got <= expected * 1.2);
      CHECK(r.restart_count == attempt);
      CHECK(r.next_retry_ms == now_ms + absl::ToInt64Milliseconds(result.requeue_after));
      // Too early: nothing happens.
      now_ms += absl::ToInt64Milliseconds(result.requeue_after) / 2;
      Reconcile(id);
      CHECK(backend.launch_calls == attempt);
      now_ms += absl::ToInt64Milliseconds(result.requeue_after);
      Reconcile(id);
    } else {
      CHECK(result.requeue_after == absl::ZeroDuration());
      CHECK(r.restart_count == 2);  // all of the budget, never more
      REQUIRE(Condition(r, "Stalled"));
      CHECK(Condition(r, "Stalled")->status);
      CHECK(Condition(r, "Stalled")->reason == "RestartBudgetExhausted");
      CHECK(HasEvent(id, "Stalled"));
    }
  }
  now_ms += 3600 * 1000;
  Reconcile(id);
  CHECK(backend.launch_calls == 3);  // stalled: no more launches
  // The user acts: a new run with a fresh budget.
  REQUIRE(store->RequestRun(id, "u").ok());
  Reconcile(id);
  CHECK(backend.launch_calls == 4);
  CHECK_FALSE(Condition(Get(id), "Stalled")->status);
}

TEST_CASE_METHOD(ReconcileFixture, "preemption and lost jobs are not counted", "[reconcile]") {
  int64_t id = Create("spot", DesiredState::kRunning, /*max_restarts=*/0);
  Reconcile(id);
  auto job = Live(id);
  backend.Set(job->backend_job_id, JobStatus::kRecovering, std::nullopt, 1);
  Poll();
  Reconcile(id);
  CHECK(Get(id).observed_state == ObservedState::kRunning);
  CHECK(HasEvent(id, "Preempted"));
  CHECK(Live(id)->recovery_count == 1);
  backend.Set(job->backend_job_id, JobStatus::kRunning, std::nullopt, 1);
  Poll();
  // The backend reports the job LOST (e.g. a local process that vanished
  // without an exit code): retried without spending the (zero) budget.
  backend.Set(job->backend_job_id, JobStatus::kLost);
  Poll();
  CHECK(Jobs(id).front().status == JobStatus::kLost);
  CHECK_FALSE(Jobs(id).front().outcome_unknown);
  ReconcileResult r = Reconcile(id);
  CHECK(r.requeue_after > absl::ZeroDuration());
  now_ms += absl::ToInt64Milliseconds(r.requeue_after);
  Reconcile(id);
  CHECK(backend.launch_calls == 2);
  // A real failure with max_restarts 0 stalls at once.
  Finish(id, JobStatus::kFailed, 3);
  Reconcile(id);
  CHECK(Condition(Get(id), "Stalled")->status);
}

TEST_CASE_METHOD(ReconcileFixture, "stop cancels the live job and start resumes", "[reconcile]") {
  int64_t id = Create("stoppable");
  Reconcile(id);
  auto job = Live(id);
  SetDesired(id, DesiredState::kStopped);
  Reconcile(id);
  CHECK(backend.cancelled == std::vector<std::string>{job->backend_job_id});
  CHECK(Live(id)->status == JobStatus::kCancelling);
  CHECK(Get(id).observed_state == ObservedState::kStopping);
  Reconcile(id);
  CHECK(backend.cancel_calls == 1);  // already cancelling
  Finish(id, JobStatus::kCancelled, 143);
  Reconcile(id);
  CHECK(Get(id).observed_state == ObservedState::kStopped);
  CHECK(backend.launch_calls == 1);
  SetDesired(id, DesiredState::kRunning);
  Reconcile(id);
  CHECK(backend.launch_calls == 2);
  CHECK(Live(id)->attempt == 2);
}

TEST_CASE_METHOD(ReconcileFixture, "TERMINATED tears down and is never relaunched", "[reconcile]") {
  int64_t id = Create("term");
  Reconcile(id);
  auto job = Live(id);
  SetDesired(id, DesiredState::kTerminated);
  Reconcile(id);
  Finish(id, JobStatus::kCancelled, 143);
  Reconcile(id);
  CHECK(backend.torn_down == std::vector<std::string>{job->backend_job_id});
  CHECK(Get(id).observed_state == ObservedState::kTerminated);
  now_ms += 24 * 3600 * 1000;
  Reconcile(id);
  Reconcile(id);
  CHECK(backend.launch_calls == 1);
  CHECK(backend.torn_down.size() == 1);
}

TEST_CASE_METHOD(ReconcileFixture, "a crashed intent found on the backend is adopted",
                 "[reconcile]") {
  int64_t id = Create("crashed");
  // The daemon wrote the intent, launched, and died before recording the id.
  WriteCrashedIntent(id);
  std::string planted = backend.Plant(reconciler->JobName(id, 1), JobStatus::kRunning);
  Reconcile(id);
  CHECK(backend.launch_calls == 0);
  CHECK(Live(id)->backend_job_id == planted);
  CHECK(Live(id)->status == JobStatus::kRunning);
  CHECK(HasEvent(id, "IntentResolved"));
}

TEST_CASE_METHOD(ReconcileFixture, "a crashed intent missing on the backend launches once",
                 "[reconcile]") {
  int64_t id = Create("lost-intent");
  WriteCrashedIntent(id);
  Reconcile(id);
  Reconcile(id);
  CHECK(backend.launch_calls == 1);
  CHECK(backend.launched_names == std::vector<std::string>{reconciler->JobName(id, 1)});
  CHECK(Jobs(id).size() == 1);  // same attempt, not a new one
}

TEST_CASE_METHOD(ReconcileFixture,
                 "a crashed intent the backend cannot look up yet is neither launched nor "
                 "cancelled",
                 "[reconcile]") {
  int64_t id = Create("unsettled");
  WriteCrashedIntent(id);
  // E.g. SkyPilot: a launch sent before the crash may still reach the server.
  backend.find_error = absl::UnavailableError("a launch may still reach the server");
  CHECK(absl::IsUnavailable(reconciler->Reconcile(id).status()));
  SetDesired(id, DesiredState::kStopped);
  CHECK(absl::IsUnavailable(reconciler->Reconcile(id).status()));
  CHECK(backend.launch_calls == 0);
  CHECK(backend.cancel_calls == 0);
  REQUIRE(Live(id));
  CHECK(Live(id)->status == JobStatus::kLaunching);
  CHECK(Condition(Get(id), "Degraded")->status);

  // The late launch arrives: adopted, then cancelled as desired.
  backend.find_error = absl::OkStatus();
  std::string planted = backend.Plant(reconciler->JobName(id, 1), JobStatus::kPending);
  Reconcile(id);
  CHECK(backend.launch_calls == 0);
  CHECK(backend.cancelled == std::vector<std::string>{planted});
}

// When the backend says when it can tell (SkyPilot's launch settle after
// a restart), waiting is no failure: no backoff, no Degraded, asked again
// then (a failure count carried over from an outage would otherwise delay
// the intent by minutes after the settle ended).
TEST_CASE_METHOD(ReconcileFixture,
                 "an intent the backend can tell about later is requeued for then, not failed",
                 "[reconcile]") {
  int64_t id = Create("settling");
  WriteCrashedIntent(id);
  // On the reconciler's clock, not the wall clock (the fixture's is years off).
  backend.find_error = backend::RetryAtError("a launch may still reach the server",
                                             absl::FromUnixMillis(now_ms) + absl::Seconds(5));
  ReconcileResult result = Reconcile(id);  // OK, not an error
  CHECK(result.requeue_after == absl::Seconds(5));
  CHECK(backend.launch_calls == 0);
  const skydeck::Condition* degraded = Condition(Get(id), "Degraded");
  CHECK((degraded == nullptr || !degraded->status));
  REQUIRE(Live(id));
  CHECK(Live(id)->status == JobStatus::kLaunching);

  backend.find_error = absl::OkStatus();  // settled: nothing arrived
  Reconcile(id);
  CHECK(backend.launch_calls == 1);
}

// The crashed intent never reached the backend, so nothing ran its
// snapshot: a flag edited since runs in the launch, not a stale spec that
// would be Outdated from its first second.
TEST_CASE_METHOD(ReconcileFixture,
                 "a crashed intent the backend never saw launches the current spec",
                 "[reconcile]") {
  int64_t id = Create("edited-while-down");
  WriteCrashedIntent(id);
  REQUIRE(store
              ->UpdateSpec(
                  id,
                  [](ExperimentSpec& s) {
                    s.flags["trainer.lr"] = 1e-3;
                    return absl::OkStatus();
                  },
                  "test")
              .ok());
  Reconcile(id);
  REQUIRE(backend.launch_calls == 1);
  auto job = Live(id);
  REQUIRE(job);
  CHECK(backend.specs.at(job->backend_job_id).command.find("trainer.lr=0.001") !=
        std::string::npos);
  CHECK(job->command.find("trainer.lr=0.001") != std::string::npos);
  Poll();
  Reconcile(id);
  const skydeck::Condition* outdated = Condition(Get(id), "Outdated");
  CHECK((outdated == nullptr || !outdated->status));
  CHECK(Get(id).observed_generation == Get(id).generation);
}

TEST_CASE_METHOD(ReconcileFixture, "stop during LAUNCHING never launches", "[reconcile]") {
  int64_t id = Create("stop-early");
  WriteCrashedIntent(id);
  SetDesired(id, DesiredState::kStopped);
  Reconcile(id);
  CHECK(backend.launch_calls == 0);
  CHECK_FALSE(Live(id));
  CHECK(Jobs(id).front().status == JobStatus::kCancelled);
  CHECK(Get(id).observed_state == ObservedState::kStopped);

  // Same, but the launch did reach the backend: it gets cancelled.
  int64_t id2 = Create("stop-early-2");
  WriteCrashedIntent(id2);
  std::string planted = backend.Plant(reconciler->JobName(id2, 1), JobStatus::kPending);
  SetDesired(id2, DesiredState::kStopped);
  Reconcile(id2);
  CHECK(backend.launch_calls == 0);
  CHECK(backend.cancelled == std::vector<std::string>{planted});
}

TEST_CASE_METHOD(ReconcileFixture, "transient launch errors keep the intent and degrade",
                 "[reconcile]") {
  int64_t id = Create("outage");
  backend.launch_error = absl::UnavailableError("connection refused");
  CHECK(absl::IsUnavailable(reconciler->Reconcile(id).status()));
  auto live = Live(id);
  REQUIRE(live);
  CHECK(live->status == JobStatus::kLaunching);
  CHECK(live->backend_job_id.empty());
  CHECK(Condition(Get(id), "Degraded")->status);
  CHECK(HasEvent(id, "LaunchFailed"));
  backend.launch_error = absl::OkStatus();
  Reconcile(id);
  CHECK(backend.find_calls == 1);  // resolved by name before relaunching
  CHECK(backend.launch_calls == 2);
  CHECK(Jobs(id).size() == 1);
  CHECK_FALSE(Condition(Get(id), "Degraded")->status);
}

TEST_CASE_METHOD(ReconcileFixture, "backend misconfiguration degrades without stalling",
                 "[reconcile]") {
  int64_t id = Create("expired-token");
  backend.launch_error = absl::UnauthenticatedError("token expired");
  CHECK(absl::IsUnauthenticated(reconciler->Reconcile(id).status()));
  CHECK(Live(id)->status == JobStatus::kLaunching);
  ExperimentRecord r = Get(id);
  CHECK(Condition(r, "Degraded")->status);
  const skydeck::Condition* stalled = Condition(r, "Stalled");
  CHECK((stalled == nullptr || !stalled->status));
}

TEST_CASE_METHOD(ReconcileFixture, "a refused launch stalls instead of looping", "[reconcile]") {
  int64_t id = Create("refused");
  backend.launch_error = absl::InvalidArgumentError("unknown accelerator");
  Reconcile(id);
  CHECK(Jobs(id).front().status == JobStatus::kFailedPrechecks);
  Reconcile(id);
  ExperimentRecord r = Get(id);
  CHECK(Condition(r, "Stalled")->status);
  CHECK(Condition(r, "Stalled")->reason == "LaunchRefused");
  CHECK(backend.launch_calls == 1);
}

TEST_CASE_METHOD(ReconcileFixture, "the poller makes one backend call for all jobs",
                 "[reconcile][poller]") {
  for (int i = 0; i < 20; ++i) Reconcile(Create("p" + std::to_string(i)));
  int before = backend.query_calls;
  Poll();
  CHECK(backend.query_calls == before + 1);
  backend.query_error = absl::UnavailableError("down");
  CHECK(absl::IsUnavailable(poller->PollOnce().status()));
  PollHealth h = poller->health();
  CHECK_FALSE(h.last_error.empty());
  CHECK(h.last_success_ms != 0);
}

TEST_CASE_METHOD(ReconcileFixture,
                 "a job the backend forgets has an unknown outcome and is not relaunched",
                 "[reconcile][poller]") {
  int64_t id = Create("forgotten");
  Reconcile(id);
  auto job = Live(id);
  backend.Set(job->backend_job_id, JobStatus::kRunning);
  Poll();
  Reconcile(id);
  // E.g. it SUCCEEDED while skydeckd was down, then SkyPilot's jobs
  // controller stopped: the queue answers ClusterNotUpError, no jobs.
  backend.jobs.erase(job->backend_job_id);
  Poll();
  JobRecord lost = Jobs(id).front();
  CHECK(lost.status == JobStatus::kLost);
  CHECK(lost.outcome_unknown);
  CHECK(lost.failure_reason.find("unknown") != std::string::npos);
  CHECK(enqueued.count(id));
  ReconcileResult result = Reconcile(id);
  CHECK(result.requeue_after == absl::ZeroDuration());
  now_ms += 3600 * 1000;
  Reconcile(id);
  CHECK(backend.launch_calls == 1);  // never relaunched by itself
  ExperimentRecord r = Get(id);
  CHECK(r.observed_state == ObservedState::kFailed);
  CHECK(r.restart_count == 0);
  REQUIRE(Condition(r, "Stalled"));
  CHECK(Condition(r, "Stalled")->status);
  CHECK(Condition(r, "Stalled")->reason == "JobOutcomeUnknown");
  CHECK(Condition(r, "Stalled")->message.find("start the experiment again") != std::string::npos);
  CHECK(HasEvent(id, "Stalled"));
  // The user checked the output and starts it again: a new attempt.
  REQUIRE(store->RequestRun(id, "u").ok());
  Reconcile(id);
  CHECK(backend.launch_calls == 2);
  CHECK(Live(id)->attempt == 2);
  CHECK_FALSE(Condition(Get(id), "Stalled")->status);
}

// SkyPilot keeps finished requests only for a while: a daemon down longer
// finds the launch request of a LAUNCHING job gone, though the job it
// started may run. It is looked up by name (found: adopted, not launched
// again), not marked LOST and left running unowned.
TEST_CASE_METHOD(ReconcileFixture, "a launch the backend forgot is resolved by name, not given up",
                 "[reconcile][poller]") {
  int64_t id = Create("forgotten-request");
  Reconcile(id);
  auto job = Live(id);
  REQUIRE(job);
  REQUIRE(job->status == JobStatus::kLaunching);
  std::string request_id = job->backend_job_id;
  // The request is gone; the managed job it created runs under its name.
  backend::JobObservation started = backend.jobs.at(request_id);
  backend.jobs.erase(request_id);
  started.backend_job_id = "fake-managed-7";
  started.status = JobStatus::kRunning;
  started.raw_status = "RUNNING";
  backend.jobs[started.backend_job_id] = started;

  Poll();
  job = Live(id);
  REQUIRE(job);
  CHECK(job->status == JobStatus::kLaunching);
  CHECK(job->backend_job_id.empty());
  CHECK_FALSE(job->outcome_unknown);
  CHECK(enqueued.count(id));
  CHECK(HasEvent(id, "LaunchRequestForgotten"));

  Reconcile(id);
  CHECK(backend.launch_calls == 1);
  job = Live(id);
  REQUIRE(job);
  CHECK(job->backend_job_id == "fake-managed-7");
  Poll();
  CHECK(Live(id)->status == JobStatus::kRunning);
}

// A database that had live jobs on both backends before its backend was
// recorded: this daemon's backend cannot find, cancel or poll the other's
// job, so looking it up (empty) and launching would run it twice.
TEST_CASE_METHOD(ReconcileFixture,
                 "a live job of another backend is neither relaunched nor cancelled",
                 "[reconcile]") {
  int64_t id = Create("elsewhere");
  WriteCrashedIntent(id, "skypilot");
  Reconcile(id);
  CHECK(backend.find_calls == 0);
  CHECK(backend.launch_calls == 0);
  ExperimentRecord r = Get(id);
  REQUIRE(Condition(r, "Stalled"));
  CHECK(Condition(r, "Stalled")->status);
  CHECK(Condition(r, "Stalled")->reason == "JobOnOtherBackend");
  CHECK(Condition(r, "Stalled")->message.find("--backend skypilot") != std::string::npos);
  CHECK(HasEvent(id, "Stalled"));

  SetDesired(id, DesiredState::kStopped);
  Reconcile(id);
  CHECK(backend.cancel_calls == 0);
  REQUIRE(Live(id));
  CHECK(Live(id)->backend == "skypilot");
}

TEST_CASE_METHOD(ReconcileFixture,
                 "a flag change while running leaves the job running and Outdated", "[reconcile]") {
  int64_t id = Create("edited");
  Reconcile(id);
  auto job = Live(id);
  backend.Set(job->backend_job_id, JobStatus::kRunning);
  Poll();
  Reconcile(id);
  int64_t launched_generation = Get(id).generation;
  CHECK(Get(id).observed_generation == launched_generation);

  auto set_lr = [&](double lr) {
    REQUIRE(store
                ->UpdateSpec(
                    id,
                    [lr](ExperimentSpec& s) {
                      s.flags["trainer.lr"] = lr;
                      return absl::OkStatus();
                    },
                    "u")
                .ok());
  };
  set_lr(1e-3);
  Reconcile(id);
  Reconcile(id);
  CHECK(backend.cancel_calls == 0);  // not restarted behind the user's back
  CHECK(backend.launch_calls == 1);
  ExperimentRecord r = Get(id);
  CHECK(r.observed_state == ObservedState::kRunning);
  // Not acted on: observed_generation stays at the spec the job runs.
  CHECK(r.observed_generation == launched_generation);
  CHECK(r.generation == launched_generation + 1);
  REQUIRE(Condition(r, "Outdated"));
  CHECK(Condition(r, "Outdated")->status);
  CHECK(Condition(r, "Outdated")->reason == "SpecChangedWhileRunning");
  CHECK(Condition(r, "Outdated")->message ==
        "job " + std::to_string(job->id) + " (attempt 1) runs the spec of generation " +
            std::to_string(launched_generation) +
            "; stop and start the experiment to apply generation " + std::to_string(r.generation));
  CHECK(Condition(r, "Running")->status);
  int outdated_events = 0;
  auto events = store->ListEvents(id, 0, 1000);
  REQUIRE(events.ok());
  for (const auto& e : *events) outdated_events += e.type == "Outdated";
  CHECK(outdated_events == 1);  // once, not per reconcile

  SECTION("changing it back makes the job current again") {
    set_lr(3e-4);
    Reconcile(id);
    r = Get(id);
    CHECK(r.observed_generation == r.generation);
    CHECK_FALSE(Condition(r, "Outdated")->status);
  }
  SECTION("stop and start launch the new spec") {
    SetDesired(id, DesiredState::kStopped);
    Reconcile(id);
    Finish(id, JobStatus::kCancelled, 143);
    Reconcile(id);
    r = Get(id);
    CHECK(r.observed_state == ObservedState::kStopped);
    CHECK(r.observed_generation == r.generation);
    CHECK_FALSE(Condition(r, "Outdated")->status);
    SetDesired(id, DesiredState::kRunning);
    Reconcile(id);
    CHECK(Live(id)->command == "python train.py 'trainer.lr=0.001'");
    r = Get(id);
    CHECK(r.observed_generation == r.generation);
    CHECK_FALSE(Condition(r, "Outdated")->status);
  }
  SECTION("a retry after a failure launches the new spec") {
    Finish(id, JobStatus::kFailed, 1);
    ReconcileResult retry = Reconcile(id);
    r = Get(id);
    CHECK(r.observed_generation == r.generation);  // the retry will apply it
    CHECK_FALSE(Condition(r, "Outdated")->status);
    now_ms += absl::ToInt64Milliseconds(retry.requeue_after);
    Reconcile(id);
    CHECK(Live(id)->command == "python train.py 'trainer.lr=0.001'");
  }
  SECTION("once the job has ended, the next start runs the new spec") {
    Finish(id, JobStatus::kSucceeded, 0);
    Reconcile(id);
    r = Get(id);
    CHECK(r.observed_state == ObservedState::kSucceeded);
    // Nothing runs an older spec any more: acted on, nothing to do.
    CHECK(r.observed_generation == r.generation);
    CHECK_FALSE(Condition(r, "Outdated")->status);
    REQUIRE(store->RequestRun(id, "u").ok());
    Reconcile(id);
    CHECK(Live(id)->command == "python train.py 'trainer.lr=0.001'");
    r = Get(id);
    CHECK(r.observed_generation == r.generation);
    CHECK_FALSE(Condition(r, "Outdated")->status);
  }
}

TEST_CASE_METHOD(ReconcileFixture,
                 "the poller writes nothing for unchanged jobs and batches the changed ones",
                 "[reconcile][poller]") {
  std::vector<int64_t> ids;
  for (int i = 0; i < 20; ++i) {
    ids.push_back(Create("batch" + std::to_string(i)));
    Reconcile(ids.back());
  }
  for (auto& [job_id, obs] : backend.jobs) backend.Set(job_id, JobStatus::kRunning);
  int64_t transactions = store->TransactionCountForTesting();
  Poll();
  CHECK(store->TransactionCountForTesting() == transactions + 1);  // 20 changed jobs, one write
  CHECK(enqueued.size() == 20);

  enqueued.clear();
  transactions = store->TransactionCountForTesting();
  int64_t revision = *store->LatestRevision();
  Poll();
  Poll();
  CHECK(store->TransactionCountForTesting() == transactions);  // nothing changed: no write at all
  CHECK(*store->LatestRevision() == revision);
  CHECK(enqueued.empty());

  for (int i = 0; i < 5; ++i) backend.Set(Live(ids[i])->backend_job_id, JobStatus::kSucceeded, 0);
  Poll();
  CHECK(store->TransactionCountForTesting() == transactions + 1);
  CHECK(enqueued == std::set<int64_t>(ids.begin(), ids.begin() + 5));
  for (int i = 0; i < 20; ++i) {
    INFO(i);
    CHECK(Jobs(ids[i]).front().status == (i < 5 ? JobStatus::kSucceeded : JobStatus::kRunning));
  }
}

// ----- issue 16: what a real SkyPilot API server showed -------------------

// A backend that reads its failure reasons like SkyPilot's: "NoCloudAccess"
// in a reason is an environment failure, whatever the status.
backend::FailureClass NoCloudAccessReader(JobStatus status, absl::string_view reason) {
  if (reason.find("NoCloudAccessError") != absl::string_view::npos) {
    return {backend::FailureKind::kEnvironment, "NoCloudAccess", "run `sky check`"};
  }
  return backend::DefaultFailureClass(status);
}

TEST_CASE_METHOD(ReconcileFixture,
                 "an environment failure is retried for a bounded time, then Stalled, never "
                 "'fix the experiment'",
                 "[reconcile]") {
  backend.classify = NoCloudAccessReader;
  int64_t id = Create("no-cloud", DesiredState::kRunning, /*max_restarts=*/1);
  int64_t first_failure = 0;
  for (int attempt = 1; attempt <= 4; ++attempt) {
    INFO("attempt " << attempt);
    Reconcile(id);
    REQUIRE(backend.launch_calls == attempt);
    auto live = Live(id);
    REQUIRE(live);
    // The same cause as SkyPilot's controller reports it.
    backend.Set(live->backend_job_id, JobStatus::kFailedPrechecks, std::nullopt, 0,
                "[sky.exceptions.NoCloudAccessError] Cloud access is not set up.");
    Poll();
    if (first_failure == 0) first_failure = now_ms;
    ReconcileResult result = Reconcile(id);
    ExperimentRecord r = Get(id);
    CHECK(r.observed_state == ObservedState::kFailed);
    CHECK(r.restart_count == 0);  // not the experiment's fault
    CHECK_FALSE(Condition(r, "Stalled")->status);
    REQUIRE(Condition(r, "Degraded"));
    CHECK(Condition(r, "Degraded")->status);
    CHECK(Condition(r, "Degraded")->reason == "NoCloudAccess");
    CHECK(Condition(r, "Degraded")->message.find("sky check") != std::string::npos);
    CHECK(Condition(r, "Degraded")->message.find("fix the experiment") == std::string::npos);
    REQUIRE(result.requeue_after > absl::ZeroDuration());
    now_ms += absl::ToInt64Milliseconds(result.requeue_after);
  }
  // The retry event does not pretend the budget is spent.
  auto events = store->ListEvents(id, 0, 1000);
  REQUIRE(events.ok());
  for (const auto& e : *events) {
    if (e.type == "RetryScheduled") {
      CHECK(e.message.find("not counted against the restart budget") != std::string::npos);
      CHECK(e.message.find("retry 1/1") == std::string::npos);
    }
  }
  // Until the retry runs, Degraded stays (the cause is not shown fixed)...
  Reconcile(id);
  CHECK(Live(id));
  CHECK(Condition(Get(id), "Degraded")->status);
  backend.Set(Live(id)->backend_job_id, JobStatus::kStarting);
  Poll();
  Reconcile(id);
  CHECK(Condition(Get(id), "Degraded")->status);
  CHECK(Get(id).observed_state == ObservedState::kPending);
  // Past the limit: Stalled with the reason and the hint.
  backend.Set(Live(id)->backend_job_id, JobStatus::kFailedPrechecks, std::nullopt, 0,
              "[sky.exceptions.NoCloudAccessError] Cloud access is not set up.");
  now_ms = first_failure + absl::ToInt64Milliseconds(absl::Minutes(30)) + 1;
  Poll();
  Reconcile(id);
  ExperimentRecord r = Get(id);
  CHECK(Condition(r, "Stalled")->status);
  CHECK(Condition(r, "Stalled")->reason == "NoCloudAccess");
  CHECK(Condition(r, "Stalled")->message.find("sky check") != std::string::npos);
  CHECK(Condition(r, "Stalled")->message.find("fix the experiment") == std::string::npos);
  int launches = backend.launch_calls;
  now_ms += 3600 * 1000;
  Reconcile(id);
  CHECK(backend.launch_calls == launches);  // stalled: no more launches
}

TEST_CASE_METHOD(ReconcileFixture,
                 "an environment failure seen after its backoff is Degraded while it relaunches",
                 "[reconcile]") {
  backend.classify = NoCloudAccessReader;
  int64_t id = Create("seen-late");
  Reconcile(id);
  std::string job = Live(id)->backend_job_id;
  backend.Set(job, JobStatus::kFailedPrechecks, std::nullopt, 0,
              "[sky.exceptions.NoCloudAccessError] Cloud access is not set up.");
  {
    // A real server's end_at was older than the poll that brought it.
    std::lock_guard<std::mutex> lock(backend.mu);
    backend.jobs[job].end_ms = now_ms - 60'000;
  }
  Poll();
  Reconcile(id);
  CHECK(backend.launch_calls == 2);  // the backoff had already passed
  ExperimentRecord r = Get(id);
  CHECK(r.observed_state == ObservedState::kLaunching);
  REQUIRE(Condition(r, "Degraded"));
  CHECK(Condition(r, "Degraded")->status);
  CHECK(Condition(r, "Degraded")->reason == "NoCloudAccess");
}

TEST_CASE_METHOD(ReconcileFixture, "an environment failure clears once a retry runs",
                 "[reconcile]") {
  backend.classify = NoCloudAccessReader;
  int64_t id = Create("fixed");
  Reconcile(id);
  backend.Set(Live(id)->backend_job_id, JobStatus::kFailedPrechecks, std::nullopt, 0,
              "[sky.exceptions.NoCloudAccessError] Cloud access is not set up.");
  Poll();
  ReconcileResult wait = Reconcile(id);
  CHECK(Condition(Get(id), "Degraded")->status);
  now_ms += absl::ToInt64Milliseconds(wait.requeue_after);
  Reconcile(id);  // someone ran `sky check`; the retry runs
  backend.Set(Live(id)->backend_job_id, JobStatus::kRunning);
  Poll();
  Reconcile(id);
  ExperimentRecord r = Get(id);
  CHECK(r.observed_state == ObservedState::kRunning);
  CHECK_FALSE(Condition(r, "Degraded")->status);
}

TEST_CASE_METHOD(ReconcileFixture, "an invalid spec still stalls at once with LaunchRefused",
                 "[reconcile]") {
  backend.classify = NoCloudAccessReader;
  int64_t id = Create("bad-spec");
  Reconcile(id);
  backend.Set(Live(id)->backend_job_id, JobStatus::kFailedPrechecks, std::nullopt, 0,
              "[sky.exceptions.ResourcesMismatchError] no");
  Poll();
  Reconcile(id);
  ExperimentRecord r = Get(id);
  CHECK(Condition(r, "Stalled")->status);
  CHECK(Condition(r, "Stalled")->reason == "LaunchRefused");
  CHECK(Condition(r, "Stalled")->message.find("fix the experiment") != std::string::npos);
}

TEST_CASE_METHOD(ReconcileFixture,
                 "experiments whose jobs polls cannot observe are Degraded until a poll works",
                 "[reconcile][poller]") {
  int64_t watched = Create("watched");
  int64_t idle = Create("idle", DesiredState::kStopped);
  Reconcile(watched);
  Reconcile(idle);
  backend.Set(Live(watched)->backend_job_id, JobStatus::kRunning);
  Poll();
  Reconcile(watched);
  CHECK_FALSE(Condition(Get(watched), "Degraded")->status);

  enqueued.clear();
  int64_t failed_at = now_ms;
  backend.query_error = absl::DeadlineExceededError("queue: no answer within 2m");
  CHECK_FALSE(poller->PollOnce().ok());
  // The poller asks for the experiments it could not observe.
  CHECK(enqueued == std::set<int64_t>{watched});
  now_ms += 30'000;
  CHECK_FALSE(poller->PollOnce().ok());
  Reconcile(watched);
  ExperimentRecord r = Get(watched);
  REQUIRE(Condition(r, "Degraded"));
  CHECK(Condition(r, "Degraded")->status);
  CHECK(Condition(r, "Degraded")->reason == "PollFailing");
  CHECK(Condition(r, "Degraded")->message.find("no answer within 2m") != std::string::npos);
  CHECK(Condition(r, "Degraded")
            ->message.find(absl::FormatTime("%H:%M:%S", absl::FromUnixMillis(failed_at),
                                            absl::UTCTimeZone())) !=
        std::string::npos);                            // since when
  CHECK(r.observed_state == ObservedState::kRunning);  // as last seen
  CHECK(HasEvent(watched, "Degraded"));
  Reconcile(idle);
  CHECK_FALSE(Condition(Get(idle), "Degraded")->status);  // nothing of it to observe

  enqueued.clear();
  backend.query_error = absl::OkStatus();
  Poll();
  CHECK(enqueued.count(watched) == 1);
  Reconcile(watched);
  CHECK_FALSE(Condition(Get(watched), "Degraded")->status);
}

TEST_CASE_METHOD(ReconcileFixture,
                 "the last poll is the last exchange with the backend, also with no live job",
                 "[poller]") {
  Poll();  // nothing live: the health check answered
  int64_t ok_at = now_ms;
  CHECK(poller->health().last_success_ms == ok_at);
  backend.reachable = false;
  now_ms += 60'000;
  CHECK(absl::IsUnavailable(poller->PollOnce().status()));
  PollHealth h = poller->health();
  CHECK(h.last_success_ms == ok_at);  // it did not advance
  CHECK_FALSE(h.last_error.empty());
  // A health check made by the caller this tick is used, not repeated.
  int probes = backend.probe_calls;
  CHECK_FALSE(poller->PollOnce(backend.Probe()).ok());
  CHECK(backend.probe_calls == probes + 1);
  backend.reachable = true;
  now_ms += 1000;
  Poll();
  CHECK(poller->health().last_success_ms == now_ms);
}

TEST_CASE_METHOD(ReconcileFixture,
                 "a launch refused before it was sent is retried without a lookup by name",
                 "[reconcile]") {
  int64_t id = Create("at-the-limit");
  backend.launch_error =
      backend::NeverSentError(absl::ResourceExhaustedError("4 launches in flight"));
  CHECK_FALSE(reconciler->Reconcile(id).ok());
  CHECK_FALSE(reconciler->Reconcile(id).ok());
  CHECK_FALSE(reconciler->Reconcile(id).ok());
  CHECK(backend.launch_calls == 3);
  CHECK(backend.find_calls == 0);  // it never reached the backend: nothing to look up
  // A launch that may have been sent is looked up before the next one.
  backend.launch_error = absl::DeadlineExceededError("no answer");
  CHECK_FALSE(reconciler->Reconcile(id).ok());
  backend.launch_error = absl::OkStatus();
  Reconcile(id);
  CHECK(backend.find_calls == 1);
  CHECK(backend.launch_calls == 5);
  CHECK(Jobs(id).size() == 1);
}

}  // namespace
}  // namespace skydeck::reconcile
