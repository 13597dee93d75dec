// SkyPilotBackend, part 1: versions, Probe, Query, Find, Cancel. Launch
// tracking is in skypilot_backend_launch.cc, logs in skypilot_backend_logs.cc.
#include "daemon/backend/skypilot/skypilot_backend.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "common/log.h"
#include "common/loopback.h"
#include "common/status_macros.h"
#include "daemon/backend/retry_at.h"
#include "daemon/backend/skypilot/backend_job_id.h"
#include "daemon/backend/skypilot/failure_mapping.h"
#include "daemon/backend/skypilot/json_fields.h"
#include "daemon/backend/skypilot/status_mapping.h"

namespace skydeck::backend::skypilot {

absl::StatusOr<std::unique_ptr<SkyPilotBackend>> SkyPilotBackend::Create(SkyPilotOptions options) {
  if (options.user_id.empty()) {
    return absl::InvalidArgumentError(
        "skypilot backend: a stable user id (SKYPILOT_USER_ID) is required");
  }
  for (char c : options.token) {
    if (absl::ascii_iscntrl(static_cast<unsigned char>(c)) || c == ' ') {
      return absl::InvalidArgumentError(
          "skypilot backend: the service-account token contains spaces or control characters");
    }
  }
  if (options.max_concurrent_launches < 1) options.max_concurrent_launches = 1;
  ApiClient::Config config;
  config.endpoint = options.endpoint;
  config.token = options.token;
  config.user_id = options.user_id;
  config.user_name = options.user_name;
  config.client_version = options.client_version;
  config.timeouts = options.timeouts;
  config.backoff_initial = options.unreachable_backoff_initial;
  config.backoff_max = options.unreachable_backoff_max;
  if (options.upload_chunk_bytes < 1) options.upload_chunk_bytes = 1;
  ASSIGN_OR_RETURN(std::unique_ptr<ApiClient> api, ApiClient::Create(std::move(config)));
  LogInfo("skypilot backend configured", {{"endpoint", options.endpoint},
                                          {"auth", options.token.empty() ? "none" : "bearer token"},
                                          {"user_id", options.user_id}});
  return std::unique_ptr<SkyPilotBackend>(new SkyPilotBackend(std::move(options), std::move(api)));
}

namespace {

// SkyPilot reads a local workdir from the API server's own file system.
std::string LocalWorkdirRefusal(const std::string& endpoint) {
  size_t scheme = endpoint.find("://");
  std::string rest = scheme == std::string::npos ? endpoint : endpoint.substr(scheme + 3);
  std::string host = HostOfAuthority(rest.substr(0, rest.find('/')));
  if (IsLoopbackHost(host)) return "";
  return absl::StrCat(
      "a local directory without a code snapshot, and the SkyPilot API server at ", endpoint,
      " is not on this machine and cannot read it; set the workdir again to take a snapshot "
      "(skydeck exp update ID --workdir DIR), or use a git repository (--workdir "
      "https://host/org/repo.git@REF)");
}

}  // namespace

SkyPilotBackend::SkyPilotBackend(SkyPilotOptions options, std::unique_ptr<ApiClient> api)
    : options_(std::move(options)),
      yaml_options_{options_.setup, options_.workdir, options_.job_recovery_strategy,
                    LocalWorkdirRefusal(options_.endpoint)},
      api_(std::move(api)),
      cancels_([this](const std::vector<int64_t>& ids) { return SendCancel(ids); },
               options_.cancel_batch_linger) {}

FailureClass SkyPilotBackend::ClassifyFailure(JobStatus status,
                                              absl::string_view failure_reason) const {
  return ClassifySkyPilotFailure(status, failure_reason);
}

absl::StatusOr<std::string> SkyPilotBackend::RenderTask(const JobSpec& spec) {
  return RenderTaskYaml(spec, yaml_options_, SecretMode::kRedacted);
}

// ----- versions -------------------------------------------------------------

absl::StatusOr<int> SkyPilotBackend::ApiVersion() {
  {
    absl::MutexLock lock(&mu_);
    if (api_version_ >= kMinApiVersion && negotiated_epoch_ == api_->failure_epoch()) {
      return api_version_;
    }
  }
  return Negotiate();
}

absl::StatusOr<int> SkyPilotBackend::Negotiate() {
  // The health probe bypasses the unreachable backoff; calls must not.
  RETURN_IF_ERROR(api_->CheckReachable());
  uint64_t epoch = api_->failure_epoch();
  ASSIGN_OR_RETURN(nlohmann::json health, api_->Health());
  return AdoptHealth(health, epoch);
}

absl::StatusOr<int> SkyPilotBackend::AdoptHealth(const nlohmann::json& health, uint64_t epoch) {
  std::string status = absl::AsciiStrToLower(JsonString(health, "status"));
  if (status == "needs_auth") {
    return absl::UnauthenticatedError(
        absl::StrCat("SkyPilot API server at ", api_->endpoint(),
                     " requires authentication: give SkyDeck a service-account token "
                     "(--skypilot-token-file or SKYPILOT_SERVICE_ACCOUNT_TOKEN)"));
  }
  const nlohmann::json* raw = JsonField(health, "api_version");
  int version = 0;
  if (raw != nullptr && raw->is_string()) {
    if (!absl::SimpleAtoi(raw->get<std::string>(), &version)) version = 0;
  } else if (raw != nullptr && raw->is_number_integer()) {
    version = raw->get<int>();
  }
  std::string server_version = JsonString(health, "version", "unknown");
  if (version <= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("SkyPilot API server at ", api_->endpoint(), " (version ", server_version,
                     ") reports no API version; SkyDeck needs API version >= ", kMinApiVersion));
  }
  if (version < kMinApiVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "SkyPilot API server at ", api_->endpoint(), " speaks API version ", version, " (SkyPilot ",
        server_version, "); SkyDeck needs API version >= ", kMinApiVersion,
        ": upgrade the API server"));
  }
  api_->SetApiVersion(std::min(version, kClientApiVersion));
  absl::MutexLock lock(&mu_);
  if (api_version_ != version) {
    LogInfo("skypilot API server version",
            {{"endpoint", api_->endpoint()},
             {"api_version", std::to_string(version)},
             {"version", server_version},
             {"queue", version >= kQueueV2ApiVersion ? "v2" : "v1"}});
  }
  api_version_ = version;
  negotiated_epoch_ = epoch;
  return version;
}

