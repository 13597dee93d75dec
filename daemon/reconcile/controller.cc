#include "daemon/reconcile/controller.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"

#include "common/log.h"
#include "common/status_macros.h"
#include "common/status_text.h"
#include "common/time_util.h"

namespace skydeck::reconcile {
namespace {

std::function<int64_t()> ClockOrNow(std::function<int64_t()> clock) {
  return clock ? std::move(clock) : std::function<int64_t()>(NowMillis);
}

// Whether a job's log can be read now. Before it runs (and while it is
// recovering from a preemption) SkyPilot holds a log request open sending
// only spinner lines, so a reader would wait without a word.
bool HasStarted(const JobRecord& job) {
  if (!job.live()) return true;
  switch (job.status) {
    case JobStatus::kLaunching:
    case JobStatus::kPending:
    case JobStatus::kSubmitted:
    case JobStatus::kStarting:
    case JobStatus::kRecovering:
      return false;
    default:
      return true;  // RUNNING, CANCELLING, UNKNOWN (never assumed not to run)
  }
}

std::string JobWords(const JobRecord& job) {
  return absl::StrCat("job ", job.id, " (attempt ", job.attempt, ")");
}

std::string NotStartedYet(const JobRecord& job) {
  if (job.status == JobStatus::kRecovering) {
    return absl::StrCat(JobWords(job),
                        " is RECOVERING: the backend is recovering it from a "
                        "preemption, and its log continues when it runs again");
  }
  return absl::StrCat(JobWords(job), " has not started yet: it is ", Name(job.status),
                      ", and its log begins when it runs");
}

ReconcilerOptions ReconcilerOptionsFor(const ControllerOptions& options, const Poller* poller) {
  ReconcilerOptions r;
  r.environment_retry_limit = options.environment_retry_limit;
  r.poll_failure = [poller] { return poller->Failure(); };
  r.secrets = options.secrets;
  r.inspect_code = options.inspect_code;
  r.snapshots = options.snapshots;
  r.backend_call_timeout = options.backend_call_timeout;
  return r;
}

}  // namespace

absl::Duration ErrorBackoff(int consecutive_errors, absl::Duration initial, absl::Duration max) {
  int doublings = std::clamp(consecutive_errors - 1, 0, 20);
  return std::min(initial * (int64_t{1} << doublings), max);
}

Controller::Controller(store::Store* store, backend::Backend* backend, std::string installation_id,
                       ControllerOptions options)
    : store_(store),
      backend_(backend),
      options_(std::move(options)),
      reconciler_(store, backend, std::move(installation_id), ClockOrNow(options_.clock),
                  ReconcilerOptionsFor(options_, &poller_)),
      planner_(store, backend, options_.secrets, options_.inspect_code, options_.snapshots),
      poller_(
          store, backend, ClockOrNow(options_.clock), [this](int64_t id) { Enqueue(id); },
          options_.backend_call_timeout) {}

Controller::~Controller() { Stop(); }

void Controller::Start() {
  {
    absl::MutexLock lock(&mu_);
    backend_info_ = backend_->Probe();
  }
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    threads_.emplace_back([this] { WorkerLoop(); });
  }
  threads_.emplace_back([this] { PollLoop(); });
  threads_.emplace_back([this] { ResyncLoop(); });
}

