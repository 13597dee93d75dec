// File: cli/arguments.cc
#include "cli/arguments.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

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

}  // namespace skydeck::cli