BackendInfo SkyPilotBackend::Probe() {
  BackendInfo info;
  info.name = name();
  info.endpoint = api_->endpoint();
  uint64_t epoch = api_->failure_epoch();
  absl::StatusOr<nlohmann::json> health = api_->Health();
  if (!health.ok()) {
    info.error = std::string(health.status().message());
    return info;
  }
  info.reachable = true;
  const nlohmann::json* raw = JsonField(*health, "api_version");
  if (raw != nullptr) info.api_version = raw->is_string() ? raw->get<std::string>() : raw->dump();
  info.version = JsonString(*health, "version");
  absl::StatusOr<int> negotiated = AdoptHealth(*health, epoch);
  if (!negotiated.ok()) info.error = std::string(negotiated.status().message());
  return info;
}

// ----- query ----------------------------------------------------------------

absl::StatusOr<std::vector<ManagedJobRecord>> SkyPilotBackend::ListJobs(
    int api_version, const std::optional<std::vector<int64_t>>& job_ids,
    const std::optional<std::string>& name) {
  constexpr char kWhat[] = "listing SkyPilot managed jobs";
  QueueCall call = BuildQueueCall(api_version, job_ids, name);
  absl::StatusOr<std::string> request = api_->Submit(call.route, call.body);
  if (!request.ok()) return AnnotateStatus(request.status(), kWhat);
  absl::StatusOr<RequestResult> result = api_->Await(*request, api_->timeouts().queue);
  if (!result.ok()) return AnnotateStatus(result.status(), kWhat);
  switch (result->phase) {
    case RequestPhase::kFailed:
      // A stopped jobs controller: no managed job is live. Not an outage.
      if (result->error_type == kClusterNotUpError) return std::vector<ManagedJobRecord>{};
      return StatusFromRequestError(kWhat, result->error_type, result->error_message);
    case RequestPhase::kCancelled:
      return absl::UnavailableError(
          absl::StrCat(kWhat, ": the request was cancelled on the server"));
    default:
      break;
  }
  absl::StatusOr<std::vector<ManagedJobRecord>> records = ParseQueueResult(result->value);
  if (!records.ok() || !job_ids) return records;
  // Servers that predate the job_ids filter answer with every job.
  std::set<int64_t> wanted(job_ids->begin(), job_ids->end());
  std::vector<ManagedJobRecord> kept;
  for (ManagedJobRecord& r : *records) {
    if (wanted.count(r.job_id)) kept.push_back(std::move(r));
  }
  return kept;
}

