// File: daemon/backend/retry_at.h
//
// An error that says when to ask again: the backend cannot answer yet but
// is not failing (SkyPilot's Find while a launch of the name may still be on
// its way to the server). Callers wait until then instead of counting a
// failure, backing off and marking the experiment Degraded.
//
//   return RetryAtError("a launch may still arrive", conclusive_at);
//   ...
//   if (std::optional<absl::Time> at = RetryAtOf(status)) requeue_after = *at - now;
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace skydeck::backend {

inline constexpr char kRetryAtPayload[] = "type.skydeck.dev/backend.RetryAt";

// UNAVAILABLE with `message`, carrying `at`.
inline absl::Status RetryAtError(absl::string_view message, absl::Time at) {
  absl::Status status = absl::UnavailableError(message);
  status.SetPayload(kRetryAtPayload, absl::Cord(std::to_string(absl::ToUnixMillis(at))));
  return status;
}

// When `status` (from RetryAtError) says to ask again; nullopt otherwise.
inline std::optional<absl::Time> RetryAtOf(const absl::Status& status) {
  auto payload = status.GetPayload(kRetryAtPayload);  // absl::optional in Debian's Abseil
  int64_t ms = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &ms)) return std::nullopt;
  return absl::FromUnixMillis(ms);
}

}  // namespace skydeck::backend
