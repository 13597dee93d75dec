#include "common/ansi_text.h"

namespace skydeck {
namespace {

constexpr char kEsc = '\x1b';
constexpr char kBel = '\x07';

// Length of the complete escape sequence at the start of `s` (s[0] is ESC),
// 0 when `s` ends before the sequence does.
size_t SequenceLength(absl::string_view s) {
  if (s.size() < 2) return 0;
  char kind = s[1];
  if (kind == '[') {  // CSI: parameters and intermediates, then a final byte
    for (size_t i = 2; i < s.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      if (c >= 0x40 && c <= 0x7e) return i + 1;  // final byte
      if (c < 0x20 || c > 0x3f) return i;        // malformed: drop what came before it
    }
    return 0;
  }
  if (kind == ']') {  // OSC: up to BEL or ST (ESC \)
    for (size_t i = 2; i < s.size(); ++i) {
      if (s[i] == kBel) return i + 1;
      if (s[i] == kEsc) {
        if (i + 1 >= s.size()) return 0;
        return s[i + 1] == '\\' ? i + 2 : i;
      }
    }
    return 0;
  }
  return 2;  // ESC and one byte (e.g. ESC 7, ESC =)
}

}  // namespace

std::string StripAnsi(absl::string_view text) {
  AnsiStripper stripper;
  std::string out = stripper.Feed(text);
  out += stripper.Finish();
  return out;
}

std::string AnsiStripper::Feed(absl::string_view chunk) {
  std::string out;
  out.reserve(chunk.size());
  std::string joined;
  absl::string_view s = chunk;
  if (!pending_.empty()) {
    joined = std::move(pending_);
    pending_.clear();
    joined.append(chunk.data(), chunk.size());
    s = joined;
  }
  size_t i = 0;
  while (i < s.size()) {
    size_t esc = s.find(kEsc, i);
    if (esc == absl::string_view::npos) {
      out.append(s.data() + i, s.size() - i);
      break;
    }
    out.append(s.data() + i, esc - i);
    size_t n = SequenceLength(s.substr(esc));
    if (n == 0) {
      absl::string_view rest = s.substr(esc);
      if (rest.size() > kMaxSequenceBytes) {
        out.append(rest.data() + 1, rest.size() - 1);  // not a sequence: keep the text
      } else {
        pending_.assign(rest.data(), rest.size());
      }
      break;
    }
    i = esc + n;
  }
  return out;
}

std::string AnsiStripper::Finish() {
  pending_.clear();
  return std::string();
}

}  // namespace skydeck