void Controller::Stop() {
  {
    // Releasing stop_mu_ wakes every SleepFor (it awaits stopping_).
    absl::MutexLock lock(&stop_mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  queue_.ShutDown();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

bool Controller::SleepFor(absl::Duration d) {
  absl::MutexLock lock(&stop_mu_);
  return !stop_mu_.AwaitWithTimeout(absl::Condition(&stopping_), d);
}

void Controller::Enqueue(int64_t experiment_id) { queue_.Add(experiment_id); }

void Controller::EnqueueMany(const std::vector<int64_t>& experiment_ids) {
  queue_.AddMany(experiment_ids);
}

void Controller::WorkerLoop() {
  while (std::optional<int64_t> id = queue_.Get()) {
    ReconcileOne(*id);
    queue_.Done(*id);
  }
}

void Controller::ReconcileOne(int64_t id) {
  absl::StatusOr<ReconcileResult> result = reconciler_.Reconcile(id);
  if (result.ok()) {
    reconciles_ok_++;
    {
      absl::MutexLock lock(&mu_);
      failures_.erase(id);
    }
    if (result->requeue_after > absl::ZeroDuration()) queue_.AddAfter(id, result->requeue_after);
    if (options_.on_reconciled) options_.on_reconciled({id, absl::OkStatus()});
    return;
  }
  reconciles_error_++;
  int failures;
  {
    absl::MutexLock lock(&mu_);
    failures = ++failures_[id];
  }
  absl::Duration delay =
      ErrorBackoff(failures, options_.error_backoff_initial, options_.error_backoff_max);
  LogWarn("reconcile failed", {{"experiment", std::to_string(id)},
                               {"error", StatusText(result.status())},
                               {"retry_in", FormatDurationRounded(delay)}});
  queue_.AddAfter(id, delay);
  if (options_.on_reconciled) options_.on_reconciled({id, result.status(), delay});
}

void Controller::PollLoop() {
  bool was_failing = false;
  do {
    backend::BackendInfo info = backend_->Probe();
    {
      absl::MutexLock lock(&mu_);
      backend_info_ = info;
    }
    absl::StatusOr<int> polled = poller_.PollOnce(info);
    if (!polled.ok()) {
      LogWarn("poll failed",
              {{"backend", backend_->name()}, {"error", StatusText(polled.status())}});
    }
    bool failing = !info.reachable || !polled.ok();
    if (was_failing && !failing) {
      // The backend is back: what backed off while it failed is retried
      // now, not when each backoff (up to error_backoff_max) ends; spread
      // over up to one poll interval (10 s at most), so that a backend
      // that comes back, or flaps, does not get them all in one second.
      absl::Duration spread = std::min(options_.poll_interval, absl::Seconds(10));
      std::uniform_real_distribution<double> share(0, 1);
      for (int64_t id : BackedOff()) queue_.AddAfter(id, spread * share(rng_));
    }
    was_failing = failing;
  } while (SleepFor(options_.poll_interval));
}

std::set<int64_t> Controller::BackedOff() const {
  absl::MutexLock lock(&mu_);
  std::set<int64_t> ids;
  for (const auto& [id, failures] : failures_) ids.insert(id);
  return ids;
}

void Controller::ResyncLoop() {
  // Every experiment once at start: resolves launch intents left by a crash
  // and picks up desired-state changes made while the daemon was down. As
  // fast as the workers go, but after start-up, not before serving.
  if (!ResyncAll(absl::ZeroDuration())) return;
  while (SleepFor(options_.resync_interval)) {
    if (!ResyncAll(options_.resync_interval / 2)) return;
  }
}

bool Controller::ResyncAll(absl::Duration spread) {
  absl::StatusOr<std::vector<int64_t>> ids = store_->ListLiveExperimentIds();
  if (!ids.ok()) {
    LogWarn("resync cannot list experiments", {{"error", StatusText(ids.status())}});
    return true;
  }
  const size_t batches = (ids->size() + kResyncBatch - 1) / kResyncBatch;
  const absl::Duration per_batch = batches == 0 ? absl::ZeroDuration() : spread / batches;
  for (size_t start = 0; start < ids->size(); start += kResyncBatch) {
    const absl::Time next = absl::Now() + per_batch;
    // Experiments in error backoff wait for it: re-adding them here would
    // retry every failing experiment at once each interval, a burst
    // against a backend that is already failing.
    std::set<int64_t> backed_off = BackedOff();
    std::vector<int64_t> batch;
    for (size_t i = start; i < std::min(ids->size(), start + kResyncBatch); ++i) {
      if (backed_off.count((*ids)[i]) == 0) batch.push_back((*ids)[i]);
    }
    queue_.AddMany(batch, ReconcileQueue::Priority::kResync);
    // The next batch once this one is mostly done and its share of the
    // spread has passed.
    while (queue_.Depth() > kResyncBatch / 2 || absl::Now() < next) {
      const absl::Duration left = next - absl::Now();
      if (!SleepFor(std::clamp(left, absl::Milliseconds(2), absl::Milliseconds(50)))) return false;
    }
  }
  return true;
}

absl::StatusOr<int> Controller::Refresh() { return poller_.PollOnce(); }

BackendHealth Controller::Health() {
  PollHealth poll = poller_.health();
  absl::MutexLock lock(&mu_);
  BackendHealth h;
  h.backend = backend_->name();
  h.backend_reason = options_.backend_reason;
  h.reachable = backend_info_.reachable;
  h.api_version = backend_info_.api_version;
  h.version = backend_info_.version;
  h.endpoint = backend_info_.endpoint;
  h.last_successful_poll_ms = poll.last_success_ms;
  h.last_poll_error = poll.last_error;
  if (!backend_info_.reachable && h.last_poll_error.empty())
    h.last_poll_error = backend_info_.error;
  return h;
}

absl::Status Controller::CheckLaunchable(const ExperimentSpec& spec) {
  return planner_.Check(spec);
}

std::string Controller::DefaultWorkdirRefusal() {
  if (!options_.backend_default_workdir.empty()) return options_.backend_default_workdir;
  // Ask the backend the way a launch would: can it run a local directory?
  backend::JobSpec probe;
  probe.name = "skydeck-check-0-1";
  probe.command = "true";
  probe.workdir.kind = Workdir::Kind::kLocal;
  probe.workdir.path = "/";
  // A backend that runs snapshots runs the client's: any directory works.
  if (backend_->UsesCodeSnapshots()) probe.workdir_snapshot.snapshot_id = std::string(64, '0');
  absl::Status rendered = backend_->RenderTask(probe).status();
  return rendered.ok() ? "" : std::string(rendered.message());
}

absl::StatusOr<std::optional<JobRecord>> Controller::WaitForStatusChange(
    const JobRecord& job, const std::function<bool()>& cancelled) {
  // The poller moves the job on; the store is where it shows.
  while (SleepFor(options_.log_wait_check) && !(cancelled && cancelled())) {
    ASSIGN_OR_RETURN(JobRecord now, store_->GetJob(job.id));
    if (now.status != job.status || !now.live()) return std::optional<JobRecord>(now);
  }
  return std::optional<JobRecord>();
}

absl::StatusOr<JobRecord> Controller::StreamLogs(const JobRecord& requested, bool follow,
                                                 const backend::LogTail& tail,
                                                 const LogSinks& sinks,
                                                 const std::function<bool()>& cancelled) {
  JobRecord job = requested;
  if (job.backend != backend_->name()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "job ", job.id, " ran on backend ", job.backend, "; this daemon uses ", backend_->name()));
  }
  auto stopped = [&] { return cancelled && cancelled(); };
  bool waited = false;
  while (!HasStarted(job)) {
    if (!follow) {
      return absl::FailedPreconditionError(
          absl::StrCat(NotStartedYet(job), ": use -f (follow) to wait for it"));
    }
    if (sinks.progress &&
        !sinks.progress(absl::StrCat(NotStartedYet(job), "; waiting for it..."))) {
      return job;
    }
    waited = true;
    ASSIGN_OR_RETURN(std::optional<JobRecord> next, WaitForStatusChange(job, cancelled));
    if (!next) return job;  // the reader went away, or the daemon stops
    job = *std::move(next);
  }
  if (waited && job.live() && sinks.progress &&
      !sinks.progress(absl::StrCat(JobWords(job), " is ", Name(job.status), "; its log follows"))) {
    return job;
  }
  if (job.backend_job_id.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        JobWords(job), " ended ", Name(job.status), " before it reached the backend",
        job.failure_reason.empty() ? "" : ": ", job.failure_reason, "; it has no log"));
  }
  absl::Status streamed =
      backend_->StreamLogs(job.backend_job_id, follow, tail, sinks.data, cancelled);
  if (!streamed.ok()) {
    if (job.live() || job.failure_reason.empty()) return streamed;
    if (absl::IsNotFound(streamed) || absl::IsFailedPrecondition(streamed)) {
      // E.g. a launch that failed, asked about after the API server
      // restarted and forgot it: what SkyDeck recorded is the answer.
      return absl::FailedPreconditionError(absl::StrCat(JobWords(job), " ended ", Name(job.status),
                                                        " without a log: ", job.failure_reason,
                                                        " (", streamed.message(), ")"));
    }
    // The backend cannot answer now (retry later), but how the job ended
    // is known here.
    return absl::Status(streamed.code(),
                        absl::StrCat(streamed.message(), "; ", JobWords(job), " ended ",
                                     Name(job.status), ": ", job.failure_reason));
  }
  if (stopped()) return job;
  // How it ended: a followed job that just ended may not be polled yet.
  ASSIGN_OR_RETURN(job, store_->GetJob(job.id));
  if (follow && job.live()) {
    if (absl::StatusOr<int> polled = poller_.PollOnce(); polled.ok()) {
      ASSIGN_OR_RETURN(job, store_->GetJob(job.id));
    }
  }
  return job;
}

ControllerStats Controller::stats() const {
  PollHealth poll = poller_.health();
  ControllerStats s;
  s.reconciles_ok = reconciles_ok_.load();
  s.reconciles_error = reconciles_error_.load();
  s.queue_depth = queue_.Depth();
  s.queue_delayed = queue_.DelayedCount();
  s.polls_ok = poll.polls_ok;
  s.polls_error = poll.polls_error;
  s.poll_seconds = poll.poll_seconds;
  s.launches_ok = reconciler_.launches_ok();
  s.launches_error = reconciler_.launches_error();
  return s;
}

}  // namespace skydeck::reconcile
