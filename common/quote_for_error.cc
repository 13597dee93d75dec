#include "common/quote_for_error.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace skydeck {

std::string QuoteForError(absl::string_view text) {
  std::string out;
  for (char c : text.substr(0, 64)) {
    out += absl::ascii_isprint(c) ? c : '?';
  }
  if (text.size() > 64) out += "...";
  return absl::StrCat("\"", out, "\"");
}

}  // namespace skydeck
