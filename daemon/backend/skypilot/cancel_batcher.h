// File: daemon/backend/skypilot/cancel_batcher.h
//
// Joins concurrent cancels into one request. `skydeck exp stop -l ...`
// makes every reconcile worker cancel its experiment's job at the same
// moment; SkyPilot's /jobs/cancel takes a list of job ids and each request
// costs its jobs controller seconds, so one request carries them all.
//
// Group commit: the first caller waits `linger` for others to join, sends
// the ids gathered, and hands each caller the outcome of the request that
// carried its id. Callers that arrive while a request is out wait and go
// out together in the next one.
//
//   CancelBatcher batcher([&](const std::vector<int64_t>& ids) { return SendCancel(ids); },
//                         absl::Milliseconds(100));
//   absl::Status s = batcher.Cancel(17);  // from many threads at once
//
// Thread-safety: Cancel is safe to call concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace skydeck::backend::skypilot {

class CancelBatcher {
 public:
  // Sends one cancel request for `job_ids` (never empty, no duplicates).
  using Send = std::function<absl::Status(const std::vector<int64_t>& job_ids)>;

  // At most `max_batch` ids per request.
  CancelBatcher(Send send, absl::Duration linger, size_t max_batch = 100);

  // Cancels `job_id` in the next request out; returns that request's status.
  absl::Status Cancel(int64_t job_id);

 private:
  struct Batch {
    std::vector<int64_t> ids;
    bool done = false;
    absl::Status status;
  };

  const Send send_;
  const absl::Duration linger_;
  const size_t max_batch_;
  absl::Mutex mu_;
  // Collecting ids for the next request; null when nobody waits.
  std::shared_ptr<Batch> open_ ABSL_GUARDED_BY(mu_);
  // A request is out (its sender holds no lock while it waits).
  bool sending_ ABSL_GUARDED_BY(mu_) = false;
  absl::CondVar cv_;
};

}  // namespace skydeck::backend::skypilot
