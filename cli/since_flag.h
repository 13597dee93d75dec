// File: cli/since_flag.h
//
// `--since` of `skydeck cost`: a time back from now ("7d", "12h", "30m",
// "2w", any absl duration) or a moment (RFC 3339 "2026-12-01T00:00:00Z",
// or a UTC date "2026-12-01").
//
//   ParseSince("7d", now)          == now - 7 * 24 h
//   ParseSince("2026-12-01", now)  == 2026-12-01T00:00:00Z
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace skydeck::cli {

// Unix milliseconds. Errors: INVALID_ARGUMENT with the accepted forms, also
// for a negative duration or a moment after `now_ms`.
absl::StatusOr<int64_t> ParseSince(const std::string& text, int64_t now_ms);

}  // namespace skydeck::cli
