#include "common/model/label_selector.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

#include "common/model/validation.h"

namespace skydeck {
namespace {

// Splits on commas that are not inside parentheses: "a in (x,y),b" ->
// ["a in (x,y)", "b"].
absl::StatusOr<std::vector<absl::string_view>> SplitTopLevel(absl::string_view text) {
  std::vector<absl::string_view> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '(') ++depth;
    if (text[i] == ')') --depth;
    if (depth < 0 || depth > 1) break;
    if (text[i] == ',' && depth == 0) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  if (depth != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("label selector ", QuoteForError(text), ": unbalanced parentheses"));
  }
  parts.push_back(text.substr(start));
  return parts;
}

bool IsKey(absl::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (!(absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-' || c == '/')) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<LabelSelector::Requirement> ParseSetRequirement(absl::string_view part,
                                                               absl::string_view key,
                                                               LabelSelector::Op op,
                                                               absl::string_view rest) {
  rest = absl::StripAsciiWhitespace(rest);
  if (!absl::ConsumePrefix(&rest, "(") || !absl::ConsumeSuffix(&rest, ")")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "label selector requirement ", QuoteForError(part), ": expected a list like (a,b)"));
  }
  LabelSelector::Requirement req{std::string(key), op, {}};
  for (absl::string_view v : absl::StrSplit(rest, ',')) {
    v = absl::StripAsciiWhitespace(v);
    if (!v.empty()) req.values.insert(std::string(v));
  }
  if (req.values.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("label selector requirement ", QuoteForError(part), ": empty value list"));
  }
  return req;
}

absl::StatusOr<LabelSelector::Requirement> ParseRequirement(absl::string_view part) {
  using Op = LabelSelector::Op;
  auto bad_key = [&](absl::string_view key) {
    return absl::InvalidArgumentError(absl::StrCat(
        "label selector requirement ", QuoteForError(part), ": bad key ", QuoteForError(key)));
  };
  if (size_t pos = part.find("!="); pos != absl::string_view::npos) {
    absl::string_view key = absl::StripAsciiWhitespace(part.substr(0, pos));
    if (!IsKey(key)) return bad_key(key);
    return LabelSelector::Requirement{
        std::string(key),
        Op::kNotEquals,
        {std::string(absl::StripAsciiWhitespace(part.substr(pos + 2)))}};
  }
  if (size_t pos = part.find('='); pos != absl::string_view::npos) {
    absl::string_view key = absl::StripAsciiWhitespace(part.substr(0, pos));
    absl::string_view value = part.substr(pos + 1);
    absl::ConsumePrefix(&value, "=");
    if (!IsKey(key)) return bad_key(key);
    return LabelSelector::Requirement{
        std::string(key), Op::kEquals, {std::string(absl::StripAsciiWhitespace(value))}};
  }
  if (size_t pos = part.find(" notin "); pos != absl::string_view::npos) {
    absl::string_view key = absl::StripAsciiWhitespace(part.substr(0, pos));
    if (!IsKey(key)) return bad_key(key);
    return ParseSetRequirement(part, key, Op::kNotIn, part.substr(pos + 7));
  }
  if (size_t pos = part.find(" in "); pos != absl::string_view::npos) {
    absl::string_view key = absl::StripAsciiWhitespace(part.substr(0, pos));
    if (!IsKey(key)) return bad_key(key);
    return ParseSetRequirement(part, key, Op::kIn, part.substr(pos + 4));
  }
  absl::string_view key = part;
  Op op = Op::kExists;
  if (absl::ConsumePrefix(&key, "!")) op = Op::kNotExists;
  key = absl::StripAsciiWhitespace(key);
  if (!IsKey(key)) return bad_key(key);
  return LabelSelector::Requirement{std::string(key), op, {}};
}

}  // namespace

absl::StatusOr<LabelSelector> LabelSelector::Parse(absl::string_view text) {
  LabelSelector selector;
  text = absl::StripAsciiWhitespace(text);
  if (text.empty()) return selector;
  if (text.size() > kMaxSelectorBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("label selector: at most ", kMaxSelectorBytes, " bytes"));
  }
  auto parts = SplitTopLevel(text);
  if (!parts.ok()) return parts.status();
  for (absl::string_view part : *parts) {
    part = absl::StripAsciiWhitespace(part);
    if (part.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("label selector ", QuoteForError(text), ": empty requirement"));
    }
    auto req = ParseRequirement(part);
    if (!req.ok()) return req.status();
    selector.requirements_.push_back(*std::move(req));
  }
  return selector;
}

bool LabelSelector::Matches(const std::map<std::string, std::string>& labels) const {
  for (const Requirement& req : requirements_) {
    auto it = labels.find(req.key);
    bool has = it != labels.end();
    bool in_values = has && req.values.count(it->second) > 0;
    bool ok = false;
    switch (req.op) {
      case Op::kEquals:
        ok = in_values;
        break;
      case Op::kIn:
        ok = in_values;
        break;
      case Op::kNotEquals:
        ok = !in_values;
        break;
      case Op::kNotIn:
        ok = !in_values;
        break;
      case Op::kExists:
        ok = has;
        break;
      case Op::kNotExists:
        ok = !has;
        break;
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace skydeck
