// File: web/bridge/work_pool.h
//
// A few threads for the bridge's CPU work (JSON both ways, gzip, /metrics),
// so that the HTTP event loop only moves bytes and the gRPC threads only
// deliver completions. Nothing here waits on I/O: a task that needs the
// daemon starts an asynchronous gRPC call and returns.
//
//   WorkPool pool(2);
//   pool.Post([] { ... });
//   pool.Stop();  // runs what was posted, then joins
//
// Thread-safety: Post may be called from any thread, also from a task.
#pragma once

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace skydeck::web {

class WorkPool {
 public:
  explicit WorkPool(int threads);
  ~WorkPool();  // Stop()

  // Runs `task` on a pool thread, in posting order per thread. After Stop
  // the task runs on the caller's thread (late completions still finish).
  void Post(std::function<void()> task);

  // Runs every posted task, then joins the threads. Idempotent.
  void Stop();

  // Tasks posted and not yet started.
  size_t queued() const;

 private:
  void Run();
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace skydeck::web
