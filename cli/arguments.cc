// File: cli/arguments.cc
#include "cli/arguments.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

#include "common/model/label_selector.h"
#include "common/model/proto_convert.h"
#include "common/model/states.h"
#include "common/model/validation.h"
#include "common/status_macros.h"

namespace skydeck::cli {

absl::StatusOr<FlagMap> ParseFlagAssignments(const std::vector<std::string>& words) {
  FlagMap flags;
  for (const std::string& word : words) {
    ASSIGN_OR_RETURN(auto assignment, ParseFlagAssignment(word));
    RETURN_IF_ERROR(ValidateFlagKey(assignment.first));
    if (flags.count(assignment.first) > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag ", assignment.first, " given more than once"));
    }
    flags.insert(std::move(assignment));
  }
  return flags;
}

absl::StatusOr<std::vector<std::string>> ParseFlagKeys(const std::vector<std::string>& words) {
  for (const std::string& word : words) RETURN_IF_ERROR(ValidateFlagKey(word));
  return words;
}

absl::StatusOr<std::map<std::string, std::string>> ParseLabels(
    const std::vector<std::string>& words) {
  std::map<std::string, std::string> labels;
  for (const std::string& word : words) {
    size_t eq = word.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("label \"", word, "\" is not of the form key=value"));
    }
    std::string key = word.substr(0, eq);
    if (!labels.emplace(key, word.substr(eq + 1)).second) {
      return absl::InvalidArgumentError(absl::StrCat("label ", key, " given more than once"));
    }
  }
  return labels;
}

absl::Status CheckLabelSelector(absl::string_view selector) {
  return LabelSelector::Parse(selector).status();
}

absl::StatusOr<StateFilter> ClassifyStates(const std::vector<std::string>& names) {
  StateFilter filter;
  for (const std::string& name : names) {
    if (auto desired = ParseDesiredState(name); desired.ok()) {
      filter.desired.push_back(ToProto(*desired));
    } else if (auto observed = ParseObservedState(name); observed.ok()) {
      filter.observed.push_back(ToProto(*observed));
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("state \"", name,
                       "\": must be a desired state (RUNNING, STOPPED, TERMINATED) or an observed "
                       "state (IDLE, LAUNCHING, PENDING, STOPPING, SUCCEEDED, FAILED, or "
                       "OBSERVED_STATE_<NAME>)"));
    }
  }
  return filter;
}

namespace {

// `word` without its spaces, parsed; `known` says which state names count.
absl::StatusOr<StateAge> ParseStateAgeWord(const std::string& word, absl::string_view what,
                                           bool (*known)(absl::string_view)) {
  std::string compact = absl::StrReplaceAll(word, {{" ", ""}, {"\t", ""}});
  std::optional<StateAge> age = ParseStateAge(compact);
  if (!age || !known(age->state)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--in-state \"", word, "\": expected STATE>DURATION or STATE<DURATION, STATE ", what,
        " and DURATION e.g. 30m, 2d, 1h30m (units d h m s)"));
  }
  return *age;
}

// Bare names only ("running"), as the daemon's search knows them.
bool IsObservedState(absl::string_view name) {
  absl::StatusOr<ObservedState> state = ParseObservedState(name);
  return state.ok() && absl::EqualsIgnoreCase(Name(*state), name);
}

bool IsJobStatus(absl::string_view name) {
  absl::StatusOr<JobStatus> status = ParseJobStatus(name);
  return status.ok() && absl::EqualsIgnoreCase(Name(*status), name);
}

}  // namespace

absl::StatusOr<std::string> SearchWithStateAges(const std::string& search,
                                                const std::vector<std::string>& in_state) {
  std::vector<std::string> words;
  if (!search.empty()) words.push_back(search);
  for (const std::string& word : in_state) {
    ASSIGN_OR_RETURN(StateAge age, ParseStateAgeWord(word, "an observed state", IsObservedState));
    (void)age;
    words.push_back(absl::StrReplaceAll(word, {{" ", ""}, {"\t", ""}}));
  }
  return absl::StrJoin(words, " ");
}

absl::StatusOr<std::vector<StateAge>> ParseJobStateAges(const std::vector<std::string>& words) {
  std::vector<StateAge> out;
  for (const std::string& word : words) {
    ASSIGN_OR_RETURN(StateAge age, ParseStateAgeWord(word, "a job status", IsJobStatus));
    out.push_back(std::move(age));
  }
  return out;
}

}  // namespace skydeck::cli
