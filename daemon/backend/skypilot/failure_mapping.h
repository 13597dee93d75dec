// File: daemon/backend/skypilot/failure_mapping.h
//
// The one table from what SkyPilot reports about a failure — the exception
// type of a failed request, a managed job's terminal status and the
// exception types in its failure_reason — to what SkyDeck does about it
// (backend::FailureKind, a condition reason and a hint). docs/skypilot.md,
// "Failures", prints the same table; failure_mapping.cc holds it.
//
// The same cause is handled the same way whichever route it took: a launch
// request that fails with NoCloudAccessError (no jobs controller) and a
// managed job that ends FAILED_PRECHECKS with
// "[sky.exceptions.NoCloudAccessError] ..." (a controller that tried) are both
// FailureKind::kEnvironment, reason "NoCloudAccess".
//
//   LaunchFailureStatus("NoCloudAccessError") == JobStatus::kFailedPrechecks
//   ClassifySkyPilotFailure(JobStatus::kFailedPrechecks,
//       "[sky.exceptions.NoCloudAccessError] Cloud access is not set up.")
//     .kind == FailureKind::kEnvironment
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

#include "common/model/states.h"
#include "daemon/backend/backend.h"

namespace skydeck::backend::skypilot {

// The failure_reason SkyDeck records for a launch request that failed with
// `error_type`: "launch failed: <type>: <message>". ClassifySkyPilotFailure
// reads the type back from it.
std::string LaunchFailureReason(absl::string_view error_type, absl::string_view message);

// The terminal job status of a launch request that failed with
// `error_type`, the status SkyPilot's own controller gives the same cause:
// environment and invalid-spec errors FAILED_PRECHECKS, capacity
// FAILED_NO_RESOURCE, cancellation CANCELLED, anything else FAILED.
JobStatus LaunchFailureStatus(absl::string_view error_type);

// What a SkyPilot job that ended with `status` and `failure_reason` failed
// of (see the table in failure_mapping.cc). Unknown types fall back to
// backend::DefaultFailureClass(status).
FailureClass ClassifySkyPilotFailure(JobStatus status, absl::string_view failure_reason);

// The exception types named in a failure reason, in order: "launch failed:
// T: ...", "[sky.exceptions.T] ...; [sky.exceptions.U] ..." or
// "sky.exceptions.T: ..." give T (and U). Module prefixes are dropped.
std::vector<std::string> ErrorTypesIn(absl::string_view failure_reason);

// A status for a non-launch request (queue, cancel, logs, ...) that failed
// on the server with `error_type`, e.g. "listing managed jobs: ValueError:
// ...": INVALID_ARGUMENT for invalid input, PERMISSION_DENIED,
// FAILED_PRECONDITION for an API server that cannot serve the call,
// UNAVAILABLE for transient server-side trouble (retried), INTERNAL for
// types not in the table.
absl::Status StatusFromRequestError(absl::string_view what, absl::string_view error_type,
                                    absl::string_view message);

}  // namespace skydeck::backend::skypilot