absl::StatusOr<std::vector<JobObservation>> SkyPilotBackend::Query(
    const std::vector<std::string>& backend_job_ids) {
  absl::MutexLock one_poll(&poll_mu_);
  ASSIGN_OR_RETURN(int version, ApiVersion());
  std::vector<std::string> launches;
  std::vector<std::pair<std::string, int64_t>> jobs;  // (id as given, job id)
  std::set<std::string> seen;
  for (const std::string& id : backend_job_ids) {
    if (!seen.insert(id).second) continue;
    if (std::optional<std::string> request = ParseLaunchRequestId(id)) {
      launches.push_back(*request);
    } else if (std::optional<int64_t> job = ParseManagedJobId(id)) {
      jobs.emplace_back(id, *job);
    }
  }
  std::vector<JobObservation> out;
  std::vector<ResolvedLaunch> resolved;
  if (!launches.empty()) {
    ASSIGN_OR_RETURN(resolved, ObserveLaunches(launches, out));
  }
  if (jobs.empty() && resolved.empty()) return out;

  std::vector<int64_t> job_ids;
  for (const auto& [id, job] : jobs) job_ids.push_back(job);
  for (const ResolvedLaunch& r : resolved) job_ids.push_back(r.job_id);
  std::sort(job_ids.begin(), job_ids.end());
  job_ids.erase(std::unique(job_ids.begin(), job_ids.end()), job_ids.end());
  ASSIGN_OR_RETURN(std::vector<ManagedJobRecord> records, ListJobs(version, job_ids, std::nullopt));
  std::map<int64_t, const ManagedJobRecord*> by_id;
  for (const ManagedJobRecord& r : records) by_id[r.job_id] = &r;

  for (const auto& [id, job] : jobs) {
    auto it = by_id.find(job);
    if (it == by_id.end()) continue;
    JobObservation obs = ToObservation(*it->second);
    obs.backend_job_id = id;
    out.push_back(std::move(obs));
  }
  for (ResolvedLaunch& r : resolved) {
    JobObservation obs;
    auto it = by_id.find(r.job_id);
    if (it != by_id.end()) {
      obs = ToObservation(*it->second);
    } else {
      // Submitted, but not in the queue answer yet.
      obs.status = JobStatus::kSubmitted;
      obs.raw_status = "LAUNCH_SUCCEEDED";
    }
    obs.backend_job_id = r.observation.backend_job_id;
    obs.resolved_job_id = std::to_string(r.job_id);
    if (obs.name.empty()) obs.name = r.observation.name;
    out.push_back(std::move(obs));
  }
  return out;
}

// ----- find -----------------------------------------------------------------

