// SkyPilotBackend, part 3: `sky jobs logs` streams (see skypilot_backend.h).
#include <algorithm>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include "common/status_macros.h"
#include "daemon/backend/skypilot/failure_mapping.h"
#include "daemon/backend/skypilot/log_filter.h"
#include "daemon/backend/skypilot/skypilot_backend.h"
#include "daemon/backend/skypilot/status_mapping.h"

namespace skydeck::backend::skypilot {
namespace {

// Line length assumed when a byte tail must become a line tail.
constexpr int64_t kAssumedLineBytes = 100;

}  // namespace

absl::StatusOr<int64_t> SkyPilotBackend::JobIdForLogs(const std::string& backend_job_id) {
  if (std::optional<int64_t> job = ParseManagedJobId(backend_job_id)) return *job;
  std::optional<std::string> request = ParseLaunchRequestId(backend_job_id);
  if (!request) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", backend_job_id, "\" is not a SkyPilot managed job id"));
  }
  if (std::optional<int64_t> job = CachedResolution(*request)) return *job;
  ASSIGN_OR_RETURN(std::vector<RequestRecord> records, api_->Statuses({*request}));
  const RequestRecord* record = FindRequest(records, *request);
  if (record == nullptr) {
    return absl::NotFoundError(absl::StrCat("SkyPilot does not know launch request ", *request));
  }
  if (MapRequestPhase(record->status) == RequestPhase::kActive) {
    return absl::FailedPreconditionError(
        absl::StrCat("no logs yet: launch request ", *request, " is still ", record->status));
  }
  JobObservation failure;
  failure.name = NameOfLaunch(*request, record->body);
  ASSIGN_OR_RETURN(std::optional<int64_t> job, ResolveFinishedLaunch(*request, &failure));
  if (!job) {
    return absl::FailedPreconditionError(
        absl::StrCat("no logs: the job never started (", failure.failure_reason, ")"));
  }
  return *job;
}

absl::Status SkyPilotBackend::StreamLogs(const std::string& backend_job_id, bool follow,
                                         const LogTail& tail,
                                         const std::function<bool(absl::string_view)>& sink,
                                         const std::function<bool()>& cancelled) {
  ASSIGN_OR_RETURN(int version, ApiVersion());
  (void)version;
  ASSIGN_OR_RETURN(int64_t job, JobIdForLogs(backend_job_id));
  std::string what = absl::StrCat("streaming logs of SkyPilot managed job ", job);
  nlohmann::json body = {{"job_id", job},       {"name", nullptr},  {"follow", follow},
                         {"controller", false}, {"refresh", false}, {"tail", nullptr}};
  // The server's `tail` counts whole lines (as `tail -n`; it must be > 0,
  // null means the whole log).
  int64_t server_lines = tail.lines;
  int64_t keep_bytes = follow ? 0 : tail.bytes;
  if (tail.bytes > 0) {
    // A line holds at least one byte, so `bytes` lines always cover the last
    // `bytes` bytes; a followed stream cannot be cut afterwards, so there
    // lines of kAssumedLineBytes are assumed.
    int64_t covering = follow ? std::max<int64_t>(1, tail.bytes / kAssumedLineBytes) : tail.bytes;
    server_lines = server_lines > 0 ? std::min(server_lines, covering) : covering;
  } else if (tail.whole_log() && !follow) {
    // No tail asked for: never the whole log (tail null), which for a long
    // job is gigabytes read on the server and sent through the daemon.
    server_lines = std::max<int64_t>(1, options_.default_log_tail_lines);
    keep_bytes = std::max<int64_t>(1, options_.default_log_tail_bytes);
  }
  if (server_lines > 0) body["tail"] = server_lines;
  SkyPayloadFilter filter;
  std::optional<TailBuffer> last_bytes;
  if (keep_bytes > 0) last_bytes.emplace(static_cast<size_t>(keep_bytes));
  auto deliver = [&](const std::string& text) {
    if (text.empty()) return true;
    if (last_bytes) {
      last_bytes->Append(text);
      return true;
    }
    return sink(text);
  };
  auto on_chunk = [&](absl::string_view chunk) {
    return deliver(filter.Feed(chunk)) && !(cancelled && cancelled());
  };
  // Without follow the whole answer is bounded: the server sends heartbeats
  // while it waits for a job that does not run, which no read timeout ends.
  const SkyPilotTimeouts& timeouts = api_->timeouts();
  absl::StatusOr<StreamResult> stream = api_->SubmitStreaming(
      "/jobs/logs", body, on_chunk, cancelled, follow ? timeouts.logs_read : timeouts.logs,
      follow ? absl::InfiniteFuture() : absl::Now() + timeouts.logs);
  if (!stream.ok()) return AnnotateStatus(stream.status(), what);
  if (stream->stopped) return absl::OkStatus();  // the reader went away
  if (!deliver(filter.Finish())) return absl::OkStatus();
  if (last_bytes) {
    if (std::string text = last_bytes->Take(); !text.empty() && !sink(text)) {
      return absl::OkStatus();
    }
  }
  // The stream answers 200 even on failure: the outcome is the request's.
  absl::StatusOr<RequestResult> result = api_->Await(stream->request_id, timeouts.status);
  if (!result.ok()) return AnnotateStatus(result.status(), what);
  switch (result->phase) {
    case RequestPhase::kFailed:
      if (result->error_type == kClusterNotUpError) {
        return absl::NotFoundError(
            absl::StrCat(what, ": the jobs controller is not up, so no managed job is live"));
      }
      return StatusFromRequestError(what, result->error_type, result->error_message);
    case RequestPhase::kCancelled:
      return absl::UnavailableError(
          absl::StrCat(what, ": the request was cancelled on the server"));
    default:
      break;
  }
  if (result->value.is_number_integer() && result->value.get<int64_t>() == kLogsExitNotFound) {
    return absl::NotFoundError(absl::StrCat(what, ": SkyPilot has no such job"));
  }
  return absl::OkStatus();
}

}  // namespace skydeck::backend::skypilot
