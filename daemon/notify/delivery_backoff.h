// File: daemon/notify/delivery_backoff.h
//
// How long a sink waits before its next delivery attempt after
// `failures` failures in a row: initial × 2^(failures-1), at most `max`,
// with up to 20% less taken off by `jitter` in [0, 1) so that sinks that
// failed together do not retry in lockstep.
//
//   RetryDelay(1, 1s, 5m, 0) == 1s;  RetryDelay(4, 1s, 5m, 0) == 8s;
//   RetryDelay(30, 1s, 5m, 0) == 5m
#pragma once

#include "absl/time/time.h"

namespace skydeck::notify {

struct BackoffPolicy {
  absl::Duration initial = absl::Seconds(1);
  absl::Duration max = absl::Minutes(5);
};

// REQUIRES: failures >= 1, 0 <= jitter < 1.
absl::Duration RetryDelay(int failures, const BackoffPolicy& policy, double jitter);

// A sink is shown as failing (health, dashboard) from this many failed
// attempts in a row on.
inline constexpr int kFailingAfter = 3;

}  // namespace skydeck::notify
