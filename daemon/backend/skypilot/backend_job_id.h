// File: daemon/backend/skypilot/backend_job_id.h
//
// The two kinds of backend job id the `skypilot` backend hands out: a
// managed job id ("17") and, while a launch request has not finished, the
// provisional "request:<launch request uuid>".
//
//   ParseManagedJobId("17") == 17
//   ParseLaunchRequestId("request:3f2a-...") == "3f2a-..."
//   ParseLaunchRequestId("request:a&b") == std::nullopt  // never put in a URL
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace skydeck::backend::skypilot {

// Provisional ids of launches not yet resolved start with this.
inline constexpr char kLaunchIdPrefix[] = "request:";

// "request:" + `request_id`.
std::string LaunchId(absl::string_view request_id);

// The request uuid of a provisional id: hex digits and dashes only, at most
// 64 characters; nullopt for anything else.
std::optional<std::string> ParseLaunchRequestId(absl::string_view id);

// A non-negative decimal managed job id; nullopt for anything else.
std::optional<int64_t> ParseManagedJobId(absl::string_view id);

// The managed job id in a /jobs/launch return value: {"job_id": N, ...},
// a list of ids (the first) or a bare number; nullopt when absent.
std::optional<int64_t> JobIdFromLaunchResult(const nlohmann::json& value);

}  // namespace skydeck::backend::skypilot
