// File: common/time_util.h
//
// Times are UTC milliseconds since the Unix epoch everywhere inside SkyDeck
// (stored as integers) and RFC 3339 at the edges.
#pragma once

#include <cstdint>
#include <string>

namespace skydeck {

int64_t NowMillis();

// "2026-11-28T14:17:43.123Z"; "" for 0 (unset).
std::string FormatRfc3339(int64_t unix_millis);

}  // namespace skydeck
