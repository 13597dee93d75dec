#include "daemon/backend/skypilot/unreachable_backoff.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

#include "common/time_util.h"

namespace skydeck::backend::skypilot {

UnreachableBackoff::UnreachableBackoff(absl::Duration initial, absl::Duration max)
    : initial_(initial), max_(std::max(initial, max)), rng_(std::random_device{}()) {}

bool UnreachableBackoff::IsUnreachable(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status);
}

absl::Status UnreachableBackoff::Check(absl::Time now) const {
  absl::MutexLock lock(&mu_);
  if (initial_ <= absl::ZeroDuration() || now >= retry_at_) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(last_error_.message(), " (", consecutive_failures_,
                                             " consecutive failures; not retrying for ",
                                             FormatDurationRounded(retry_at_ - now), ")"));
}

void UnreachableBackoff::Record(const absl::Status& result, absl::Time now) {
  absl::MutexLock lock(&mu_);
  // A deadline means the server took the connection and is working: slow,
  // not gone, so it neither extends nor starts the backoff.
  if (!absl::IsUnavailable(result)) {
    consecutive_failures_ = 0;
    retry_at_ = absl::InfinitePast();
    return;
  }
  ++epoch_;
  ++consecutive_failures_;
  last_error_ = result;
  if (initial_ <= absl::ZeroDuration()) return;
  absl::Duration delay = initial_;
  for (int i = 1; i < consecutive_failures_ && delay < max_; ++i) delay *= 2;
  delay = std::min(delay, max_);
  std::uniform_real_distribution<double> jitter(0.5, 1.5);
  retry_at_ = now + delay * jitter(rng_);
}

uint64_t UnreachableBackoff::failure_epoch() const {
  absl::MutexLock lock(&mu_);
  return epoch_;
}

}  // namespace skydeck::backend::skypilot
