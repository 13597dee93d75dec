// File: common/duration_flag.h
//
// How every SkyDeck executable reads a duration given on its command line
// or in its environment (skydeckd's --poll-interval, skydeck-web's
// --sse-keepalive, ...), so "30s" means the same everywhere.
//
//   ParseDurationFlag("30s")    == absl::Seconds(30)
//   ParseDurationFlag("500ms")  == absl::Milliseconds(500)
//   ParseDurationFlag("30")     == absl::Seconds(30)  // plain seconds
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace skydeck {

// ParseDurationFlag()
//
// Accepts "30s", "500ms", "2m", "1h" (any absl::ParseDuration form) and
// plain seconds ("30", "0.5"). Errors: INVALID_ARGUMENT, with an example,
// for anything else and for negative durations.
absl::StatusOr<absl::Duration> ParseDurationFlag(const std::string& text);

}  // namespace skydeck
