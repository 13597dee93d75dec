#include "daemon/backend/skypilot/cancel_batcher.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"

namespace skydeck::backend::skypilot {

CancelBatcher::CancelBatcher(Send send, absl::Duration linger, size_t max_batch)
    : send_(std::move(send)), linger_(linger), max_batch_(std::max<size_t>(1, max_batch)) {}

absl::Status CancelBatcher::Cancel(int64_t job_id) {
  absl::MutexLock lock(&mu_);
  if (open_ == nullptr || open_->ids.size() >= max_batch_) open_ = std::make_shared<Batch>();
  std::shared_ptr<Batch> mine = open_;
  if (std::find(mine->ids.begin(), mine->ids.end(), job_id) == mine->ids.end()) {
    mine->ids.push_back(job_id);
  }
  // While another request is out, wait; then, unless it carried our id,
  // lead the next one.
  while (!mine->done && sending_) cv_.Wait(&mu_);
  if (mine->done) return mine->status;
  sending_ = true;
  if (linger_ > absl::ZeroDuration()) {
    mu_.Unlock();
    absl::SleepFor(linger_);  // let concurrent cancels join
    mu_.Lock();
  }
  if (open_ == mine) open_ = nullptr;  // later arrivals start the next batch
  std::vector<int64_t> ids = mine->ids;
  mu_.Unlock();
  absl::Status status = send_(ids);
  mu_.Lock();
  mine->status = status;
  mine->done = true;
  sending_ = false;
  cv_.SignalAll();
  return status;
}

}  // namespace skydeck::backend::skypilot
