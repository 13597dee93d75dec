// File: daemon/service/watch_hub.h
//
// Wakes Watch streams when new events are committed. It carries only the
// newest revision: watchers read the events themselves from the store, so a
// slow watcher can never make the hub buffer grow or lose an event.
//
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "absl/time/time.h"

namespace skydeck::service {

class WatchHub {
 public:
  explicit WatchHub(int64_t revision = 0) : revision_(revision) {}

  // Called by the store's commit listener.
  void Publish(int64_t revision);

  // Blocks until the revision exceeds `seen`, the hub is closed, or
  // `timeout` passes. Returns the current revision.
  int64_t WaitNewer(int64_t seen, absl::Duration timeout);

  // Wakes every waiter for good (daemon shutdown).
  void Close();
  bool closed() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int64_t revision_;  // guarded by mu_
  bool closed_ = false;  // guarded by mu_
};

}  // namespace skydeck::service
