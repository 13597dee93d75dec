#include "common/model/experiment_search.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace skydeck {

std::vector<std::string> SearchWords(absl::string_view text) {
  std::vector<std::string> words;
  for (absl::string_view w :
       absl::StrSplit(text, absl::ByAnyChar(" \t\n\v\f\r"), absl::SkipEmpty())) {
    words.push_back(absl::AsciiStrToLower(w));
  }
  return words;
}

bool MatchesSearch(const std::vector<std::string>& words, const SearchableExperiment& e) {
  if (words.empty()) return true;
  // One text, fields joined by a space: a word has no whitespace, so it
  // matches the joined text exactly when it matches one field.
  std::string text = absl::StrCat(e.id, " ", e.name, " ", e.description, " ", e.base_command);
  if (e.labels) {
    for (const auto& [k, v] : *e.labels) absl::StrAppend(&text, " ", k, "=", v);
  }
  if (e.flags) {
    for (const auto& [k, v] : *e.flags) absl::StrAppend(&text, " ", k, "=", FormatFlagValue(v));
  }
  absl::AsciiStrToLower(&text);
  for (const std::string& w : words) {
    if (!absl::StrContains(text, w)) return false;
  }
  return true;
}

}  // namespace skydeck
