// Preemption gaps kept on a job as the backend reports it recovering
// (JobRecord::paused_ms; common/model/gpu_usage.h turns them into GPU-hours).
#include <catch2/catch.hpp>

#include "common/model/gpu_usage.h"
#include "daemon/reconcile/job_observation.h"

namespace skydeck::reconcile {
namespace {

constexpr int64_t kMin = 60'000;

JobRecord Running() {
  JobRecord job;
  job.id = 7;
  job.status = JobStatus::kRunning;
  job.nodes = 2;
  job.gpus = 4;
  job.started_ms = 100 * kMin;
  return job;
}

backend::JobObservation Seen(JobStatus status, int recoveries = 0) {
  backend::JobObservation obs;
  obs.status = status;
  obs.raw_status = std::string(Name(status));
  obs.recovery_count = recoveries;
  return obs;
}

void Apply(const backend::JobObservation& obs, int64_t now, JobRecord& job) {
  std::vector<NewEvent> events;
  ApplyObservation(obs, now, "poller", job, &events);
}

TEST_CASE("time spent recovering is not counted as running", "[reconcile][cost]") {
  JobRecord job = Running();
  Apply(Seen(JobStatus::kRecovering, 1), 130 * kMin, job);
  CHECK(job.paused_since_ms == 130 * kMin);
  // Recovering: no accrual.
  CHECK(RunningMs(job, 150 * kMin) == 30 * kMin);
  Apply(Seen(JobStatus::kRecovering, 1), 140 * kMin, job);  // still recovering: unchanged
  CHECK(job.paused_since_ms == 130 * kMin);
  Apply(Seen(JobStatus::kRunning, 1), 145 * kMin, job);
  CHECK(job.paused_since_ms == 0);
  CHECK(job.paused_ms == 15 * kMin);
  CHECK(RunningMs(job, 160 * kMin) == 45 * kMin);
  CHECK(GpuHours(job, 160 * kMin) == Approx(2 * 4 * 0.75));
}

TEST_CASE("a job that ends while recovering is paused until its end", "[reconcile][cost]") {
  JobRecord job = Running();
  Apply(Seen(JobStatus::kRecovering, 1), 110 * kMin, job);
  backend::JobObservation failed = Seen(JobStatus::kFailed, 1);
  failed.end_ms = 130 * kMin;
  Apply(failed, 135 * kMin, job);
  CHECK(job.ended_ms == 130 * kMin);
  CHECK(job.paused_since_ms == 0);
  CHECK(job.paused_ms == 20 * kMin);
  CHECK(RunningMs(job, 999 * kMin) == 10 * kMin);
}

TEST_CASE("the backend's own running time sets the gaps when it has one", "[reconcile][cost]") {
  JobRecord job = Running();
  Apply(Seen(JobStatus::kRecovering, 1), 130 * kMin, job);
  // SkyPilot says it ran 50 min of the 60 since its start (recovered faster
  // than the poll saw).
  backend::JobObservation back = Seen(JobStatus::kRunning, 1);
  back.run_ms = 50 * kMin;
  Apply(back, 160 * kMin, job);
  CHECK(job.paused_ms == 10 * kMin);
  // A poll with no change writes nothing new (no write per poll).
  JobRecord before = job;
  back.run_ms = 51 * kMin;
  Apply(back, 161 * kMin, job);
  CHECK(job == before);
  // At the end it is exact again.
  backend::JobObservation done = Seen(JobStatus::kSucceeded, 1);
  done.end_ms = 200 * kMin;
  done.run_ms = 85 * kMin;
  Apply(done, 201 * kMin, job);
  CHECK(job.paused_ms == 15 * kMin);
  CHECK(RunningMs(job, 999 * kMin) == 85 * kMin);
}

}  // namespace
}  // namespace skydeck::reconcile
