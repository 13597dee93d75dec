// SkyPilotBackend, part 2: submitting launches and following each launch
// request until it names its managed job (see skypilot_backend.h).
#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "common/log.h"
#include "common/status_macros.h"
#include "daemon/backend/never_sent.h"
#include "daemon/backend/skypilot/failure_mapping.h"
#include "daemon/backend/skypilot/json_fields.h"
#include "daemon/backend/skypilot/skypilot_backend.h"
#include "daemon/backend/skypilot/status_mapping.h"

namespace skydeck::backend::skypilot {
namespace {

// Cache entries beyond this are dropped: it only saves /api/get calls.
constexpr size_t kMaxResolvedCache = 4096;

}  // namespace

JobObservation SkyPilotBackend::LaunchObservation(const std::string& request_id,
                                                  const std::string& name) {
  JobObservation obs;
  obs.backend_job_id = LaunchId(request_id);
  obs.name = name;
  return obs;
}

absl::Status SkyPilotBackend::ReserveLaunchSlot() {
  std::vector<std::string> ids;
  {
    absl::MutexLock lock(&mu_);
    absl::Time now = absl::Now();
    for (auto it = in_flight_.begin(); it != in_flight_.end();) {
      it = now - it->second.submitted > options_.launch_in_flight_ttl ? in_flight_.erase(it)
                                                                      : std::next(it);
    }
    if (static_cast<int>(in_flight_.size()) + reserved_launch_slots_ <
        options_.max_concurrent_launches) {
      ++reserved_launch_slots_;
      return absl::OkStatus();
    }
    for (const auto& [id, launch] : in_flight_) ids.push_back(id);
  }
  // Full: launches may have finished without anyone asking. Look once.
  ASSIGN_OR_RETURN(std::vector<RequestRecord> records, api_->Statuses(ids));
  absl::MutexLock lock(&mu_);
  for (const std::string& id : ids) {
    const RequestRecord* r = FindRequest(records, id);
    if (r == nullptr || MapRequestPhase(r->status) != RequestPhase::kActive) in_flight_.erase(id);
  }
  int busy = static_cast<int>(in_flight_.size()) + reserved_launch_slots_;
  if (busy < options_.max_concurrent_launches) {
    ++reserved_launch_slots_;
    return absl::OkStatus();
  }
  return absl::ResourceExhaustedError(
      absl::StrCat(busy, " SkyPilot launch requests are in flight (at most ",
                   options_.max_concurrent_launches, " at once); launching later"));
}

absl::StatusOr<std::string> SkyPilotBackend::Launch(const JobSpec& spec) {
  // Nothing sent yet. (A predecessor's launch of this name was ruled out by
  // a conclusive Find before the reconciler called Launch.)
  RecordLaunchAttempt(spec.name, true);
  ASSIGN_OR_RETURN(std::string task, RenderTaskYaml(spec, yaml_options_));
  if (absl::StatusOr<int> version = ApiVersion(); !version.ok()) {
    return NeverSentError(AnnotateStatus(version.status(), absl::StrCat("launching ", spec.name)));
  }
  // Refused here, before anything is sent: the caller need not look the
  // name up before trying again.
  if (absl::Status slot = ReserveLaunchSlot(); !slot.ok()) {
    return NeverSentError(AnnotateStatus(slot, absl::StrCat("launching ", spec.name)));
  }
  absl::StatusOr<std::unique_ptr<StagedCode>> code = StageCode(spec);
  if (!code.ok()) {
    {
      absl::MutexLock lock(&mu_);
      --reserved_launch_slots_;
    }
    // The code goes up before anything names the job: still never sent.
    return NeverSentError(AnnotateStatus(code.status(), absl::StrCat("launching ", spec.name)));
  }
  absl::StatusOr<std::string> request =
      api_->Submit("/jobs/launch", {{"task", task}, {"name", spec.name}});
  if (request.ok()) RecordWitness((*code)->ids, *request);
  // No answer (a timeout, a dropped connection, a gateway error): the
  // server may still act on it. Any answer from the server itself (even a
  // 500) or a call that never left settles it.
  if (UnreachableBackoff::IsUnreachable(request.status()) &&
      !ApiClient::NeverSent(request.status())) {
    RecordLaunchAttempt(spec.name, false);
  }
  {
    absl::MutexLock lock(&mu_);
    --reserved_launch_slots_;
    if (request.ok()) in_flight_[*request] = InFlightLaunch{spec.name, absl::Now()};
  }
  if (!request.ok()) return AnnotateStatus(request.status(), absl::StrCat("launching ", spec.name));
  LogInfo("skypilot launch submitted", {{"job", spec.name}, {"request", *request}});
  return LaunchId(*request);
}

void SkyPilotBackend::RecordLaunchAttempt(const std::string& name, bool settled) {
  absl::Time now = SteadyNow();
  absl::MutexLock lock(&mu_);
  bool startup_settled = now >= started_ + options_.launch_settle;
  for (auto it = launch_attempts_.begin(); it != launch_attempts_.end();) {
    // Once both are past, an entry says no more than its absence would.
    it = startup_settled && it->second <= now ? launch_attempts_.erase(it) : std::next(it);
  }
  absl::Time conclusive = settled ? now : now + options_.launch_settle;
  auto [it, inserted] = launch_attempts_.emplace(name, conclusive);
  if (!inserted) it->second = std::max(it->second, conclusive);  // never shortened
}

absl::Time SkyPilotBackend::FindConclusiveAtLocked(const std::string& name) {
  auto it = launch_attempts_.find(name);
  return it != launch_attempts_.end() ? it->second : started_ + options_.launch_settle;
}

void SkyPilotBackend::ForgetLaunch(const std::string& request_id) {
  absl::MutexLock lock(&mu_);
  in_flight_.erase(request_id);
}

void SkyPilotBackend::RememberResolved(const std::string& request_id, int64_t job_id) {
  absl::MutexLock lock(&mu_);
  in_flight_.erase(request_id);
  if (resolved_.size() >= kMaxResolvedCache) resolved_.clear();
  resolved_[request_id] = job_id;
}

std::optional<int64_t> SkyPilotBackend::CachedResolution(const std::string& request_id) {
  absl::MutexLock lock(&mu_);
  auto it = resolved_.find(request_id);
  if (it == resolved_.end()) return std::nullopt;
  return it->second;
}

std::string SkyPilotBackend::NameOfLaunch(const std::string& request_id,
                                          const nlohmann::json& body) {
  {
    absl::MutexLock lock(&mu_);
    if (auto it = in_flight_.find(request_id); it != in_flight_.end()) return it->second.name;
  }
  std::string name = JsonString(body, "name");
  return name.empty() ? TaskYamlName(JsonString(body, "task")) : name;
}

absl::StatusOr<std::optional<int64_t>> SkyPilotBackend::ResolveFinishedLaunch(
    const std::string& request_id, JobObservation* failure) {
  ASSIGN_OR_RETURN(RequestResult result, api_->Await(request_id, api_->timeouts().status));
  switch (result.phase) {
    case RequestPhase::kSucceeded:
      if (std::optional<int64_t> job = JobIdFromLaunchResult(result.value)) {
        RememberResolved(request_id, *job);
        return job;
      }
      failure->status = JobStatus::kFailed;
      failure->raw_status = "LAUNCH_SUCCEEDED";
      failure->failure_reason = "the launch request finished without a managed job id";
      break;
    case RequestPhase::kFailed:
      failure->status = LaunchFailureStatus(result.error_type);
      failure->raw_status = "LAUNCH_FAILED";
      failure->failure_reason = LaunchFailureReason(result.error_type, result.error_message);
      break;
    default:
      failure->status = JobStatus::kCancelled;
      failure->raw_status = "LAUNCH_CANCELLED";
      failure->failure_reason = "the launch request was cancelled before the job was submitted";
      break;
  }
  // Ended without naming a job, yet it may have created one first (a real
  // server cancelled mid-launch left one PENDING): the job counts, not the
  // request's outcome.
  if (absl::StartsWith(failure->name, kSkyDeckJobPrefix)) {
    ASSIGN_OR_RETURN(std::vector<ManagedJobRecord> named, JobsNamed(failure->name));
    if (!named.empty()) {
      LogInfo("skypilot launch ended but left a managed job",
              {{"request", request_id},
               {"outcome", failure->raw_status},
               {"job_id", std::to_string(named.back().job_id)}});
      RememberResolved(request_id, named.back().job_id);
      return std::optional<int64_t>(named.back().job_id);
    }
  }
  ForgetLaunch(request_id);
  return std::optional<int64_t>();
}

absl::StatusOr<std::vector<SkyPilotBackend::ResolvedLaunch>> SkyPilotBackend::ObserveLaunches(
    const std::vector<std::string>& request_ids, std::vector<JobObservation>& out) {
  std::vector<ResolvedLaunch> resolved;
  std::vector<std::string> unknown;
  for (const std::string& id : request_ids) {
    if (std::optional<int64_t> job = CachedResolution(id)) {
      resolved.push_back({LaunchObservation(id, ""), *job});
    } else {
      unknown.push_back(id);
    }
  }
  if (unknown.empty()) return resolved;
  ASSIGN_OR_RETURN(std::vector<RequestRecord> records, api_->Statuses(unknown));
  for (const std::string& id : unknown) {
    const RequestRecord* record = FindRequest(records, id);
    if (record == nullptr) {  // expired on the server: the caller decides
      ForgetLaunch(id);
      continue;
    }
    JobObservation obs = LaunchObservation(id, NameOfLaunch(id, record->body));
    if (MapRequestPhase(record->status) == RequestPhase::kActive) {
      obs.status = JobStatus::kLaunching;
      obs.raw_status = absl::StrCat("LAUNCH_", record->status);
      out.push_back(std::move(obs));
      continue;
    }
    ASSIGN_OR_RETURN(std::optional<int64_t> job, ResolveFinishedLaunch(id, &obs));
    if (job) {
      resolved.push_back({std::move(obs), *job});
    } else {
      obs.end_ms = absl::ToUnixMillis(absl::Now());
      out.push_back(std::move(obs));
    }
  }
  return resolved;
}

}  // namespace skydeck::backend::skypilot
