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
//   std::vector<std::string> words = SearchWords("LR=0.0003  sweep");
//   // {"lr=0.0003", "sweep"}
//   MatchesSearch(words, {42, "lr-a", "", "python train.py", {{"sweep", "lr"}},
//                         {{"lr", 3e-4}}})  // true
#pragma once

#include <cstdint>
#include <map>
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
};

// The words of a search: split on ASCII whitespace, ASCII letters lowered,
// empty words dropped. An empty result matches everything.
std::vector<std::string> SearchWords(absl::string_view text);

// True when every word (from SearchWords) occurs in `e`'s search text,
// compared with ASCII letters lowered.
bool MatchesSearch(const std::vector<std::string>& words, const SearchableExperiment& e);

}  // namespace skydeck
