// File: common/model/experiment_search.h
//
// The dashboard's search box as a rule the daemon can apply too, so that a
// bulk action on "what the dashboard shows" (ExperimentFilter.text) acts on
// exactly the experiments shown. The dashboard's copy is searchText() and
// searchWords() in web/ui/src/logic/grouping.ts; both are checked against
// the same cases (tests/common/model/experiment_search_test.cc and
// web/ui/src/logic/grouping.test.ts).
//
// The search text of an experiment is its id, name, description, base
// command, every label as `k=v` and every flag as `k=v` (values printed by
// FormatFlagValue). A search is whitespace-separated words; an experiment
// matches when every word occurs in its search text. Case is ignored for
// ASCII letters only (no Unicode case folding on either side).
//
// Time in state: a word `STATE>DURATION` or `STATE<DURATION` (no spaces),
// where STATE is an observed state's name and DURATION one or more of
// NUMBER followed by d, h, m or s ("2d", "1h30m", "45s"), matches the
// experiments in that state for longer (>) or less long (<) than that,
// counted from state_since to `now_ms`: "running>2d", "pending>30m". Any
// other word, "foo>2d" included, is searched for as text.
//
//   std::vector<std::string> words = SearchWords("LR=0.0003  sweep");
//   // {"lr=0.0003", "sweep"}
//   MatchesSearch(words, {42, "lr-a", "", "python train.py", {{"sweep", "lr"}},
//                         {{"lr", 3e-4}}})  // true
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

#include "common/model/flag_value.h"

namespace skydeck {

// The fields of an experiment the search looks at.
struct SearchableExperiment {
  int64_t id = 0;
  absl::string_view name;
  absl::string_view description;
  absl::string_view base_command;
  const std::map<std::string, std::string>* labels = nullptr;  // may be null
  const FlagMap* flags = nullptr;                              // may be null
  // For time-in-state words: the observed state's name ("RUNNING", any
  // case), when it became so, and the time to count to (unix ms).
  absl::string_view observed_state;
  int64_t state_since_ms = 0;
  int64_t now_ms = 0;
};

// A time-in-state word, parsed: `state` lowered, `longer` for '>' (else
// '<'), `ms` the duration.
struct StateAge {
  std::string state;
  bool longer = true;
  int64_t ms = 0;
};

// ParseStateAge()
//
// `word` (lowered or not) as STATE>DURATION or STATE<DURATION, where STATE
// is letters and '_' (any state word: the caller decides which names it
// knows); nullopt when it does not have that shape.
//   ParseStateAge("running>1h30m") -> {"running", true, 5400000}
std::optional<StateAge> ParseStateAge(absl::string_view word);

// True when a thing in `state` (any case) since `since_ms` matches `age`
// at `now_ms`: same state name, and in it for longer (or less long).
bool MatchesStateAge(const StateAge& age, absl::string_view state, int64_t since_ms,
                     int64_t now_ms);

// The words of a search: split on ASCII whitespace, ASCII letters lowered,
// empty words dropped. An empty result matches everything.
std::vector<std::string> SearchWords(absl::string_view text);

// True when every word (from SearchWords) occurs in `e`'s search text,
// compared with ASCII letters lowered, or, for a time-in-state word naming
// an observed state, when `e` has been in that state that long.
bool MatchesSearch(const std::vector<std::string>& words, const SearchableExperiment& e);

}  // namespace skydeck
