// File: daemon/backend/log_tail.h
//
// How much of the end of a job's log a reader starts with: `skydeck exp logs
// --tail N` counts lines like `tail -n N`; API clients may also bound bytes.
//
//   backend.StreamLogs(id, /*follow=*/true, LogTail{.lines = 20, .bytes = 0}, sink, cancelled);
#pragma once

#include <cstdint>

namespace skydeck::backend {

// Both 0: the whole log. With both set, the shorter start wins: at most
// `lines` lines and at most `bytes` bytes.
struct LogTail {
  // At most this many lines from the end, counted like `tail -n`: a newline
  // ends a line, and a last line without one counts too. 0: no line limit.
  int64_t lines = 0;
  // At most this many bytes from the end (may start inside a line).
  // 0: no byte limit.
  int64_t bytes = 0;

  bool whole_log() const { return lines <= 0 && bytes <= 0; }
};

}  // namespace skydeck::backend
