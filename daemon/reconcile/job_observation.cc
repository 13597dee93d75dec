#include "daemon/reconcile/job_observation.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

#include "common/model/event_types.h"
#include "daemon/reconcile/restart_policy.h"

namespace skydeck::reconcile {
namespace {

std::string StatusChangeMessage(JobStatus from, const JobRecord& job) {
  std::string msg = absl::StrCat("job ", job.id, ": ", Name(from), " -> ", Name(job.status));
  if (job.exit_code) absl::StrAppend(&msg, " (exit ", *job.exit_code, ")");
  if (!job.failure_reason.empty()) absl::StrAppend(&msg, ": ", job.failure_reason);
  return msg;
}

}  // namespace

void TrackPauses(const backend::JobObservation& obs, JobStatus before, int64_t now_ms,
                 JobRecord& job) {
  const bool paused = job.status == JobStatus::kRecovering;
  const int64_t at = job.live() ? now_ms : job.ended_ms;
  if (paused && job.paused_since_ms == 0) job.paused_since_ms = at;
  if (!paused && job.paused_since_ms != 0) {
    job.paused_ms += std::max<int64_t>(0, at - job.paused_since_ms);
    job.paused_since_ms = 0;
  }
  // The backend's own running time is exact where it has one; it is taken
  // when the status changes (the job is written then anyway), not on every
  // poll, so a running job costs no write per poll.
  if (obs.run_ms && job.started_ms != 0 && !paused && job.status != before) {
    job.paused_ms = std::max<int64_t>(0, at - job.started_ms - *obs.run_ms);
  }
}

void ApplyObservation(const backend::JobObservation& obs, int64_t now_ms, const std::string& actor,
                      JobRecord& job, std::vector<NewEvent>* events) {
  if (!job.live()) return;
  if (!obs.resolved_job_id.empty()) job.backend_job_id = obs.resolved_job_id;
  JobStatus before = job.status;
  bool cancelling = job.status == JobStatus::kCancelling;
  if (!(cancelling && !IsTerminal(obs.status))) job.status = obs.status;
  job.backend_status = obs.raw_status;
  if (job.started_ms == 0 && obs.start_ms != 0) job.started_ms = obs.start_ms;
  if (obs.recovery_count > job.recovery_count) {
    events->push_back(NewEvent{
        0, 0, model::event::kPreempted, "Recovering",
        absl::StrCat("job ", job.id, " was preempted; the backend is recovering it (recovery ",
                     obs.recovery_count, "); not counted against the restart budget"),
        actor});
    job.recovery_count = obs.recovery_count;
  }
  if (IsTerminal(job.status)) {
    job.ended_ms = obs.end_ms != 0 ? obs.end_ms : now_ms;
    if (obs.exit_code) job.exit_code = obs.exit_code;
    if (!obs.failure_reason.empty()) job.failure_reason = obs.failure_reason;
    // "exited with code 127" does not say that `lt` is missing.
    if (job.status == JobStatus::kFailed) {
      std::string not_runnable = CommandNotRunnable(job.command, job.exit_code);
      if (!not_runnable.empty()) job.failure_reason = not_runnable;
    }
  }
  TrackPauses(obs, before, now_ms, job);
  if (job.status != before) {
    events->push_back(NewEvent{0, 0, model::event::kJobStatusChanged, std::string(Name(job.status)),
                               StatusChangeMessage(before, job), actor});
    // Its own event, so notifications need not parse the message above.
    if (before == JobStatus::kRecovering && job.status == JobStatus::kRunning) {
      events->push_back(NewEvent{
          0, 0, model::event::kRecovered, "Running",
          absl::StrCat("job ", job.id, " runs again after recovery ", job.recovery_count), actor});
    }
  }
}

void MarkOutcomeUnknown(const std::string& reason, int64_t now_ms, const std::string& actor,
                        JobRecord& job, std::vector<NewEvent>* events) {
  if (!job.live()) return;
  JobStatus before = job.status;
  job.status = JobStatus::kLost;
  job.ended_ms = now_ms;
  job.failure_reason = reason;
  job.outcome_unknown = true;
  events->push_back(NewEvent{0, 0, model::event::kJobStatusChanged, "LOST",
                             StatusChangeMessage(before, job), actor});
}

void ForgetLaunchRequest(const std::string& backend_name, const std::string& actor, JobRecord& job,
                         std::vector<NewEvent>* events) {
  if (!job.live() || job.status != JobStatus::kLaunching || job.backend_job_id.empty()) return;
  events->push_back(NewEvent{
      0, 0, model::event::kLaunchRequestForgotten, "NotReportedByBackend",
      absl::StrCat("the ", backend_name, " backend no longer reports launch ", job.backend_job_id,
                   "; whether it started a job is looked up by the job's name"),
      actor});
  job.backend_job_id.clear();
}

}  // namespace skydeck::reconcile
