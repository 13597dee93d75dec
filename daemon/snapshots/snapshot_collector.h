// File: daemon/snapshots/snapshot_collector.h
//
// Garbage collection of code snapshots. The rule: a snapshot is kept while
// anything in the database names it — an experiment (a soft-deleted one
// too: it can be restored), a job (history keeps what each job ran) or a
// template version (every version, for the same reason) — and, when
// nothing does, until it has not been used for `grace` (an upload, or a
// client told "have it", is followed by the create that names it). File
// contents are kept while a kept snapshot holds them, or for `grace`
// after their upload. Abandoned partial uploads go after `grace`.
// Snapshots of purged experiments and jobs, and those superseded before
// any job ran them, are what goes.
//
// Runs once at Start and then every `interval` on its own thread.
//
//   SnapshotCollector gc(&store, &snapshots, {.grace = absl::Hours(1)});
//   gc.Start();
//   ...
//   gc.Stop();
//
// Thread-safety: Start/Stop from one thread; CollectOnce from any.
#pragma once

#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#include "daemon/snapshots/snapshot_store.h"
#include "daemon/store/store.h"

namespace skydeck::snapshots {

struct CollectorOptions {
  absl::Duration grace = absl::Hours(1);
  absl::Duration interval = absl::Hours(1);
};

class SnapshotCollector {
 public:
  // Pointers are not owned and must outlive the collector.
  SnapshotCollector(store::Store* store, SnapshotStore* snapshots, CollectorOptions options);
  ~SnapshotCollector();

  // Collects now (logging what went), then every interval until Stop.
  void Start();
  void Stop();

  // One collection with the current references. Errors: the store's.
  absl::StatusOr<CollectResult> CollectOnce();

 private:
  store::Store* store_;
  SnapshotStore* snapshots_;
  const CollectorOptions options_;
  // Collects and logs once.
  void CollectAndLog();

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;  // the thread awaits it between runs
  std::thread thread_;
};

}  // namespace skydeck::snapshots
