#include "daemon/store/state_counts.h"

#include <algorithm>
#include <utility>

#include "common/log.h"
#include "common/status_macros.h"
#include "daemon/store/store.h"

namespace skydeck::store {

StateCounts::Counter StateCounts::CountStore(Store* store) {
  return [store]() -> absl::StatusOr<StateCountsSnapshot> {
    ASSIGN_OR_RETURN(LiveStateCounts counted, store->CountStates());
    StateCountsSnapshot out;
    out.experiments_by_state = std::move(counted.experiments_by_state);
    out.live_jobs_by_status = std::move(counted.live_jobs_by_status);
    return out;
  };
}

StateCounts::StateCounts(Counter count, std::function<int64_t()> revision, absl::Duration interval,
                         std::function<absl::Time()> now)
    : count_(std::move(count)),
      revision_(std::move(revision)),
      interval_(interval),
      now_(std::move(now)) {}

StateCounts::~StateCounts() { Stop(); }

void StateCounts::Start() {
  thread_ = std::thread([this] { Run(); });
}

void StateCounts::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<StateCountsSnapshot> StateCounts::Latest() {
  {
    absl::MutexLock lock(&mu_);
    if (latest_) return *latest_;
  }
  absl::MutexLock count_lock(&count_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (latest_) return *latest_;  // another caller counted meanwhile
  }
  RETURN_IF_ERROR(CountNow());
  absl::MutexLock lock(&mu_);
  return *latest_;
}

absl::StatusOr<bool> StateCounts::RefreshIfDue() {
  absl::MutexLock count_lock(&count_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (latest_ && (now_() - latest_->counted_at < interval_ || revision_() == latest_revision_)) {
      return false;
    }
  }
  RETURN_IF_ERROR(CountNow());
  return true;
}

int64_t StateCounts::counts_taken() const {
  absl::MutexLock lock(&mu_);
  return counts_taken_;
}

absl::Status StateCounts::CountNow() {
  // The revision before the count: a change committed while counting moves
  // it past this one, so the next step counts again.
  const int64_t revision = revision_();
  const absl::Time started = now_();
  ASSIGN_OR_RETURN(StateCountsSnapshot counted, count_());
  counted.counted_at = started;
  absl::MutexLock lock(&mu_);
  latest_ = std::move(counted);
  latest_revision_ = revision;
  ++counts_taken_;
  return absl::OkStatus();
}

void StateCounts::Run() {
  // A quarter of the interval between checks bounds the lag past it.
  const absl::Duration tick = std::max(interval_ / 4, absl::Milliseconds(10));
  while (true) {
    // First at once: there are no counts yet.
    if (absl::StatusOr<bool> counted = RefreshIfDue(); !counted.ok()) {
      // The previous counts stay; the next tick tries again.
      LogWarn("cannot count experiments by state",
              {{"error", std::string(counted.status().message())}});
    }
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), tick)) return;
  }
}

}  // namespace skydeck::store
