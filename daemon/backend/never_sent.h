// File: daemon/backend/never_sent.h
//
// Marks the error of a call that certainly never reached the backend: it
// was refused before anything was sent (a local bound on launches in
// flight, a backoff after the backend was unreachable) or no connection
// could be opened. For a launch this is knowledge worth keeping: the job
// was not started, so the retry needs no lookup by name first. Any other
// failed call may have been, or may still be, acted on by the backend.
//
//   return NeverSentError(absl::ResourceExhaustedError("4 launches in flight"));
//   ...
//   if (WasNeverSent(launched.status())) { /* nothing reached the backend */ }
#pragma once

#include "absl/status/status.h"
#include "absl/strings/cord.h"

namespace skydeck::backend {

inline constexpr char kNeverSentPayload[] = "type.skydeck.dev/backend.NeverSent";

// `status` (not OK) marked as never sent.
inline absl::Status NeverSentError(absl::Status status) {
  status.SetPayload(kNeverSentPayload, absl::Cord("1"));
  return status;
}

// True when `status` is an error marked by NeverSentError.
inline bool WasNeverSent(const absl::Status& status) {
  return !status.ok() && status.GetPayload(kNeverSentPayload).has_value();
}

}  // namespace skydeck::backend
