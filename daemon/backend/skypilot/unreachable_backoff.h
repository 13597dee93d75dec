// File: daemon/backend/skypilot/unreachable_backoff.h
//
// Fail-fast while the API server is down. After a call could not reach the
// server (or it said it is overloaded), further calls are refused locally
// for a delay that doubles per consecutive failure, with +-50% jitter so
// many daemons do not retry in lockstep, up to a maximum; one success
// clears it. The health probe bypasses it and so re-opens the way as soon
// as the server answers.
//
//   UnreachableBackoff backoff(absl::Seconds(1), absl::Seconds(30));
//   RETURN_IF_ERROR(backoff.Check(absl::Now()));
//   absl::Status s = DoCall();
//   backoff.Record(s, absl::Now());
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <cstdint>
#include <random>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace skydeck::backend::skypilot {

class UnreachableBackoff {
 public:
  // A zero `initial` disables the backoff (Check always passes).
  UnreachableBackoff(absl::Duration initial, absl::Duration max);

  // OK, or UNAVAILABLE naming the last error and when calls resume.
  absl::Status Check(absl::Time now) const;

  // Counts `result` of a call: UNAVAILABLE (no connection, a dropped one,
  // 429/503) extends the backoff; anything else clears it: an answer, even
  // an error, and DEADLINE_EXCEEDED (the server accepted the call and is
  // slow, e.g. warming up after a restart: not an outage).
  void Record(const absl::Status& result, absl::Time now);

  // Bumped on every failure: callers re-validate what they learnt from the
  // server (its API version) once this changes.
  uint64_t failure_epoch() const;

  // True for the codes of a call that got no answer (UNAVAILABLE,
  // DEADLINE_EXCEEDED): the server may still act on what it was sent.
  static bool IsUnreachable(const absl::Status& status);

 private:
  const absl::Duration initial_;
  const absl::Duration max_;
  mutable absl::Mutex mu_;
  int consecutive_failures_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time retry_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
};

}  // namespace skydeck::backend::skypilot
