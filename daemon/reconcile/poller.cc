#include "daemon/reconcile/poller.h"

#include <chrono>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"

#include "common/log.h"
#include "common/status_macros.h"
#include "common/status_text.h"
#include "daemon/backend/call_deadline.h"
#include "daemon/reconcile/job_observation.h"

namespace skydeck::reconcile {
namespace {
constexpr char kActor[] = "poller";
}  // namespace

Poller::Poller(store::Store* store, backend::Backend* backend, Clock clock, Enqueue enqueue,
               absl::Duration call_timeout)
    : store_(store),
      backend_(backend),
      clock_(std::move(clock)),
      enqueue_(std::move(enqueue)),
      call_timeout_(call_timeout) {}

absl::StatusOr<int> Poller::PollOnce(const std::optional<backend::BackendInfo>& probe) {
  absl::MutexLock lock(&poll_mu_);
  int64_t started = clock_();
  auto timer = std::chrono::steady_clock::now();
  absl::StatusOr<int> polled;
  {
    backend::CallDeadlineScope deadline(absl::Now() + call_timeout_);
    polled = PollLocked(probe);
  }
  bool was_failing;
  {
    absl::MutexLock health_lock(&health_mu_);
    was_failing = health_.failing_since_ms != 0;
    health_.last_attempt_ms = started;
    health_.poll_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - timer).count();
    if (polled.ok()) {
      health_.polls_ok++;
      health_.last_success_ms = started;
      health_.last_error.clear();
      health_.failing_since_ms = 0;
    } else {
      health_.polls_error++;
      health_.last_error = StatusText(polled.status());
      if (health_.failing_since_ms == 0) health_.failing_since_ms = started;
    }
  }
  // Polls started or stopped failing: the experiments whose jobs they
  // observe show it (Degraded PollFailing) or stop showing it.
  if (was_failing != !polled.ok()) {
    for (int64_t id : polled_experiments_) enqueue_(id);
  }
  if (polled.ok()) polled_experiments_ = current_experiments_;
  return polled;
}

PollHealth Poller::health() const {
  absl::MutexLock lock(&health_mu_);
  return health_;
}

std::optional<PollFailure> Poller::Failure() const {
  absl::MutexLock lock(&health_mu_);
  if (health_.failing_since_ms == 0) return std::nullopt;
  return PollFailure{health_.last_error, health_.failing_since_ms, health_.last_success_ms};
}

absl::StatusOr<int> Poller::PollLocked(const std::optional<backend::BackendInfo>& probe) {
  ASSIGN_OR_RETURN(std::vector<JobRecord> live, store_->ListLiveJobs());
  std::vector<const JobRecord*> polled;
  std::vector<std::string> ids;
  std::set<int64_t> experiments;
  for (const auto& job : live) {
    // Unresolved launch intents belong to the reconciler; jobs of another
    // backend (after a --backend switch) cannot be asked here.
    if (!job.backend_job_id.empty() && job.backend == backend_->name()) {
      polled.push_back(&job);
      ids.push_back(job.backend_job_id);
      experiments.insert(job.experiment_id);
    }
  }
  // Those that start or stop showing a failure are the ones asked about,
  // plus those asked about before (their jobs may have ended since).
  polled_experiments_.insert(experiments.begin(), experiments.end());
  current_experiments_ = std::move(experiments);
  if (ids.empty()) {
    // Nothing to ask: the health check is this tick's only exchange.
    backend::BackendInfo info = probe ? *probe : backend_->Probe();
    if (!info.reachable) {
      return absl::UnavailableError(absl::StrCat(
          "the ", backend_->name(), " backend did not answer its health check: ", info.error));
    }
    return 0;
  }
  {
    absl::MutexLock lock(&health_mu_);
    health_.backend_calls++;
  }
  ASSIGN_OR_RETURN(std::vector<backend::JobObservation> observations, backend_->Query(ids));
  std::map<std::string, const backend::JobObservation*> by_id;
  for (const auto& obs : observations) by_id[obs.backend_job_id] = &obs;

  int64_t now = clock_();
  std::string missing_reason =
      absl::StrCat("the ", backend_->name(),
                   " backend no longer reports this job, so how it ended is unknown (it may have "
                   "finished while nobody was watching); it is not relaunched automatically");
  // Folds this tick's answer into `j`: the same function decides whether a
  // job changed and, inside the transaction, what is written.
  auto fold = [&](JobRecord& j, std::vector<NewEvent>* events) {
    auto it = by_id.find(j.backend_job_id);
    if (it == by_id.end() && j.status == JobStatus::kLaunching) {
      ForgetLaunchRequest(backend_->name(), kActor, j, events);
    } else if (it == by_id.end()) {
      MarkOutcomeUnknown(missing_reason, now, kActor, j, events);
    } else {
      ApplyObservation(*it->second, now, kActor, j, events);
    }
  };
  // Most jobs did not change since the last tick: those cost no write at
  // all, and the others share one transaction.
  std::map<int64_t, const JobRecord*> changed_jobs;
  std::vector<int64_t> changed_ids;
  for (const JobRecord* job : polled) {
    JobRecord next = *job;
    std::vector<NewEvent> events;
    fold(next, &events);
    if (next == *job && events.empty()) continue;
    changed_jobs[job->id] = job;
    changed_ids.push_back(job->id);
  }
  if (changed_ids.empty()) return static_cast<int>(ids.size());
  ASSIGN_OR_RETURN(
      auto results,
      store_->UpdateJobs(changed_ids, [&](JobRecord& j, std::vector<NewEvent>* events) {
        // The reconciler may have moved the job on since we listed it.
        if (j.backend_job_id != changed_jobs.at(j.id)->backend_job_id) return absl::OkStatus();
        fold(j, events);
        return absl::OkStatus();
      }));
  std::set<int64_t> changed_experiments;
  for (size_t i = 0; i < results.size(); ++i) {
    const JobRecord& before = *changed_jobs.at(changed_ids[i]);
    if (!results[i].ok()) {
      LogWarn("poll: cannot record job status",
              {{"job", std::to_string(before.id)}, {"error", results[i].status().ToString()}});
      continue;
    }
    if (results[i]->status != before.status || results[i]->ended_ms != before.ended_ms ||
        results[i]->backend_job_id != before.backend_job_id) {
      changed_experiments.insert(before.experiment_id);
    }
  }
  for (int64_t id : changed_experiments) enqueue_(id);
  return static_cast<int>(ids.size());
}

}  // namespace skydeck::reconcile
