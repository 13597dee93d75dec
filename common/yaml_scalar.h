// File: common/yaml_scalar.h
//
// Text as a YAML double-quoted scalar that YAML 1.1 and 1.2 readers (PyYAML,
// which SkyPilot's API server parses task YAML with; libyaml; yaml-cpp)
// read back as exactly the same characters.
//
// yaml-cpp's own emitter is not enough for text that reaches SkyPilot: it
// writes DEL (U+007F) and most C1 controls raw, which PyYAML refuses
// ("unacceptable character"), replaces U+FFFE and U+FFFF with U+FFFD, and
// writes U+0085, U+2028 and U+2029 raw, which YAML 1.1 readers take for
// line breaks and fold into a space inside a quoted scalar.
//
//   YamlDoubleQuoted("say \"hi\"\x7f") == R"("say \"hi\"\x7F")"
//   YamlDoubleQuoted("\xef\xbf\xbf")   == R"("\uFFFF")"
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace skydeck {

// YamlDoubleQuoted()
//
// `text` between double quotes, on one line, with escapes for: `"` and `\`;
// every C0 control, tab and newline included; DEL and the C1 controls
// (U+0080-U+009F); the YAML 1.1 line breaks U+2028 and U+2029; the byte
// order mark U+FEFF; and every Unicode noncharacter (U+FDD0-U+FDEF and the
// last two code points of each plane). Everything else is written as is.
//
// REQUIRES: `text` is UTF-8. The API only carries UTF-8 (protobuf refuses
// anything else in a string field); a byte that is not part of a valid
// sequence is written as \uFFFD, so the result is always valid YAML.
std::string YamlDoubleQuoted(absl::string_view text);

}  // namespace skydeck
