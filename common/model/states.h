// File: common/model/states.h
//
// Desired state, observed state and job status as C++ enums, with the
// upper-case names used in the database, logs and CLI ("RUNNING"). The proto
// enums carry the same names behind a prefix ("DESIRED_STATE_RUNNING"); see
// proto_convert.h.
#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skydeck {

enum class DesiredState { kRunning, kStopped, kTerminated };

enum class ObservedState {
  kIdle,
  kLaunching,
  kPending,
  kRunning,
  kStopping,
  kStopped,
  kSucceeded,
  kFailed,
  kTerminated,
};

enum class JobStatus {
  kLaunching,
  kPending,
  kSubmitted,
  kStarting,
  kRunning,
  kRecovering,
  kCancelling,
  kSucceeded,
  kCancelled,
  kFailed,
  kFailedSetup,
  kFailedPrechecks,
  kFailedNoResource,
  kFailedController,
  kLost,
  kUnknown,
};

absl::string_view Name(DesiredState state);
absl::string_view Name(ObservedState state);
absl::string_view Name(JobStatus status);

// Case-insensitive; accepts the bare name ("running") or the proto name
// ("DESIRED_STATE_RUNNING"). Errors: INVALID_ARGUMENT listing the choices.
absl::StatusOr<DesiredState> ParseDesiredState(absl::string_view text);
absl::StatusOr<ObservedState> ParseObservedState(absl::string_view text);
// Unknown strings are not an error here: callers map them to kUnknown and
// keep the raw text.
absl::StatusOr<JobStatus> ParseJobStatus(absl::string_view text);

// A terminal job will not change status again; every other status is live
// (kUnknown included: an unrecognised backend status is never assumed done).
bool IsTerminal(JobStatus status);

}  // namespace skydeck
