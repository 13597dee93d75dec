// File: daemon/reconcile/poller.h
//
// Observes every live job with ONE backend query per tick, folds the answers
// into the job rows, and tells the reconciler which experiments changed.
// Jobs whose row the answer leaves as it was are not written at all; the
// changed ones are written together in one store transaction per tick. A
// job the backend no longer reports becomes LOST with an unknown outcome
// (job_observation.h: MarkOutcomeUnknown), never relaunched by itself. It
// never decides anything about experiments itself: that is the reconciler's
// job, from the job rows the poller writes.
//
// Health: the time of the last *successful* poll and the last error are
// kept, so a failing backend never looks healthy.
//
// Thread-safety: PollOnce may be called from any thread; polls never
// overlap (a second caller waits for the first to finish).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "daemon/backend/backend.h"
#include "daemon/store/store.h"

namespace skydeck::reconcile {

struct PollHealth {
  int64_t last_success_ms = 0;
  int64_t last_attempt_ms = 0;
  // Empty when the last poll succeeded.
  std::string last_error;
  int64_t polls_ok = 0;
  int64_t polls_error = 0;
  // Backend Query calls made (at most one per poll).
  int64_t backend_calls = 0;
  double poll_seconds = 0;
};

class Poller {
 public:
  using Clock = std::function<int64_t()>;
  using Enqueue = std::function<void(int64_t experiment_id)>;

  Poller(store::Store* store, backend::Backend* backend, Clock clock, Enqueue enqueue);

  // Returns the number of jobs queried. Errors: the backend's.
  absl::StatusOr<int> PollOnce();

  PollHealth health() const;

 private:
  absl::StatusOr<int> PollLocked();

  store::Store* store_;
  backend::Backend* backend_;
  Clock clock_;
  Enqueue enqueue_;

  std::mutex poll_mu_;  // one poll in flight
  mutable std::mutex health_mu_;
  PollHealth health_;  // guarded by health_mu_
};

}  // namespace skydeck::reconcile
