// File: cli/selection.cc
#include "cli/selection.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

#include "cli/arguments.h"
#include "common/model/validation.h"
#include "common/status_macros.h"

namespace skydeck::cli {

void AddSelectionOptions(CLI::App* command, Selection* selection, bool allow_all) {
  command->add_option("ID", selection->refs, "Experiment ids or names");
  command->add_option("-l,--selector", selection->selector,
                      "Every live experiment matching this label selector (k=v, k!=v, "
                      "'k in (a,b)', ...)");
  command
      ->add_option("--state", selection->states,
                   "Only experiments in this state (as exp list --state); repeatable")
      ->allow_extra_args(false);
  if (allow_all) {
    command->add_flag("--all", selection->all,
                      "Every live experiment (asks on a terminal; needs --yes otherwise)");
    command->add_flag("-y,--yes", selection->yes, "Do not ask for confirmation");
  }
}

absl::StatusOr<std::vector<pb::Experiment>> ListMatching(CommandContext& ctx,
                                                         absl::string_view selector,
                                                         const std::vector<std::string>& states) {
  ASSIGN_OR_RETURN(StateFilter filter, AsUsage(ClassifyStates(states)));
  RETURN_IF_ERROR(AsUsageError(CheckLabelSelector(selector)));
  pb::ListExperimentsRequest req;
  req.set_label_selector(std::string(selector));
  for (pb::DesiredState s : filter.desired) req.add_desired_states(s);
  for (pb::ObservedState s : filter.observed) req.add_observed_states(s);
  req.set_page_size(kMaxPageSize);
  std::vector<pb::Experiment> experiments;
  while (true) {
    pb::ListExperimentsResponse resp;
    RETURN_IF_ERROR(ctx.client().Call(&pb::SkyDeck::Stub::ListExperiments, req, &resp));
    experiments.insert(experiments.end(), resp.experiments().begin(), resp.experiments().end());
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  return experiments;
}

namespace {

// Usage errors common to every bulk verb.
absl::Status CheckSelection(const Selection& selection, absl::string_view verb) {
  if (selection.refs.empty() && !selection.by_filter()) {
    return UsageError("name the experiments: IDs, -l SELECTOR, --state S or --all");
  }
  if (selection.all && !selection.refs.empty()) {
    return UsageError("--all cannot be combined with IDs");
  }
  if (selection.all && !selection.yes && isatty(STDIN_FILENO) == 0) {
    return UsageError(absl::StrCat("--all acts on every experiment; add --yes to ", verb,
                                   " them without a terminal to confirm on"));
  }
  return absl::OkStatus();
}

// Asks "VERB all N experiments? [y/N]" on the terminal. CANCELLED unless
// the answer is yes.
absl::Status Confirm(absl::string_view verb, int64_t count) {
  std::cerr << verb << " all " << count << " experiments? [y/N] " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  answer = absl::AsciiStrToLower(absl::StripAsciiWhitespace(answer));
  if (answer != "y" && answer != "yes") return absl::CancelledError("nothing done");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<BulkTarget> BulkTargetOf(CommandContext& ctx, const Selection& selection,
                                        absl::string_view verb) {
  RETURN_IF_ERROR(CheckSelection(selection, verb));
  BulkTarget target{selection.refs, std::nullopt};
  if (!selection.by_filter()) return target;
  ASSIGN_OR_RETURN(StateFilter states, AsUsage(ClassifyStates(selection.states)));
  RETURN_IF_ERROR(AsUsageError(CheckLabelSelector(selection.selector)));
  pb::ExperimentFilter& filter = target.filter.emplace();
  filter.set_label_selector(selection.selector);
  for (pb::DesiredState s : states.desired) filter.add_desired_states(s);
  for (pb::ObservedState s : states.observed) filter.add_observed_states(s);
  if (selection.all && !selection.yes) {
    // The count from health: listing 100,000 experiments to count them
    // would take longer than the change itself. Health counts are up to a
    // few seconds old, so even a count of 0 asks: experiments created a
    // moment ago may not be in it yet.
    pb::GetHealthResponse health;
    RETURN_IF_ERROR(
        ctx.client().Call(&pb::SkyDeck::Stub::GetHealth, pb::GetHealthRequest(), &health));
    int64_t live = 0;
    for (const auto& [state, count] : health.health().experiments_by_state()) live += count;
    RETURN_IF_ERROR(Confirm(verb, live));
  }
  return target;
}

absl::StatusOr<std::vector<std::string>> ResolveSelection(CommandContext& ctx,
                                                          const Selection& selection,
                                                          absl::string_view verb) {
  RETURN_IF_ERROR(CheckSelection(selection, verb));
  std::vector<std::string> refs = selection.refs;
  if (!selection.by_filter()) return refs;
  ASSIGN_OR_RETURN(std::vector<pb::Experiment> matching,
                   ListMatching(ctx, selection.selector, selection.states));
  for (const pb::Experiment& e : matching) refs.push_back(absl::StrCat(e.id()));
  if (selection.all && !selection.yes && !matching.empty()) {
    RETURN_IF_ERROR(Confirm(verb, static_cast<int64_t>(matching.size())));
  }
  return refs;
}

}  // namespace skydeck::cli
