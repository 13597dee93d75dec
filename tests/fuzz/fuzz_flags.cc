// File: tests/fuzz/fuzz_flags.cc
//
// Fuzzes the flag parser and printer (common/model/flag_value.h) and the command
// renderer (common/model/command_line.h). The input is text: the whole of it is
// one `--flag` argument and one value; its first line is also a base
// command and each further line one `key=value` assignment.
//
// Properties (beyond "never crashes"):
// - a typed value (int, float, bool) prints and parses back to itself;
// - `key:=text` is the string `text`, byte for byte;
// - the rendered command is the base command followed by exactly one
//   single-quoted word per flag, "key=value", in key order, which a POSIX
//   single-quote reader splits back into the same strings;
// - flags survive the store's JSON and the API's proto form unchanged.
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "fuzz_check.h"

#include "common/model/command_line.h"
#include "common/model/flag_value.h"
#include "common/model/proto_convert.h"

namespace skydeck {
namespace {

bool SameValue(const FlagValue& a, const FlagValue& b) {
  if (a.index() != b.index()) return false;
  if (const double* x = std::get_if<double>(&a)) {
    double y = std::get<double>(b);
    return *x == y && std::signbit(*x) == std::signbit(y);
  }
  return a == b;
}

// Reads ` 'word'` sequences the way a POSIX shell reads single quotes: no
// escapes inside quotes, `\'` outside them is a literal quote. Only the
// syntax ShellQuote writes is accepted; anything else is nullopt.
std::optional<std::vector<std::string>> SplitQuotedWords(absl::string_view text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != ' ') return std::nullopt;
    ++i;
    std::string word;
    bool any = false;
    while (i < text.size()) {
      if (text[i] == '\'') {
        size_t close = text.find('\'', i + 1);
        if (close == absl::string_view::npos) return std::nullopt;
        word.append(text.data() + i + 1, close - i - 1);
        i = close + 1;
        any = true;
      } else if (text.substr(i, 2) == "\\'") {
        word += '\'';
        i += 2;
        any = true;
      } else {
        break;
      }
    }
    if (!any) return std::nullopt;
    words.push_back(std::move(word));
  }
  return words;
}

void CheckValueText(absl::string_view text) {
  FlagValue value = ParseFlagValueText(text);
  std::string printed = FormatFlagValue(value);
  if (!std::holds_alternative<std::string>(value)) {
    FUZZ_CHECK(SameValue(ParseFlagValueText(printed), value),
               "a typed value must print and parse back to itself");
  }
  if (const double* d = std::get_if<double>(&value)) {
    FUZZ_CHECK(std::isfinite(*d), "floats parsed from text are finite");
  }
}

void CheckAssignment(absl::string_view text) {
  auto parsed = ParseFlagAssignment(text);
  if (!parsed.ok()) return;
  FUZZ_CHECK(!parsed->first.empty(), "keys are never empty");
  size_t eq = text.find('=');
  FUZZ_CHECK(eq != absl::string_view::npos, "an assignment has '='");
  if (eq > 0 && text[eq - 1] == ':') {
    FUZZ_CHECK(std::get<std::string>(parsed->second) == text.substr(eq + 1),
               "key:=text is exactly the string text");
  }
  auto forced = ParseFlagAssignment(absl::StrCat("k:=", text));
  FUZZ_CHECK(forced.ok() && std::get<std::string>(forced->second) == text,
             "any text round trips as a forced string");
}

void CheckRender(absl::string_view input) {
  std::vector<absl::string_view> lines = absl::StrSplit(input, '\n');
  absl::string_view base = lines[0];
  FlagMap flags;
  for (size_t i = 1; i < lines.size(); ++i) {
    auto parsed = ParseFlagAssignment(lines[i]);
    if (parsed.ok()) flags[parsed->first] = parsed->second;
  }
  std::string rendered = RenderCommand(base, flags);
  FUZZ_CHECK(absl::string_view(rendered).substr(0, base.size()) == base,
             "the base command comes first, verbatim");
  auto words = SplitQuotedWords(absl::string_view(rendered).substr(base.size()));
  FUZZ_CHECK(words.has_value(), "everything after the base command is single-quoted words");
  FUZZ_CHECK(words->size() == flags.size(), "one word per flag");
  size_t i = 0;
  for (const auto& [key, value] : flags) {
    FUZZ_CHECK((*words)[i++] == absl::StrCat(key, "=", FormatFlagValue(value)),
               "each word reads back as key=value, in key order");
  }

  // The store's JSON column.
  std::string dumped;
  try {
    dumped = FlagMapToJson(flags).dump();
  } catch (const nlohmann::json::type_error&) {
    dumped.clear();  // invalid UTF-8: the gRPC edge never lets it through
  }
  if (!dumped.empty()) {
    auto back = FlagMapFromJson(nlohmann::json::parse(dumped));
    FUZZ_CHECK(back.ok() && back->size() == flags.size(), "flags read back from JSON");
    for (const auto& [key, value] : flags) {
      FUZZ_CHECK(back->count(key) && SameValue(back->at(key), value),
                 "each flag keeps its type and value through JSON");
    }
  }
  // The API's map<string, FlagValue>.
  google::protobuf::Map<std::string, pb::FlagValue> proto;
  ToProto(flags, &proto);
  auto from_proto = FromProto(proto);
  FUZZ_CHECK(from_proto.ok() && from_proto->size() == flags.size(), "flags read back from proto");
  for (const auto& [key, value] : flags) {
    FUZZ_CHECK(SameValue(from_proto->at(key), value), "each flag survives the proto form");
  }
}

}  // namespace
}  // namespace skydeck

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  skydeck::CheckValueText(input);
  skydeck::CheckAssignment(input);
  skydeck::CheckRender(input);
  return 0;
}
