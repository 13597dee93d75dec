#include "common/yaml_scalar.h"

#include <cstdint>
#include <cstdio>

namespace skydeck {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

// Decodes one UTF-8 sequence at text[*i] and advances *i past it. An invalid
// or truncated sequence, an overlong form or a surrogate consumes one byte
// and yields U+FFFD.
char32_t NextCodePoint(absl::string_view text, size_t* i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(*i);
  if (lead < 0x80) {
    ++*i;
    return lead;
  }
  size_t extra = (lead >> 5) == 0x6 ? 1 : (lead >> 4) == 0xE ? 2 : (lead >> 3) == 0x1E ? 3 : 0;
  if (extra == 0 || *i + extra >= text.size()) {
    ++*i;
    return kReplacement;
  }
  char32_t cp = lead & (0x3F >> extra);
  for (size_t k = 1; k <= extra; ++k) {
    unsigned char c = byte(*i + k);
    if ((c & 0xC0) != 0x80) {
      ++*i;
      return kReplacement;
    }
    cp = (cp << 6) | (c & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++*i;
    return kReplacement;
  }
  *i += 1 + extra;
  return cp;
}

bool IsNoncharacter(char32_t cp) {
  return (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
}

bool NeedsEscape(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF ||
         IsNoncharacter(cp);
}

void AppendEscape(std::string* out, char32_t cp) {
  switch (cp) {
    case '\0':
      *out += "\\0";
      return;
    case '\a':
      *out += "\\a";
      return;
    case '\b':
      *out += "\\b";
      return;
    case '\t':
      *out += "\\t";
      return;
    case '\n':
      *out += "\\n";
      return;
    case '\v':
      *out += "\\v";
      return;
    case '\f':
      *out += "\\f";
      return;
    case '\r':
      *out += "\\r";
      return;
    case 0x1B:
      *out += "\\e";
      return;
    default:
      break;
  }
  char buf[16];
  if (cp <= 0xFF) {
    std::snprintf(buf, sizeof(buf), "\\x%02X", static_cast<unsigned>(cp));
  } else if (cp <= 0xFFFF) {
    std::snprintf(buf, sizeof(buf), "\\u%04X", static_cast<unsigned>(cp));
  } else {
    std::snprintf(buf, sizeof(buf), "\\U%08X", static_cast<unsigned>(cp));
  }
  *out += buf;
}

}  // namespace

std::string YamlDoubleQuoted(absl::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    char32_t cp = NextCodePoint(text, &i);
    if (cp == '"' || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (NeedsEscape(cp)) {
      AppendEscape(&out, cp);
    } else if (cp == kReplacement && text.substr(start, i - start) != "\xEF\xBF\xBD") {
      out += "\\uFFFD";  // a byte that is not UTF-8: see the header
    } else {
      out.append(text.data() + start, i - start);
    }
  }
  out += '"';
  return out;
}

}  // namespace skydeck