absl::StatusOr<std::vector<JobObservation>> SkyPilotBackend::Find(const std::string& name) {
  if (!absl::StartsWith(name, kSkyDeckJobPrefix)) return std::vector<JobObservation>{};
  absl::Time looked_at = SteadyNow();
  ASSIGN_OR_RETURN(int version, ApiVersion());
  // Launch requests first: one that finishes before the queue lookup is
  // then in the queue answer; the other order could miss it.
  absl::StatusOr<std::vector<RequestRecord>> active = api_->Statuses({});
  if (!active.ok()) {
    return AnnotateStatus(active.status(), absl::StrCat("looking for launches of ", name));
  }
  ASSIGN_OR_RETURN(std::vector<ManagedJobRecord> records, ListJobs(version, std::nullopt, name));

  std::vector<JobObservation> out;
  for (const ManagedJobRecord& r : records) {  // ascending job ids
    if (r.name == name) out.push_back(ToObservation(r));
  }
  std::vector<const RequestRecord*> launching;
  for (const RequestRecord& r : *active) {
    if (IsJobsLaunch(r) && MapRequestPhase(r.status) == RequestPhase::kActive &&
        NameOfLaunch(r.request_id, r.body) == name) {
      launching.push_back(&r);
    }
  }
  std::sort(launching.begin(), launching.end(), [](const RequestRecord* a, const RequestRecord* b) {
    return a->created_at < b->created_at;
  });
  absl::MutexLock lock(&mu_);
  for (const RequestRecord* r : launching) {
    JobObservation obs = LaunchObservation(r->request_id, name);
    obs.status = JobStatus::kLaunching;
    obs.raw_status = absl::StrCat("LAUNCH_", r->status);
    out.push_back(std::move(obs));
    // Count it against the launch bound, even if another process sent it.
    in_flight_.try_emplace(r->request_id, InFlightLaunch{name, absl::Now()});
  }
  if (absl::Time conclusive = FindConclusiveAtLocked(name); out.empty() && looked_at < conclusive) {
    absl::Time at = absl::Now() + (conclusive - SteadyNow());  // back on the wall clock
    return RetryAtError(
        absl::StrCat(
            "no launch request or managed job named ", name,
            " yet, but a launch of it may still reach the SkyPilot API server; looking again at ",
            absl::FormatTime("%H:%M:%S", at, absl::UTCTimeZone()), " UTC"),
        at);
  }
  return out;
}

// ----- cancel and teardown ----------------------------------------------------

absl::Status SkyPilotBackend::SendCancel(const std::vector<int64_t>& job_ids) {
  std::string what = absl::StrCat("cancelling SkyPilot managed job",
                                  job_ids.size() == 1 ? " " : "s ", absl::StrJoin(job_ids, ", "));
  absl::StatusOr<std::string> request =
      api_->Submit("/jobs/cancel", {{"job_ids", nlohmann::json(job_ids)}});
  if (!request.ok()) return AnnotateStatus(request.status(), what);
  absl::StatusOr<RequestResult> result = api_->Await(*request, api_->timeouts().cancel);
  if (!result.ok()) return AnnotateStatus(result.status(), what);
  switch (result->phase) {
    case RequestPhase::kFailed:
      // No controller: nothing is live, so nothing is left to cancel.
      if (result->error_type == kClusterNotUpError) return absl::OkStatus();
      return StatusFromRequestError(what, result->error_type, result->error_message);
    case RequestPhase::kCancelled:
      return absl::UnavailableError(
          absl::StrCat(what, ": the request was cancelled on the server"));
    default:
      // The answer is null whether a job was cancelled or was "not found.
      // Skipped.": both mean the job will not keep running.
      LogInfo("skypilot cancel requested", {{"job_ids", absl::StrJoin(job_ids, ",")}});
      return absl::OkStatus();
  }
}

