#include "daemon/backend/skypilot/status_mapping.h"

#include <array>
#include <utility>

#include "absl/strings/cord.h"
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

absl::Status AnnotateStatus(const absl::Status& s, absl::string_view context) {
  if (s.ok()) return s;
  absl::Status annotated(s.code(), absl::StrCat(context, ": ", s.message()));
  // Payloads carry meaning (never sent, retry at): keep them.
  s.ForEachPayload([&](absl::string_view type, const absl::Cord& payload) {
    annotated.SetPayload(type, payload);
  });
  return annotated;
}

}  // namespace skydeck::backend::skypilot
