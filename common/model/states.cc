#include "common/model/states.h"

#include <array>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace skydeck {
namespace {

constexpr std::array<absl::string_view, 3> kDesiredNames = {"RUNNING", "STOPPED", "TERMINATED"};
constexpr std::array<absl::string_view, 9> kObservedNames = {
    "IDLE",    "LAUNCHING", "PENDING", "RUNNING",   "STOPPING",
    "STOPPED", "SUCCEEDED", "FAILED",  "TERMINATED"};
constexpr std::array<absl::string_view, 16> kJobStatusNames = {
    "LAUNCHING",    "PENDING",          "SUBMITTED",          "STARTING",          "RUNNING",
    "RECOVERING",   "CANCELLING",       "SUCCEEDED",          "CANCELLED",         "FAILED",
    "FAILED_SETUP", "FAILED_PRECHECKS", "FAILED_NO_RESOURCE", "FAILED_CONTROLLER", "LOST",
    "UNKNOWN"};

template <typename Enum, size_t N>
absl::StatusOr<Enum> ParseName(absl::string_view what, absl::string_view prefix,
                               const std::array<absl::string_view, N>& names,
                               absl::string_view text) {
  std::string upper = absl::AsciiStrToUpper(text);
  absl::string_view bare = upper;
  if (absl::StartsWith(bare, prefix)) bare.remove_prefix(prefix.size());
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == bare) return static_cast<Enum>(i);
  }
  return absl::InvalidArgumentError(
      absl::StrCat(what, " \"", text, "\": must be one of ", absl::StrJoin(names, ", ")));
}

}  // namespace

absl::string_view Name(DesiredState s) { return kDesiredNames[static_cast<size_t>(s)]; }
absl::string_view Name(ObservedState s) { return kObservedNames[static_cast<size_t>(s)]; }
absl::string_view Name(JobStatus s) { return kJobStatusNames[static_cast<size_t>(s)]; }

absl::StatusOr<DesiredState> ParseDesiredState(absl::string_view text) {
  return ParseName<DesiredState>("desired state", "DESIRED_STATE_", kDesiredNames, text);
}
absl::StatusOr<ObservedState> ParseObservedState(absl::string_view text) {
  return ParseName<ObservedState>("observed state", "OBSERVED_STATE_", kObservedNames, text);
}
absl::StatusOr<JobStatus> ParseJobStatus(absl::string_view text) {
  return ParseName<JobStatus>("job status", "JOB_STATUS_", kJobStatusNames, text);
}

bool IsTerminal(JobStatus s) {
  switch (s) {
    case JobStatus::kSucceeded:
    case JobStatus::kCancelled:
    case JobStatus::kFailed:
    case JobStatus::kFailedSetup:
    case JobStatus::kFailedPrechecks:
    case JobStatus::kFailedNoResource:
    case JobStatus::kFailedController:
    case JobStatus::kLost:
      return true;
    default:
      return false;
  }
}

}  // namespace skydeck
