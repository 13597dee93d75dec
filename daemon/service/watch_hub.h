// File: daemon/service/watch_hub.h
//
// Wakes Watch streams when new events are committed. It carries only the
// newest revision: watchers read the events themselves from the store, so a
// slow watcher can never make the hub buffer grow or lose an event.
//
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace skydeck::service {

class WatchHub {
 public:
  explicit WatchHub(int64_t revision = 0) : revision_(revision) {}

  // Called by the store's commit listener.
  void Publish(int64_t revision) ABSL_LOCKS_EXCLUDED(mu_);

  // Blocks until the revision exceeds `seen`, the hub is closed, or
  // `timeout` passes. Returns the current revision.
  int64_t WaitNewer(int64_t seen, absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);

  // Wakes every waiter for good (daemon shutdown).
  void Close() ABSL_LOCKS_EXCLUDED(mu_);
  bool closed() const ABSL_LOCKS_EXCLUDED(mu_);
  // The newest revision published (the store's latest event id).
  int64_t revision() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Waiters block in mu_.Await: releasing mu_ after an update re-checks
  // their conditions, so there is no condition variable to notify.
  mutable absl::Mutex mu_;
  int64_t revision_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace skydeck::service
