#include "daemon/backend/skypilot/status_mapping.h"

#include <array>
#include <utility>

#include "absl/strings/str_cat.h"

namespace skydeck::backend::skypilot {
namespace {

constexpr std::array<std::pair<absl::string_view, JobStatus>, 13> kManagedJobStatuses = {{
    {"PENDING", JobStatus::kPending},
    {"SUBMITTED", JobStatus::kSubmitted},
    {"STARTING", JobStatus::kStarting},
    {"RUNNING", JobStatus::kRunning},
    {"RECOVERING", JobStatus::kRecovering},
    {"CANCELLING", JobStatus::kCancelling},
    {"SUCCEEDED", JobStatus::kSucceeded},
    {"CANCELLED", JobStatus::kCancelled},
    {"FAILED", JobStatus::kFailed},
    {"FAILED_SETUP", JobStatus::kFailedSetup},
    {"FAILED_PRECHECKS", JobStatus::kFailedPrechecks},
    {"FAILED_NO_RESOURCE", JobStatus::kFailedNoResource},
    {"FAILED_CONTROLLER", JobStatus::kFailedController},
}};

bool OneOf(absl::string_view s, std::initializer_list<absl::string_view> choices) {
  for (absl::string_view c : choices) {
    if (s == c) return true;
  }
  return false;
}

// Exceptions that say the job cannot get machines right now (no capacity,
// no enabled cloud, quota): trying again later may work.
bool IsResourceError(absl::string_view type) {
  return OneOf(type, {"ResourcesUnavailableError", "NoCloudAccessError",
                      "ManagedJobReachedMaxRetriesError", "CloudUserIdentityError",
                      "InsufficientCapacityError", "QuotaExceededError"});
}

// Exceptions that say the task or its configuration is wrong: the same
// spec will fail again.
bool IsInvalidSpecError(absl::string_view type) {
  return OneOf(type, {"ValueError", "TypeError", "KeyError", "ValidationError",
                      "InvalidSkyPilotConfigError", "ResourcesMismatchError",
                      "NotSupportedError", "InvalidCloudConfigs", "UserRequestRejectedByPolicy",
                      "InvalidTaskError", "StorageSpecError", "APINotSupportedError"});
}

}  // namespace

JobStatus MapManagedJobStatus(absl::string_view raw) {
  for (const auto& [name, status] : kManagedJobStatuses) {
    if (name == raw) return status;
  }
  return JobStatus::kUnknown;
}

RequestPhase MapRequestPhase(absl::string_view raw) {
  if (raw == "SUCCEEDED") return RequestPhase::kSucceeded;
  if (raw == "FAILED") return RequestPhase::kFailed;
  if (raw == "CANCELLED") return RequestPhase::kCancelled;
  return RequestPhase::kActive;
}

JobStatus MapLaunchFailure(absl::string_view error_type) {
  if (IsResourceError(error_type)) return JobStatus::kFailedNoResource;
  if (IsInvalidSpecError(error_type)) return JobStatus::kFailedPrechecks;
  if (OneOf(error_type, {"RequestCancelled", "ManagedJobUserCancelledError",
                         "CancelledError", "KeyboardInterrupt"})) {
    return JobStatus::kCancelled;
  }
  return JobStatus::kFailed;
}

absl::Status StatusFromRequestError(absl::string_view what, absl::string_view error_type,
                                    absl::string_view message) {
  std::string text = absl::StrCat(what, ": ", error_type.empty() ? "error" : error_type, ": ",
                                  message);
  if (IsInvalidSpecError(error_type)) return absl::InvalidArgumentError(text);
  if (OneOf(error_type, {"PermissionDeniedError", "PermissionError"})) {
    return absl::PermissionDeniedError(text);
  }
  if (OneOf(error_type, {"ApiServerConnectionError", "ClusterStatusFetchingError",
                         "CommandError", "ConnectionError", "TimeoutError"})) {
    return absl::UnavailableError(text);
  }
  return absl::InternalError(text);
}

absl::Status AnnotateStatus(const absl::Status& s, absl::string_view context) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(context, ": ", s.message()));
}

}  // namespace skydeck::backend::skypilot
