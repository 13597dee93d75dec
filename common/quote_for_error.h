// File: common/quote_for_error.h
//
// User text made safe to quote inside an error message.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace skydeck {

// QuoteForError()
//
// User text quoted for an error message: at most 64 bytes (then "..."),
// unprintable bytes as '?', so a hostile value can neither blow up the
// message (gRPC caps trailers at 8 KiB) nor smuggle control characters into
// logs. QuoteForError("a\nb") == "\"a?b\"".
std::string QuoteForError(absl::string_view text);

}  // namespace skydeck
