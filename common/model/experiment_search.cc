#include "common/model/experiment_search.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "common/model/states.h"

namespace skydeck {
namespace {

bool IsStateChar(char c) { return absl::ascii_isalpha(c) || c == '_'; }

// "2d", "1h30m", "45s": one or more NUMBER UNIT; nullopt otherwise (or on
// overflow: nobody means 10^15 days).
std::optional<int64_t> ParseAgeDuration(absl::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    int64_t n = 0;
    size_t digits = 0;
    while (i < text.size() && absl::ascii_isdigit(text[i])) {
      if (++digits > 9) return std::nullopt;
      n = n * 10 + (text[i++] - '0');
    }
    if (digits == 0 || i == text.size()) return std::nullopt;
    int64_t unit = 0;
    switch (absl::ascii_tolower(text[i++])) {
      case 'd': unit = 86400000; break;
      case 'h': unit = 3600000; break;
      case 'm': unit = 60000; break;
      case 's': unit = 1000; break;
      default: return std::nullopt;
    }
    total += n * unit;
  }
  return total;
}

// Whether a time-in-state word names an observed state by its bare name
// ("running", not "OBSERVED_STATE_RUNNING": the dashboard knows only those).
bool NamesObservedState(const StateAge& age) {
  absl::StatusOr<ObservedState> state = ParseObservedState(age.state);
  return state.ok() && absl::EqualsIgnoreCase(Name(*state), age.state);
}

}  // namespace

std::optional<StateAge> ParseStateAge(absl::string_view word) {
  size_t op = word.find_first_of("<>");
  if (op == 0 || op == absl::string_view::npos) return std::nullopt;
  absl::string_view state = word.substr(0, op);
  for (char c : state) {
    if (!IsStateChar(c)) return std::nullopt;
  }
  std::optional<int64_t> ms = ParseAgeDuration(word.substr(op + 1));
  if (!ms) return std::nullopt;
  return StateAge{absl::AsciiStrToLower(state), word[op] == '>', *ms};
}

bool MatchesStateAge(const StateAge& age, absl::string_view state, int64_t since_ms,
                     int64_t now_ms) {
  if (!absl::EqualsIgnoreCase(age.state, state) || since_ms <= 0) return false;
  int64_t in_state = now_ms - since_ms;
  return age.longer ? in_state > age.ms : in_state < age.ms;
}

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
    if (std::optional<StateAge> age = ParseStateAge(w); age && NamesObservedState(*age)) {
      if (!MatchesStateAge(*age, e.observed_state, e.state_since_ms, e.now_ms)) return false;
      continue;
    }
    if (!absl::StrContains(text, w)) return false;
  }
  return true;
}

}  // namespace skydeck
