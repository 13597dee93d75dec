// File: common/time_util.h
//
// Times are UTC milliseconds since the Unix epoch everywhere inside SkyDeck
// (stored as integers) and RFC 3339 at the edges.
#pragma once

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace skydeck {

int64_t NowMillis();

// "2026-11-28T14:17:43.123Z"; "" for 0 (unset).
std::string FormatRfc3339(int64_t unix_millis);

// FormatDurationRounded()
//
// `d` as absl::FormatDuration prints it, rounded for people: whole seconds
// from 10 s on, tenths of a second from 1 s, whole milliseconds below.
//   FormatDurationRounded(absl::Seconds(21.40899002775)) == "21s"
//   FormatDurationRounded(absl::Milliseconds(2449)) == "2.4s"
//   FormatDurationRounded(absl::Minutes(2)) == "2m"
std::string FormatDurationRounded(absl::Duration d);

}  // namespace skydeck
