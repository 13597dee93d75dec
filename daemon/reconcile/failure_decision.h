// File: daemon/reconcile/failure_decision.h
//
// What the reconciler does when the last job of a run ended without
// succeeding: stall (and say why), wait for a retry, or relaunch now. Pure:
// everything follows from the run's jobs, their failure kinds
// (restart_policy.h) and the time, so a restarted daemon decides the same.
//
//   outcome unknown (the backend forgot it)  -> Stalled JobOutcomeUnknown
//   exit 126/127 (the command cannot run)    -> Stalled CommandNotFound
//   a spec the backend refused               -> Stalled LaunchRefused (or the backend's reason)
//   counted failures beyond max_restarts     -> Stalled RestartBudgetExhausted
//   an environment failure past the limit    -> Stalled <reason>
//   otherwise                                -> retry after RestartBackoff (an
//                                               environment failure: Degraded meanwhile)
#pragma once

#include <cstdint>
#include <vector>

#include "absl/time/time.h"

#include "common/model/records.h"
#include "daemon/backend/backend.h"
#include "daemon/reconcile/experiment_observation.h"

namespace skydeck::reconcile {

struct FailedRun {
  const ExperimentRecord* experiment = nullptr;
  // The current run's jobs, newest first; run[0] ended without succeeding.
  // REQUIRES: not empty.
  std::vector<JobRecord> jobs;
  // The failure class of each job, as its backend reads it (same order).
  std::vector<backend::FailureClass> kinds;
};

struct FailureDecision {
  enum class Action {
    kObserve,   // record `observation` (Stalled, or a retry scheduled), nothing more
    kRelaunch,  // launch the next attempt now
  };
  Action action = Action::kObserve;
  // kObserve: what to record. kRelaunch: its degraded_reason/message, when
  // set, say why the experiment is Degraded while the attempt launches.
  Observation observation;
  // kObserve with a retry scheduled: when to reconcile again.
  absl::Duration requeue_after = absl::ZeroDuration();
};

// `environment_retry_limit`: how long environment failures are retried,
// from the first of a streak (ReconcilerOptions).
FailureDecision DecideAfterFailure(const FailedRun& run, int64_t now_ms,
                                   absl::Duration environment_retry_limit);

}  // namespace skydeck::reconcile
