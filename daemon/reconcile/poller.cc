#include "daemon/reconcile/poller.h"

#include <chrono>
#include <map>
#include <set>

#include "common/log.h"
#include "common/status_macros.h"
#include "daemon/reconcile/job_observation.h"

namespace skydeck::reconcile {
namespace {
constexpr char kActor[] = "poller";
}  // namespace

Poller::Poller(store::Store* store, backend::Backend* backend, Clock clock, Enqueue enqueue)
    : store_(store), backend_(backend), clock_(std::move(clock)), enqueue_(std::move(enqueue)) {}

absl::StatusOr<int> Poller::PollOnce() {
  std::lock_guard<std::mutex> lock(poll_mu_);
  int64_t started = clock_();
  auto timer = std::chrono::steady_clock::now();
  absl::StatusOr<int> polled = PollLocked();
  std::lock_guard<std::mutex> health_lock(health_mu_);
  health_.last_attempt_ms = started;
  health_.poll_seconds +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - timer).count();
  if (polled.ok()) {
    health_.polls_ok++;
    health_.last_success_ms = started;
    health_.last_error.clear();
  } else {
    health_.polls_error++;
    health_.last_error = polled.status().ToString();
  }
  return polled;
}

PollHealth Poller::health() const {
  std::lock_guard<std::mutex> lock(health_mu_);
  return health_;
}

absl::StatusOr<int> Poller::PollLocked() {
  ASSIGN_OR_RETURN(std::vector<store::JobRecord> live, store_->ListLiveJobs());
  std::vector<std::string> ids;
  for (const auto& job : live) {
    // Unresolved launch intents belong to the reconciler; jobs of another
    // backend (after a --backend switch) cannot be asked here.
    if (!job.backend_job_id.empty() && job.backend == backend_->name()) {
      ids.push_back(job.backend_job_id);
    }
  }
  if (ids.empty()) return 0;
  {
    std::lock_guard<std::mutex> lock(health_mu_);
    health_.backend_calls++;
  }
  ASSIGN_OR_RETURN(std::vector<backend::JobObservation> observations, backend_->Query(ids));
  std::map<std::string, const backend::JobObservation*> by_id;
  for (const auto& obs : observations) by_id[obs.backend_job_id] = &obs;

  std::set<int64_t> changed;
  int64_t now = clock_();
  for (const auto& job : live) {
    if (job.backend_job_id.empty() || job.backend != backend_->name()) continue;
    auto it = by_id.find(job.backend_job_id);
    auto updated = store_->UpdateJob(
        job.id, [&](store::JobRecord& j, std::vector<store::NewEvent>* events) {
          // The reconciler may have moved the job on since we listed it.
          if (j.backend_job_id != job.backend_job_id) return absl::OkStatus();
          if (it == by_id.end()) {
            MarkLost("the backend no longer reports this job", now, kActor, j, events);
          } else {
            ApplyObservation(*it->second, now, kActor, j, events);
          }
          return absl::OkStatus();
        });
    if (!updated.ok()) {
      LogWarn("poll: cannot record job status",
              {{"job", std::to_string(job.id)}, {"error", updated.status().ToString()}});
      continue;
    }
    if (updated->status != job.status || updated->ended_ms != job.ended_ms) {
      changed.insert(job.experiment_id);
    }
  }
  for (int64_t id : changed) enqueue_(id);
  return static_cast<int>(ids.size());
}

}  // namespace skydeck::reconcile