absl::StatusOr<std::vector<ManagedJobRecord>> SkyPilotBackend::JobsNamed(const std::string& name) {
  ASSIGN_OR_RETURN(int version, ApiVersion());
  ASSIGN_OR_RETURN(std::vector<ManagedJobRecord> records, ListJobs(version, std::nullopt, name));
  std::vector<ManagedJobRecord> named;
  for (ManagedJobRecord& r : records) {  // ascending job ids
    if (r.name == name) named.push_back(std::move(r));
  }
  return named;
}

absl::Status SkyPilotBackend::CancelLaunch(const std::string& request_id) {
  if (std::optional<int64_t> job = CachedResolution(request_id)) return cancels_.Cancel(*job);
  std::string what = absl::StrCat("cancelling launch request ", request_id);
  absl::StatusOr<std::vector<RequestRecord>> records = api_->Statuses({request_id});
  if (!records.ok()) return AnnotateStatus(records.status(), what);
  const RequestRecord* record = FindRequest(*records, request_id);
  std::string name = NameOfLaunch(request_id, record != nullptr ? record->body : nlohmann::json());
  RequestPhase phase = record != nullptr ? MapRequestPhase(record->status) : RequestPhase::kFailed;
  if (phase == RequestPhase::kActive) {
    absl::StatusOr<std::string> cancel =
        api_->Submit("/api/cancel", {{"request_ids", nlohmann::json::array({request_id})}});
    if (!cancel.ok()) return AnnotateStatus(cancel.status(), what);
    absl::StatusOr<RequestResult> done = api_->Await(*cancel, api_->timeouts().cancel);
    if (!done.ok()) return AnnotateStatus(done.status(), what);
    if (done->phase == RequestPhase::kFailed) {
      return StatusFromRequestError(what, done->error_type, done->error_message);
    }
    // The launch may have completed just before the cancel landed.
    records = api_->Statuses({request_id});
    if (!records.ok()) return AnnotateStatus(records.status(), what);
    record = FindRequest(*records, request_id);
    phase = record != nullptr ? MapRequestPhase(record->status) : RequestPhase::kFailed;
    if (phase == RequestPhase::kActive) {
      return absl::UnavailableError(absl::StrCat(what, ": still running after /api/cancel"));
    }
  }
  if (phase == RequestPhase::kSucceeded) {
    JobObservation ended;
    ended.name = name;
    ASSIGN_OR_RETURN(std::optional<int64_t> job, ResolveFinishedLaunch(request_id, &ended));
    return job ? cancels_.Cancel(*job) : absl::OkStatus();  // it looked by name too
  }
  ForgetLaunch(request_id);
  // Cancelled or failed (or forgotten by the server): the request may have
  // created its managed job before it ended. A real server cancelled mid-
  // launch left job 21 PENDING for 15+ minutes; nothing of it may be left.
  if (!absl::StartsWith(name, kSkyDeckJobPrefix)) return absl::OkStatus();
  absl::StatusOr<std::vector<ManagedJobRecord>> named = JobsNamed(name);
  if (!named.ok()) {
    return AnnotateStatus(named.status(), absl::StrCat(what, ": looking for its job by name"));
  }
  absl::Status status;
  for (const ManagedJobRecord& r : *named) {
    if (!IsTerminal(MapManagedJobStatus(r.status))) status.Update(cancels_.Cancel(r.job_id));
  }
  return status;
}

absl::Status SkyPilotBackend::Cancel(const std::string& backend_job_id) {
  ASSIGN_OR_RETURN(int version, ApiVersion());
  (void)version;
  if (std::optional<std::string> request = ParseLaunchRequestId(backend_job_id)) {
    return CancelLaunch(*request);
  }
  if (std::optional<int64_t> job = ParseManagedJobId(backend_job_id)) {
    return cancels_.Cancel(*job);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("\"", backend_job_id, "\" is not a SkyPilot managed job id"));
}

absl::Status SkyPilotBackend::Teardown(const std::string& backend_job_id) {
  // A managed job's clusters go away with the job; SkyPilot does it.
  return absl::OkStatus();
}

}  // namespace skydeck::backend::skypilot
