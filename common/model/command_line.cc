#include "common/model/command_line.h"

#include "absl/strings/str_cat.h"

namespace skydeck {

std::string ShellQuote(absl::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

std::string RenderCommand(absl::string_view base_command, const FlagMap& flags) {
  std::string out(base_command);
  for (const auto& [key, value] : flags) {  // std::map: sorted by key
    absl::StrAppend(&out, " ", ShellQuote(absl::StrCat(key, "=", FormatFlagValue(value))));
  }
  return out;
}

}  // namespace skydeck
