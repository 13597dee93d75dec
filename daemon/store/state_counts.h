// File: daemon/store/state_counts.h
//
// How many live experiments are in each observed state and how many live
// jobs in each status, counted in the background so that GetHealth and a
// /metrics scrape answer from memory instead of counting the experiments
// table per call (84 ms at 100,000 experiments, under the store's lock,
// and the dashboard asks every 10 s per open tab).
//
// Staleness: the counts are recounted every `interval` (kDefaultInterval)
// when the revision (the newest event id; every write that changes an
// experiment's observed state or a job's status writes an event) moved
// since the last count, and not at all while nothing changes. So an answer
// is at most `interval` plus one count's duration behind the database.
//
// The store counts (Store::CountStates): both counts from one snapshot, on
// one of the store's read connections for a database file, so a count
// never waits for the writer nor holds the store's lock.
//
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#include "common/model/states.h"

namespace skydeck::store {

class Store;

// One count.
struct StateCountsSnapshot {
  std::map<ObservedState, int64_t> experiments_by_state;
  std::map<JobStatus, int64_t> live_jobs_by_status;
  // When the count started (the counts are at least this fresh).
  absl::Time counted_at = absl::InfinitePast();
};

class StateCounts {
 public:
  static constexpr absl::Duration kDefaultInterval = absl::Seconds(2);

  using Counter = std::function<absl::StatusOr<StateCountsSnapshot>()>;
  // Counts with store->CountStates().
  static Counter CountStore(Store* store);

  // `count` counts; `revision` returns the newest revision (cheap: it is
  // called every interval); `now` is the clock (injectable for tests).
  StateCounts(Counter count, std::function<int64_t()> revision, absl::Duration interval,
              std::function<absl::Time()> now = absl::Now);
  ~StateCounts();  // Stop()
  StateCounts(const StateCounts&) = delete;
  StateCounts& operator=(const StateCounts&) = delete;

  // Starts the thread: it counts at once, then recounts as above. Does not
  // wait for the first count (at 100,000 experiments it takes ~0.1 s of
  // start-up otherwise); a Latest() before it waits for it instead.
  // REQUIRES: called once.
  void Start() ABSL_LOCKS_EXCLUDED(mu_);
  // Stops the thread (waits for a count in progress). Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // The latest counts. Never counts, except when there are none yet (the
  // thread's first count not done, or not started: tests and tools), when
  // it counts once now (or waits for the count in progress).
  absl::StatusOr<StateCountsSnapshot> Latest() ABSL_LOCKS_EXCLUDED(mu_);

  // The thread's step: recounts when the last count is `interval` old and
  // the revision moved since it started (or there is none). Returns
  // whether it counted. Public so tests can drive it with their clock.
  absl::StatusOr<bool> RefreshIfDue() ABSL_LOCKS_EXCLUDED(mu_);

  // How many counts ran (for tests and the benchmark).
  int64_t counts_taken() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Counts now and stores the result. REQUIRES: count_mu_ held, so two
  // counts never run at once.
  absl::Status CountNow() ABSL_EXCLUSIVE_LOCKS_REQUIRED(count_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  const Counter count_;
  const std::function<int64_t()> revision_;
  const absl::Duration interval_;
  const std::function<absl::Time()> now_;

  absl::Mutex count_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // serialises counts
  mutable absl::Mutex mu_;
  std::optional<StateCountsSnapshot> latest_ ABSL_GUARDED_BY(mu_);
  int64_t latest_revision_ ABSL_GUARDED_BY(mu_) = -1;  // the revision when latest_ was counted
  int64_t counts_taken_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // touched by Start/Stop only (one thread: the daemon's)
};

}  // namespace skydeck::store
