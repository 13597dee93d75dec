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
// Health: the time of the last *successful* poll — the last successful
// exchange with the backend: a tick with no live jobs counts only when the
// backend answered its health check — and the last error are kept, so a
// failing backend never looks healthy. When polls start failing, and when
// they work again, the experiments whose jobs they should observe are
// enqueued, so their Degraded condition follows (reconciler.h).
//
// Thread-safety: PollOnce may be called from any thread; polls never
// overlap (a second caller waits for the first to finish).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#include "daemon/backend/backend.h"
#include "daemon/reconcile/reconciler.h"
#include "daemon/store/store.h"

namespace skydeck::reconcile {

struct PollHealth {
  int64_t last_success_ms = 0;
  int64_t last_attempt_ms = 0;
  // Empty when the last poll succeeded.
  std::string last_error;
  // When the current streak of failed polls began; 0 when the last succeeded.
  int64_t failing_since_ms = 0;
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

  // `call_timeout`: how long one poll may wait on the backend in all (on the
  // real clock; backend/call_deadline.h); infinite: only the backend's own
  // timeouts bound it.
  Poller(store::Store* store, backend::Backend* backend, Clock clock, Enqueue enqueue,
         absl::Duration call_timeout = absl::InfiniteDuration());

  // Returns the number of jobs queried. `probe`: the backend's health check
  // of this tick, if the caller made one; with no live job to query it is
  // the only exchange with the backend (made here when not given), and an
  // unreachable backend fails the poll. Errors: the backend's.
  absl::StatusOr<int> PollOnce(const std::optional<backend::BackendInfo>& probe = std::nullopt)
      ABSL_LOCKS_EXCLUDED(poll_mu_, health_mu_);

  PollHealth health() const ABSL_LOCKS_EXCLUDED(health_mu_);
  // The current failure when the last poll failed, else nullopt.
  std::optional<PollFailure> Failure() const ABSL_LOCKS_EXCLUDED(health_mu_);

 private:
  absl::StatusOr<int> PollLocked(const std::optional<backend::BackendInfo>& probe)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(poll_mu_) ABSL_LOCKS_EXCLUDED(health_mu_);

  store::Store* store_;
  backend::Backend* backend_;
  Clock clock_;
  Enqueue enqueue_;
  absl::Duration call_timeout_;

  absl::Mutex poll_mu_ ABSL_ACQUIRED_BEFORE(health_mu_);  // one poll in flight
  mutable absl::Mutex health_mu_;
  PollHealth health_ ABSL_GUARDED_BY(health_mu_);
  // Experiments whose live jobs polls asked about since the last good one,
  // and those of the last poll.
  std::set<int64_t> polled_experiments_ ABSL_GUARDED_BY(poll_mu_);
  std::set<int64_t> current_experiments_ ABSL_GUARDED_BY(poll_mu_);
};

}  // namespace skydeck::reconcile
