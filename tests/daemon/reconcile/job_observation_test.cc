#include "daemon/reconcile/job_observation.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "common/model/event_types.h"

namespace skydeck::reconcile {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

JobRecord LiveJob(JobStatus status = JobStatus::kRunning) {
  JobRecord job;
  job.id = 7;
  job.experiment_id = 3;
  job.attempt = 2;
  job.backend_job_id = "b-7";
  job.command = "python train.py";
  job.status = status;
  job.started_ms = 1000;
  return job;
}

backend::JobObservation Seen(JobStatus status) {
  backend::JobObservation obs;
  obs.backend_job_id = "b-7";
  obs.status = status;
  obs.raw_status = std::string(Name(status));
  return obs;
}

std::vector<std::string> Types(const std::vector<NewEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.type);
  return out;
}

TEST_CASE("an unchanged observation changes nothing and writes no event", "[reconcile]") {
  JobRecord job = LiveJob();
  job.backend_status = "RUNNING";
  JobRecord before = job;
  std::vector<NewEvent> events;
  ApplyObservation(Seen(JobStatus::kRunning), kNow, "poller", job, &events);
  CHECK(job == before);
  CHECK(events.empty());
}

TEST_CASE("a status change is recorded with one event", "[reconcile]") {
  JobRecord job = LiveJob(JobStatus::kPending);
  std::vector<NewEvent> events;
  backend::JobObservation obs = Seen(JobStatus::kRunning);
  obs.start_ms = 5000;
  obs.resolved_job_id = "b-7-final";
  ApplyObservation(obs, kNow, "poller", job, &events);
  CHECK(job.status == JobStatus::kRunning);
  CHECK(job.backend_job_id == "b-7-final");
  CHECK(job.started_ms == 1000);  // the first start is kept
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == model::event::kJobStatusChanged);
  CHECK(events[0].reason == "RUNNING");
  CHECK(events[0].message == "job 7: PENDING -> RUNNING");
  CHECK(events[0].actor == "poller");
}

TEST_CASE("a terminal observation sets the end, exit code and failure reason", "[reconcile]") {
  JobRecord job = LiveJob();
  std::vector<NewEvent> events;
  backend::JobObservation obs = Seen(JobStatus::kFailed);
  obs.exit_code = 3;
  obs.failure_reason = "out of memory";
  ApplyObservation(obs, kNow, "poller", job, &events);
  CHECK(job.status == JobStatus::kFailed);
  CHECK(job.ended_ms == kNow);  // the backend gave no end time
  CHECK(job.exit_code == 3);
  CHECK(job.failure_reason == "out of memory");
  REQUIRE(events.size() == 1);
  CHECK(events[0].message == "job 7: RUNNING -> FAILED (exit 3): out of memory");

  SECTION("the backend's end time wins over the observer's clock") {
    JobRecord other = LiveJob();
    obs.end_ms = 4242;
    ApplyObservation(obs, kNow, "poller", other, &events);
    CHECK(other.ended_ms == 4242);
  }
}

TEST_CASE("exit 127 says which command is missing", "[reconcile]") {
  JobRecord job = LiveJob();
  job.command = "lt --fast";
  std::vector<NewEvent> events;
  backend::JobObservation obs = Seen(JobStatus::kFailed);
  obs.exit_code = 127;
  ApplyObservation(obs, kNow, "poller", job, &events);
  CHECK(job.failure_reason == "command not found: lt");
}

TEST_CASE("a job being cancelled stays CANCELLING until it is terminal", "[reconcile]") {
  JobRecord job = LiveJob(JobStatus::kCancelling);
  std::vector<NewEvent> events;
  ApplyObservation(Seen(JobStatus::kRunning), kNow, "poller", job, &events);
  CHECK(job.status == JobStatus::kCancelling);
  CHECK(events.empty());
  ApplyObservation(Seen(JobStatus::kCancelled), kNow, "poller", job, &events);
  CHECK(job.status == JobStatus::kCancelled);
  CHECK(Types(events) == std::vector<std::string>{model::event::kJobStatusChanged});
}

TEST_CASE("a terminal job never changes again", "[reconcile]") {
  JobRecord job = LiveJob(JobStatus::kSucceeded);
  job.ended_ms = 99;
  JobRecord before = job;
  std::vector<NewEvent> events;
  ApplyObservation(Seen(JobStatus::kRunning), kNow, "poller", job, &events);
  MarkOutcomeUnknown("gone", kNow, "poller", job, &events);
  ForgetLaunchRequest("fake", "poller", job, &events);
  CHECK(job == before);
  CHECK(events.empty());
}

TEST_CASE("a preemption recovery is an event, counted once", "[reconcile]") {
  JobRecord job = LiveJob();
  std::vector<NewEvent> events;
  backend::JobObservation obs = Seen(JobStatus::kRecovering);
  obs.recovery_count = 1;
  ApplyObservation(obs, kNow, "poller", job, &events);
  CHECK(job.recovery_count == 1);
  CHECK(Types(events) ==
        std::vector<std::string>{model::event::kPreempted, model::event::kJobStatusChanged});
  events.clear();
  ApplyObservation(obs, kNow, "poller", job, &events);
  CHECK(events.empty());
}

TEST_CASE("a recovered job running again is a Recovered event", "[reconcile]") {
  JobRecord job = LiveJob(JobStatus::kRecovering);
  job.recovery_count = 1;
  std::vector<NewEvent> events;
  backend::JobObservation obs = Seen(JobStatus::kRunning);
  obs.recovery_count = 1;
  ApplyObservation(obs, kNow, "poller", job, &events);
  CHECK(Types(events) ==
        std::vector<std::string>{model::event::kJobStatusChanged, model::event::kRecovered});
  events.clear();
  // RUNNING after PENDING is no recovery.
  JobRecord pending = LiveJob(JobStatus::kPending);
  ApplyObservation(Seen(JobStatus::kRunning), kNow, "poller", pending, &events);
  CHECK(Types(events) == std::vector<std::string>{model::event::kJobStatusChanged});
}

TEST_CASE("a job the backend stopped reporting is LOST with an unknown outcome", "[reconcile]") {
  JobRecord job = LiveJob();
  std::vector<NewEvent> events;
  MarkOutcomeUnknown("no longer reported", kNow, "poller", job, &events);
  CHECK(job.status == JobStatus::kLost);
  CHECK(job.outcome_unknown);
  CHECK(job.ended_ms == kNow);
  CHECK(job.failure_reason == "no longer reported");
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == model::event::kJobStatusChanged);
  CHECK(events[0].reason == "LOST");
}

TEST_CASE("a forgotten launch request is looked up by name again", "[reconcile]") {
  JobRecord job = LiveJob(JobStatus::kLaunching);
  job.backend_job_id = "request-1";
  std::vector<NewEvent> events;
  ForgetLaunchRequest("skypilot", "poller", job, &events);
  CHECK(job.backend_job_id.empty());
  CHECK(job.status == JobStatus::kLaunching);
  CHECK(Types(events) == std::vector<std::string>{model::event::kLaunchRequestForgotten});

  SECTION("only a launching job with a request id is forgotten") {
    JobRecord running = LiveJob(JobStatus::kRunning);
    events.clear();
    ForgetLaunchRequest("skypilot", "poller", running, &events);
    CHECK(running.backend_job_id == "b-7");
    CHECK(events.empty());
  }
}

}  // namespace
}  // namespace skydeck::reconcile
