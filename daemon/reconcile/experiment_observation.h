// File: daemon/reconcile/experiment_observation.h
//
// What the reconciler observed about one experiment, and how that is
// written into its record: observed state and generation, restart count,
// the next retry, the conditions (common/model/conditions.h), and an event
// for each real transition only, so that reconciling again without a change
// writes no event. Pure: the reconciler calls these inside the store's
// transaction (Store::UpdateObserved).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

#include "common/model/records.h"

namespace skydeck::reconcile {

// The poller's last poll failed: the jobs it should have observed are seen
// as of the last successful one.
struct PollFailure {
  std::string error;
  int64_t since_ms = 0;         // first failure of the current streak (unix ms)
  int64_t last_success_ms = 0;  // 0: none yet
};

struct Observation {
  ObservedState state = ObservedState::kIdle;
  std::optional<JobRecord> job;
  int restart_count = 0;
  // Non-zero: the next attempt is due then (RetryScheduled on change).
  int64_t next_retry_ms = 0;
  // The next attempt spends the restart budget (wording of RetryScheduled).
  bool retry_counted = true;
  // Non-empty: Stalled with this reason and message.
  std::string stalled_reason;
  std::string stalled_message;
  // `job` is live and runs an older spec than the experiment's: the
  // Outdated condition, and observed_generation is not advanced.
  bool job_outdated = false;
  // Non-empty: Degraded with this reason and message. Else Degraded is
  // false, unless keep_degraded leaves the present one when it is an
  // environment failure being retried (not BackendUnavailable: this
  // reconcile reached the backend), or polls cannot observe `job`
  // (PollFailing).
  std::string degraded_reason;
  std::string degraded_message;
  bool keep_degraded = false;
};

// Where and when an observation is recorded.
struct ObservationContext {
  // The spec generation the reconciler acted on.
  int64_t generation = 0;
  int64_t now_ms = 0;
  // Non-empty: polls cannot observe the observation's live job; Degraded
  // (PollFailing) with this message, whatever the observation says.
  std::string poll_failing;
  // Who the events are by ("reconciler").
  std::string actor;
};

// Writes `o` into `e`, appending an event to `events` for each transition
// (observed state, a newly scheduled retry, Stalled or Degraded turning
// true or changing reason, Outdated turning true, a spec acted on).
void RecordObservation(const Observation& o, const ObservationContext& ctx, ExperimentRecord& e,
                       std::vector<NewEvent>* events);

// The PollFailing message for a live `job` the poller cannot observe.
std::string PollFailingMessage(const JobRecord& job, const PollFailure& failure);

// Stalled (JobOnOtherBackend) with `message`; an event when it was not so.
void RecordOnOtherBackend(absl::string_view message, const ObservationContext& ctx,
                          ExperimentRecord& e, std::vector<NewEvent>* events);

// Degraded (BackendUnavailable) after a backend call failed with
// `error_message`; an event when the experiment was not Degraded.
void RecordBackendError(absl::string_view error_message, const ObservationContext& ctx,
                        ExperimentRecord& e, std::vector<NewEvent>* events);

}  // namespace skydeck::reconcile
