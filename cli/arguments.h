// File: cli/arguments.h
//
// Turns command-line words into request values, checking their syntax
// before any request is sent: a typo in a flag must cost nothing, not a
// round trip (or a launched job). Limits and field contents (sizes, ranges,
// label values) are the daemon's to check, so the rules live in one place.
// Every error is INVALID_ARGUMENT naming the word and the rule; callers
// report it as a usage error (exit 2). Pure functions.
//
//   ParseFlagAssignments({"trainer.lr=3e-4", "tag:=42"})
//   // {{"tag", "42"}, {"trainer.lr", 0.0003}}
//   ClassifyStates({"running", "failed"})
//   // desired {DESIRED_STATE_RUNNING}, observed {OBSERVED_STATE_FAILED}
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "common/model/experiment_search.h"
#include "common/model/flag_value.h"
#include "skydeck/v1/resources.pb.h"

namespace skydeck::cli {

namespace pb = ::skydeck::v1;

// `k=v` / `k:=v` words (common/model/flag_value.h typing), keys checked with
// ValidateFlagKey. A key given twice is an error: silently keeping one of
// two values hides a typo.
absl::StatusOr<FlagMap> ParseFlagAssignments(const std::vector<std::string>& words);

// Flag keys for `unset`, each checked with ValidateFlagKey.
absl::StatusOr<std::vector<std::string>> ParseFlagKeys(const std::vector<std::string>& words);

// `k=v` words (non-empty key) into labels; a key given twice is an error.
absl::StatusOr<std::map<std::string, std::string>> ParseLabels(
    const std::vector<std::string>& words);

// Checks a label selector's syntax (common/model/label_selector.h); the text
// itself is sent, so the daemon applies exactly what the user wrote.
absl::Status CheckLabelSelector(absl::string_view selector);

// The state filters of `exp list --state`.
struct StateFilter {
  std::vector<pb::DesiredState> desired;
  std::vector<pb::ObservedState> observed;
};

// ClassifyStates()
//
// Each name (case-insensitive, bare or with its proto prefix) goes to the
// desired filter when it is a desired state and to the observed filter
// otherwise. RUNNING, STOPPED and TERMINATED name both kinds; they mean the
// desired state, which is what a user set. Write OBSERVED_STATE_RUNNING to
// filter on the observed one.
//   ClassifyStates({"stopped", "IDLE", "OBSERVED_STATE_RUNNING"})
//   // desired {STOPPED}, observed {IDLE, RUNNING}
absl::StatusOr<StateFilter> ClassifyStates(const std::vector<std::string>& names);

// SearchWithStateAges()
//
// The search text `search` with each `--in-state` word ("running>2d",
// spaces allowed: "running > 2d") appended in its canonical form, for
// ListExperimentsRequest.text (common/model/experiment_search.h). Errors:
// INVALID_ARGUMENT for a word that is not STATE>DURATION / STATE<DURATION
// with STATE an observed state.
//   SearchWithStateAges("lr", {"Pending > 30m"})  // "lr pending>30m"
absl::StatusOr<std::string> SearchWithStateAges(const std::string& search,
                                                const std::vector<std::string>& in_state);

// ParseJobStateAges()
//
// `--in-state` words for jobs: as above, STATE a job status ("pending>30m").
absl::StatusOr<std::vector<StateAge>> ParseJobStateAges(const std::vector<std::string>& words);

}  // namespace skydeck::cli
