// File: daemon/backend/skypilot/status_mapping.h
//
// What SkyPilot's status strings mean to SkyDeck: managed job statuses and
// API request statuses. What its failures mean (exception types, failure
// reasons) is in failure_mapping.h.
//
//   MapManagedJobStatus("RECOVERING") == JobStatus::kRecovering
//   MapManagedJobStatus("SOMETHING_NEW") == JobStatus::kUnknown  // live
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

#include "common/model/states.h"

namespace skydeck::backend::skypilot {

// The error type SkyPilot raises for a queue, cancel or logs request when the
// jobs controller is not up: no managed job is live. Not an outage.
inline constexpr char kClusterNotUpError[] = "ClusterNotUpError";

// Every managed-job status SkyPilot reports, case-sensitive. Anything else
// (a status added after this was written) is kUnknown, which is live.
JobStatus MapManagedJobStatus(absl::string_view raw);

// Where an API request (not a job) is in its life.
enum class RequestPhase { kActive, kSucceeded, kFailed, kCancelled };

// PENDING, WAITING, RUNNING and unknown strings are active: a request is
// never assumed finished.
RequestPhase MapRequestPhase(absl::string_view raw);

// `s` with "<context>: " before its message, code and payloads kept; OK
// stays OK.
absl::Status AnnotateStatus(const absl::Status& s, absl::string_view context);

// `sky jobs logs` exit codes returned through /api/get for a logs request.
inline constexpr int kLogsExitSucceeded = 0;
inline constexpr int kLogsExitFailed = 100;
inline constexpr int kLogsExitNotFinished = 101;
inline constexpr int kLogsExitNotFound = 102;
inline constexpr int kLogsExitCancelled = 103;

}  // namespace skydeck::backend::skypilot
