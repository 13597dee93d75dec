#include "daemon/service/watch_hub.h"

#include <algorithm>

namespace skydeck::service {

void WatchHub::Publish(int64_t revision) {
  absl::MutexLock lock(&mu_);
  revision_ = std::max(revision_, revision);
}

int64_t WatchHub::WaitNewer(int64_t seen, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto newer_or_closed = [this, seen] {
    mu_.AssertReaderHeld();  // Await evaluates it under mu_; tells -Wthread-safety
    return closed_ || revision_ > seen;
  };
  mu_.AwaitWithTimeout(absl::Condition(&newer_or_closed), timeout);
  return revision_;
}

void WatchHub::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

int64_t WatchHub::revision() const {
  absl::MutexLock lock(&mu_);
  return revision_;
}

bool WatchHub::closed() const {
  absl::MutexLock lock(&mu_);
  return closed_;
}

}  // namespace skydeck::service
