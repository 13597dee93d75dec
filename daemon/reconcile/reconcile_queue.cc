#include "daemon/reconcile/reconcile_queue.h"

#include <algorithm>

namespace skydeck::reconcile {

void ReconcileQueue::Add(int64_t id, Priority priority) {
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return;
    Enqueue(id, priority);
  }
  cv_.Signal();
}

void ReconcileQueue::AddMany(const std::vector<int64_t>& ids, Priority priority) {
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return;
    // Promotions leave resync_ in one pass at the end: erasing each from
    // the deque as it comes would cost O(ids x queue) when a bulk change
    // meets a full resync (100,000 x 100,000 at scale).
    std::set<int64_t> promoted;
    for (int64_t id : ids) Enqueue(id, priority, &promoted);
    if (!promoted.empty()) {
      resync_.erase(std::remove_if(resync_.begin(), resync_.end(),
                                   [&](int64_t id) { return promoted.count(id) > 0; }),
                    resync_.end());
    }
  }
  cv_.SignalAll();
}

void ReconcileQueue::Enqueue(int64_t id, Priority priority, std::set<int64_t>* promoted) {
  if (processing_.count(id)) {
    auto [it, inserted] = dirty_.emplace(id, priority);
    if (!inserted && priority == Priority::kUrgent) it->second = priority;
    return;
  }
  auto it = queued_.find(id);
  if (it == queued_.end()) {
    queued_[id] = priority;
    (priority == Priority::kUrgent ? urgent_ : resync_).push_back(id);
    return;
  }
  if (priority == Priority::kUrgent && it->second == Priority::kResync) {
    // Promote: a user write should not wait behind a long resync.
    if (promoted) {
      promoted->insert(id);
    } else {
      resync_.erase(std::find(resync_.begin(), resync_.end(), id));
    }
    urgent_.push_back(id);
    it->second = Priority::kUrgent;
  }
}

void ReconcileQueue::AddAfter(int64_t id, absl::Duration delay) {
  if (delay <= absl::ZeroDuration()) {
    Add(id);
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return;
    Clock::time_point due = Clock::now() + absl::ToChronoNanoseconds(delay);
    auto [it, inserted] = delayed_.emplace(id, due);
    if (!inserted) it->second = std::min(it->second, due);
  }
  cv_.SignalAll();  // a sleeping Get may need to wake earlier
}

void ReconcileQueue::PromoteDueLocked(Clock::time_point now) {
  for (auto it = delayed_.begin(); it != delayed_.end();) {
    if (it->second <= now) {
      Enqueue(it->first, Priority::kUrgent);
      it = delayed_.erase(it);
    } else {
      ++it;
    }
  }
}

std::optional<int64_t> ReconcileQueue::PopLocked() {
  std::deque<int64_t>* from = nullptr;
  if (!resync_.empty() && (urgent_.empty() || gets_since_resync_ >= 3)) {
    from = &resync_;
    gets_since_resync_ = 0;
  } else if (!urgent_.empty()) {
    from = &urgent_;
    ++gets_since_resync_;
  } else {
    return std::nullopt;
  }
  int64_t id = from->front();
  from->pop_front();
  queued_.erase(id);
  processing_.insert(id);
  return id;
}

std::optional<int64_t> ReconcileQueue::Get() {
  absl::MutexLock lock(&mu_);
  while (!shutdown_) {
    PromoteDueLocked(Clock::now());
    if (auto id = PopLocked()) return id;
    if (delayed_.empty()) {
      cv_.Wait(&mu_);
    } else {
      Clock::time_point next = Clock::time_point::max();
      for (const auto& [id, due] : delayed_) next = std::min(next, due);
      cv_.WaitWithTimeout(&mu_, absl::FromChrono(next - Clock::now()));
    }
  }
  return std::nullopt;
}

void ReconcileQueue::Done(int64_t id) {
  {
    absl::MutexLock lock(&mu_);
    processing_.erase(id);
    auto it = dirty_.find(id);
    if (it == dirty_.end() || shutdown_) return;
    Priority priority = it->second;
    dirty_.erase(it);
    Enqueue(id, priority);
  }
  cv_.Signal();
}

void ReconcileQueue::ShutDown() {
  {
    absl::MutexLock lock(&mu_);
    shutdown_ = true;
  }
  cv_.SignalAll();
}

size_t ReconcileQueue::Depth() const {
  absl::MutexLock lock(&mu_);
  return urgent_.size() + resync_.size();
}

size_t ReconcileQueue::DelayedCount() const {
  absl::MutexLock lock(&mu_);
  return delayed_.size();
}

}  // namespace skydeck::reconcile
