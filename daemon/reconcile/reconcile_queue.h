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
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace skydeck::reconcile {

class ReconcileQueue {
 public:
  enum class Priority { kUrgent, kResync };

  void Add(int64_t id, Priority priority = Priority::kUrgent) ABSL_LOCKS_EXCLUDED(mu_);
  // Add for many ids under one lock (a bulk change's).
  void AddMany(const std::vector<int64_t>& ids, Priority priority = Priority::kUrgent)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Adds the id once `delay` has passed (kUrgent then). An earlier pending
  // AddAfter for the same id wins.
  void AddAfter(int64_t id, absl::Duration delay) ABSL_LOCKS_EXCLUDED(mu_);

  // Blocks until an id is ready; nullopt once ShutDown was called.
  // REQUIRES: Done(id) is called after processing the returned id.
  std::optional<int64_t> Get() ABSL_LOCKS_EXCLUDED(mu_);
  void Done(int64_t id) ABSL_LOCKS_EXCLUDED(mu_);

  // Wakes every Get with nullopt; later Adds are ignored.
  void ShutDown() ABSL_LOCKS_EXCLUDED(mu_);

  // Ids waiting (not delayed, not in process).
  size_t Depth() const ABSL_LOCKS_EXCLUDED(mu_);
  // Ids scheduled for later.
  size_t DelayedCount() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  using Clock = std::chrono::steady_clock;

  // With `promoted`, an id promoted from resync to urgent is recorded there
  // and left in resync_ for the caller to remove.
  void Enqueue(int64_t id, Priority priority, std::set<int64_t>* promoted = nullptr)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PromoteDueLocked(Clock::time_point now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<int64_t> PopLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  std::deque<int64_t> urgent_ ABSL_GUARDED_BY(mu_);
  std::deque<int64_t> resync_ ABSL_GUARDED_BY(mu_);
  // Ids in urgent_ or resync_.
  std::map<int64_t, Priority> queued_ ABSL_GUARDED_BY(mu_);
  // Handed out, not Done yet.
  std::set<int64_t> processing_ ABSL_GUARDED_BY(mu_);
  // Added while processing.
  std::map<int64_t, Priority> dirty_ ABSL_GUARDED_BY(mu_);
  // Id -> due time.
  std::map<int64_t, Clock::time_point> delayed_ ABSL_GUARDED_BY(mu_);
  int gets_since_resync_ ABSL_GUARDED_BY(mu_) = 0;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace skydeck::reconcile
