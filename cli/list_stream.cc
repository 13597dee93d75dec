// File: cli/list_stream.cc
//
// Each item is rendered on its own by the whole-document printers and
// indented to its depth in the list: JSON and YAML (block style) indent
// nested values by a fixed step, so the item reads the same at depth 2 as
// at depth 0 shifted right. tests/cli/list_stream_test.cc holds the two
// forms against each other.
#include "cli/list_stream.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace skydeck::cli {
namespace {

// Inside {"<key>": [...]} printed with an indent of 2, an element sits at
// depth 2 in JSON; in YAML the sequence is indented once under its key.
constexpr size_t kJsonItemIndent = 4;
constexpr size_t kYamlItemIndent = 2;

// Indent() (output.h), a line at a time rather than a byte at a time: this
// runs over every byte of a list that may be a gigabyte long.
void AppendIndented(std::string* out, absl::string_view text, size_t spaces) {
  while (!text.empty()) {
    size_t newline = text.find('\n');
    size_t length = newline == absl::string_view::npos ? text.size() : newline + 1;
    if (text.front() != '\n') out->append(spaces, ' ');
    out->append(text.data(), length);
    text.remove_prefix(length);
  }
}

}  // namespace

ListDocumentStream::ListDocumentStream(OutputFormat format, absl::string_view key)
    : format_(format), key_(key) {}

std::string ListDocumentStream::Add(const nlohmann::ordered_json& item) {
  bool first = count_++ == 0;
  switch (format_) {
    case OutputFormat::kJson: {
      std::string out = first ? absl::StrCat("{\n  \"", key_, "\": [\n") : ",\n";
      // RenderJson without its final newline: the separator or the closing
      // bracket follows the item on the same line.
      std::string text = RenderJson(item);
      text.pop_back();
      AppendIndented(&out, text, kJsonItemIndent);
      return out;
    }
    case OutputFormat::kYaml: {
      nlohmann::ordered_json one = nlohmann::ordered_json::array();
      one.push_back(item);
      std::string out = first ? absl::StrCat(key_, ":\n") : "";
      AppendIndented(&out, RenderYaml(one), kYamlItemIndent);
      return out;
    }
    default:
      return NamesOf(item);
  }
}

std::string ListDocumentStream::Finish() {
  switch (format_) {
    case OutputFormat::kJson:
      if (count_ == 0) return absl::StrCat("{\n  \"", key_, "\": []\n}\n");
      return "\n  ]\n}\n";
    case OutputFormat::kYaml:
      return count_ == 0 ? absl::StrCat(key_, ": []\n") : "";
    default:
      return "";
  }
}

}  // namespace skydeck::cli
