// File: daemon/backend/skypilot/log_filter.h
//
// Cleans the chunked text of SkyPilot's /jobs/logs stream. The server mixes
// control lines into the log (`<sky-payload type="...">{json}</sky-payload>`:
// rich status spinners, heartbeats); like SkyPilot's own client, every line
// holding a payload is dropped. Chunks split lines anywhere, so the filter
// keeps the unterminated end of a chunk until the rest arrives.
//
//   SkyPayloadFilter f;
//   f.Feed("a\n<sky-pay");  // "a\n"
//   f.Feed("load>1</sky-payload>\nb");  // ""
//   f.Finish();  // "b"
//
// Also: TailBuffer, the last N bytes of a stream.
#pragma once

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace skydeck::backend::skypilot {

class SkyPayloadFilter {
 public:
  // A line longer than this without a newline is passed on in pieces
  // (unless it holds the start of a payload), bounding memory.
  static constexpr size_t kMaxPendingBytes = 64 * 1024;

  // Returns the clean text of every line completed by `chunk`.
  std::string Feed(absl::string_view chunk);
  // Returns the clean, unterminated last line, if any. Call at the end.
  std::string Finish();

 private:
  std::string pending_;
};

// True when `line` holds a complete <sky-payload ...>...</sky-payload>.
bool IsSkyPayloadLine(absl::string_view line);

class TailBuffer {
 public:
  explicit TailBuffer(size_t max_bytes) : max_bytes_(max_bytes) {}
  void Append(absl::string_view text);
  // The last max_bytes bytes appended.
  std::string Take();

 private:
  size_t max_bytes_;
  std::string data_;
};

}  // namespace skydeck::backend::skypilot
