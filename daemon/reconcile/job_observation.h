// File: daemon/reconcile/job_observation.h
//
// Folds what a backend reports about a job into its stored record, shared
// by the poller and by launch-intent resolution.
#pragma once

#include <cstdint>
#include <vector>

#include "common/model/records.h"
#include "daemon/backend/backend.h"

namespace skydeck::reconcile {

// Updates `job` from `obs` at time `now_ms` and appends an event for each
// visible change (status, preemption recovery). A job being cancelled stays
// CANCELLING until the backend reports it terminal; a terminal job never
// changes again.
void ApplyObservation(const backend::JobObservation& obs, int64_t now_ms, const std::string& actor,
                      JobRecord& job, std::vector<NewEvent>* events);

// Keeps the job's preemption gaps (JobRecord::paused_ms, paused_since_ms;
// common/model/gpu_usage.h) as its status moves from `before` to
// job.status: a RECOVERING job is paused from when it was first seen so
// until it runs or ends. When the backend reports the running time
// (obs.run_ms), the gaps follow from it at each status change instead.
// Called by ApplyObservation after the status and times are applied.
void TrackPauses(const backend::JobObservation& obs, JobStatus before, int64_t now_ms,
                 JobRecord& job);

// Marks a live job LOST with an unknown outcome: the backend stopped
// reporting it, so it may have ended in any way (SUCCEEDED included) while
// nobody watched. The reconciler never relaunches such a job by itself.
// (A job the backend itself reports LOST, e.g. a local process that
// vanished without an exit code, did not finish and is retried.)
void MarkOutcomeUnknown(const std::string& reason, int64_t now_ms, const std::string& actor,
                        JobRecord& job, std::vector<NewEvent>* events);

// A job still LAUNCHING whose launch the backend no longer reports (SkyPilot
// forgets finished requests after a while, e.g. while skydeckd was down):
// its backend id is cleared so the reconciler resolves it by name, as an
// intent left by a crash, rather than giving up on a job that may run.
void ForgetLaunchRequest(const std::string& backend_name, const std::string& actor, JobRecord& job,
                         std::vector<NewEvent>* events);

}  // namespace skydeck::reconcile
