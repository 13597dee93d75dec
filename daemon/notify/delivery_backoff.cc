#include "daemon/notify/delivery_backoff.h"

#include <algorithm>

namespace skydeck::notify {

absl::Duration RetryDelay(int failures, const BackoffPolicy& policy, double jitter) {
  absl::Duration delay = policy.initial;
  // Doubling stops at max: no overflow however long a sink fails.
  for (int i = 1; i < failures && delay < policy.max; ++i) delay *= 2;
  delay = std::min(delay, policy.max);
  return delay - delay * (0.2 * std::clamp(jitter, 0.0, 0.999));
}

}  // namespace skydeck::notify
