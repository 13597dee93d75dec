// File: daemon/reconcile/controller.h
//
// Runs the reconciler: a work queue fed by API writes (Enqueue), the poller
// (experiments whose jobs changed) and a periodic resync; a bounded pool of
// workers; per-experiment exponential backoff after errors (the resync
// leaves experiments in backoff alone; they are retried, spread over up to
// one poll interval, when a poll finds the backend healthy again after
// failing); a poll loop.
//
// The resync is paced: it hands the queue kResyncBatch ids at a time, and
// only once the queue has drained below half a batch, so the workers never
// face 100,000 ids at once; the periodic resync also spreads its batches
// over half the resync interval, so at 100,000 experiments its reconciles
// take a fraction of a core instead of every core for seconds (which
// lifted the API's p99 ~20x while it ran). The start-up pass is not
// spread (it recovers from a crash), but runs on the resync thread: the
// daemon serves while it goes on.
// Business logic lives in Reconciler and Poller; this file owns threads.
//
//   Controller c(store, backend, installation_id, options);
//   c.Start();   // starts the threads; the resync thread first reconciles
//                // every live experiment once (restart recovery)
//   ...
//   c.Stop();    // joins every thread
//
// Thread-safety: all public methods are safe to call concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#include "daemon/backend/backend.h"
#include "daemon/reconcile/control_plane.h"
#include "daemon/reconcile/poller.h"
#include "daemon/reconcile/reconcile_queue.h"
#include "daemon/reconcile/reconciler.h"
#include "daemon/store/store.h"

namespace skydeck::reconcile {

// What one reconcile did, for ControllerOptions::on_reconciled.
struct ReconcileOutcome {
  int64_t experiment_id = 0;
  absl::Status status;
  // After an error: the backoff before this id is reconciled again.
  absl::Duration retry_in = absl::ZeroDuration();
};

// Ids a resync hands the queue at a time.
inline constexpr int kResyncBatch = 256;

struct ControllerOptions {
  // Reconcile workers, i.e. at most this many launches in flight at once.
  int workers = 4;
  absl::Duration poll_interval = absl::Seconds(30);
  absl::Duration resync_interval = absl::Seconds(60);
  // Backoff after a reconcile error: initial, doubled per failure, capped.
  absl::Duration error_backoff_initial = absl::Seconds(1);
  absl::Duration error_backoff_max = absl::Minutes(5);
  // Unix ms for the reconciler and poller (tests inject one); null: now.
  std::function<int64_t()> clock;
  // Called on the worker thread after every reconcile (tests, diagnostics).
  // Must be quick and must not call back into the controller's queue.
  std::function<void(const ReconcileOutcome&)> on_reconciled;
  // Why this backend was chosen (backend_factory.h), shown in health.
  std::string backend_reason;
  // Where secret values come from (not owned; null: nowhere).
  workload::SecretSource* secrets = nullptr;
  // The git version of a local workdir (null: InspectCode).
  LaunchPlanner::CodeInspector inspect_code;
  // Whether a code snapshot is stored (null: not checked before launch).
  LaunchPlanner::SnapshotLookup snapshots;
  // Set when the backend has a workdir of its own for jobs that name none
  // (skydeckd --skypilot-workdir): a client's directory is then not used
  // by default. Says so, for the warning.
  std::string backend_default_workdir;
  // How long environment failures are retried (ReconcilerOptions).
  absl::Duration environment_retry_limit = absl::Minutes(30);
  // The deadline of one reconcile's, or one poll's, backend calls in all
  // (ReconcilerOptions::backend_call_timeout). Infinite: only the
  // backend's own timeouts.
  absl::Duration backend_call_timeout = absl::InfiniteDuration();
  // How often a log stream waiting for its job to start looks again.
  absl::Duration log_wait_check = absl::Milliseconds(500);
};

// ErrorBackoff()
//
// The delay before reconciling an experiment again after its
// `consecutive_errors`-th error in a row (>= 1): `initial`, doubled per
// error, at most `max`.
//   ErrorBackoff(3, absl::Seconds(1), absl::Minutes(5)) == absl::Seconds(4)
absl::Duration ErrorBackoff(int consecutive_errors, absl::Duration initial, absl::Duration max);

// Counters for /metrics and health.
struct ControllerStats {
  int64_t reconciles_ok = 0;
  int64_t reconciles_error = 0;
  size_t queue_depth = 0;
  size_t queue_delayed = 0;
  int64_t polls_ok = 0;
  int64_t polls_error = 0;
  double poll_seconds = 0;
  int64_t launches_ok = 0;
  int64_t launches_error = 0;
};

class Controller final : public ControlPlane {
 public:
  // Pointers are not owned and must outlive the controller.
  Controller(store::Store* store, backend::Backend* backend, std::string installation_id,
             ControllerOptions options);
  ~Controller() override;

  void Start();
  void Stop();

  // ControlPlane.
  void Enqueue(int64_t experiment_id) override;
  void EnqueueMany(const std::vector<int64_t>& experiment_ids) override;
  absl::StatusOr<int> Refresh() override;
  BackendHealth Health() override;
  absl::Status CheckLaunchable(const ExperimentSpec& spec) override;
  std::string DefaultWorkdirRefusal() override;
  absl::StatusOr<JobRecord> StreamLogs(const JobRecord& job, bool follow,
                                       const backend::LogTail& tail, const LogSinks& sinks,
                                       const std::function<bool()>& cancelled) override;

  ControllerStats stats() const;

 private:
  void WorkerLoop();
  void PollLoop();
  void ResyncLoop();
  // Adds every live experiment not in error backoff to the queue as a
  // resync, in batches (see above); each batch's share of `spread` passes
  // before the next. False when stopping.
  bool ResyncAll(absl::Duration spread);
  void ReconcileOne(int64_t id);
  // Ids whose last reconcile failed (waiting out their error backoff).
  std::set<int64_t> BackedOff() const ABSL_LOCKS_EXCLUDED(mu_);
  // Sleeps up to `d`; false when stopping.
  bool SleepFor(absl::Duration d) ABSL_LOCKS_EXCLUDED(stop_mu_);
  // Waits (following logs) until `job` has another status in the store or
  // ended: the job as it is then; nullopt when `cancelled()` or the daemon
  // stops first.
  absl::StatusOr<std::optional<JobRecord>> WaitForStatusChange(
      const JobRecord& job, const std::function<bool()>& cancelled);

  store::Store* store_;
  backend::Backend* backend_;
  ControllerOptions options_;
  Reconciler reconciler_;
  LaunchPlanner planner_;  // for CheckLaunchable
  Poller poller_;
  ReconcileQueue queue_;

  std::vector<std::thread> threads_;
  absl::Mutex stop_mu_;
  bool stopping_ ABSL_GUARDED_BY(stop_mu_) = false;

  mutable absl::Mutex mu_;
  // Consecutive errors per id.
  std::map<int64_t, int> failures_ ABSL_GUARDED_BY(mu_);
  std::mt19937 rng_{std::random_device{}()};  // poll thread only: retry spread
  // From the last probe.
  backend::BackendInfo backend_info_ ABSL_GUARDED_BY(mu_);
  std::atomic<int64_t> reconciles_ok_{0};
  std::atomic<int64_t> reconciles_error_{0};
};

}  // namespace skydeck::reconcile
