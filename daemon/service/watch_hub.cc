#include "daemon/service/watch_hub.h"

#include <algorithm>
#include <chrono>

namespace skydeck::service {

void WatchHub::Publish(int64_t revision) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    revision_ = std::max(revision_, revision);
  }
  cv_.notify_all();
}

int64_t WatchHub::WaitNewer(int64_t seen, absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
               [&] { return closed_ || revision_ > seen; });
  return revision_;
}

void WatchHub::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

bool WatchHub::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

}  // namespace skydeck::service
