// File: daemon/reconcile/reconcile_queue.h
//
// The reconciler's work queue of experiment ids, after controller-runtime's:
//
// - De-duplicating: an id waiting in the queue is there once, however often
//   it is added.
// - Never concurrent per id: an id added while a worker holds it is marked
//   dirty and queued again when the worker calls Done.
// - Prioritised: user writes (kUrgent) go ahead of periodic resyncs
//   (kResync), but every fourth Get serves a resync if one waits, so a
//   steady stream of writes cannot starve them.
// - Delayed adds (AddAfter) for scheduled retries.
//
//   ReconcileQueue q;
//   q.Add(42);
//   while (auto id = q.Get()) { Reconcile(*id); q.Done(*id); }
//
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include "absl/time/time.h"

namespace skydeck::reconcile {

class ReconcileQueue {
 public:
  enum class Priority { kUrgent, kResync };

  void Add(int64_t id, Priority priority = Priority::kUrgent);
  // Add for many ids under one lock (a bulk change's).
  void AddMany(const std::vector<int64_t>& ids, Priority priority = Priority::kUrgent);
  // Adds the id once `delay` has passed (kUrgent then). An earlier pending
  // AddAfter for the same id wins.
  void AddAfter(int64_t id, absl::Duration delay);

  // Blocks until an id is ready; nullopt once ShutDown was called.
  // REQUIRES: Done(id) is called after processing the returned id.
  std::optional<int64_t> Get();
  void Done(int64_t id);

  // Wakes every Get with nullopt; later Adds are ignored.
  void ShutDown();

  // Ids waiting (not delayed, not in process).
  size_t Depth() const;
  // Ids scheduled for later.
  size_t DelayedCount() const;

 private:
  using Clock = std::chrono::steady_clock;

  // REQUIRES: mu_ held. With `promoted`, an id promoted from resync to
  // urgent is recorded there and left in resync_ for the caller to remove.
  void Enqueue(int64_t id, Priority priority, std::set<int64_t>* promoted = nullptr);
  void PromoteDueLocked(Clock::time_point now);
  std::optional<int64_t> PopLocked();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<int64_t> urgent_;                 // guarded by mu_
  std::deque<int64_t> resync_;                 // guarded by mu_
  std::map<int64_t, Priority> queued_;         // ids in urgent_ or resync_
  std::set<int64_t> processing_;               // handed out, not Done yet
  std::map<int64_t, Priority> dirty_;          // added while processing
  std::map<int64_t, Clock::time_point> delayed_;  // id -> due time
  int gets_since_resync_ = 0;
  bool shutdown_ = false;
};

}  // namespace skydeck::reconcile
