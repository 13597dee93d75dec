// File: common/ansi_text.h
//
// Removes ANSI terminal escape sequences (colours, bold, cursor moves) from
// text that came from elsewhere. SkyPilot colours its messages for a
// terminal ("Run: \x1b[1msky check\x1b[0m"); stored in a failure reason,
// shown in a table or written to a file, the codes are noise at best and
// move the cursor at worst.
//
//   StripAnsi("Run: \x1b[1msky check\x1b[0m") == "Run: sky check"
//
//   AnsiStripper s;              // for a stream cut into chunks anywhere
//   s.Feed("a\x1b[3");           // "a"
//   s.Feed("3mb");               // "b"
//   s.Finish();                  // ""
//
// Removed: CSI sequences (ESC [ ... final byte), OSC sequences (ESC ] ...
// BEL or ESC \), other two-byte escapes (ESC + one byte), and a lone ESC at
// the end of the text. Everything else, including tabs, newlines and UTF-8,
// is kept byte for byte.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace skydeck {

std::string StripAnsi(absl::string_view text);

// Thread-safety: one stream, one thread at a time.
class AnsiStripper {
 public:
  // An escape sequence longer than this is not one: it is passed on as text
  // (bounds memory on garbage).
  static constexpr size_t kMaxSequenceBytes = 256;

  // The clean text of `chunk`; a sequence cut at the end waits for the rest.
  std::string Feed(absl::string_view chunk);
  // What is left at the end of the stream (an unfinished sequence is dropped).
  std::string Finish();

 private:
  std::string pending_;  // an unfinished escape sequence, starting with ESC
};

}  // namespace skydeck
