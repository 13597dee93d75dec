// File: cli/selection.cc
#include "cli/selection.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cli/arguments.h"
#include "common/status_macros.h"
#include "common/validation.h"

namespace skydeck::cli {

void AddSelectionOptions(CLI::App* command, Selection* selection, bool allow_all) {
  command->add_option("ID", selection->refs, "Experiment ids or names");
  command->add_option("-l,--selector", selection->selector,
                      "Every live experiment matching this label selector (k=v, k!=v, "
                      "'k in (a,b)', ...)");
  command->add_option("--state", selection->states,
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

absl::StatusOr<std::vector<std::string>> ResolveSelection(CommandContext& ctx,
                                                          const Selection& selection,
                                                          absl::string_view verb) {
  if (selection.refs.empty() && !selection.by_filter()) {
    return UsageError("name the experiments: IDs, -l SELECTOR, --state S or --all");
  }
  if (selection.all && !selection.refs.empty()) {
    return UsageError("--all cannot be combined with IDs");
  }
  bool interactive = isatty(STDIN_FILENO) != 0;
  if (selection.all && !selection.yes && !interactive) {
    return UsageError(absl::StrCat("--all acts on every experiment; add --yes to ", verb,
                                   " them without a terminal to confirm on"));
  }
  std::vector<std::string> refs = selection.refs;
  if (!selection.by_filter()) return refs;
  ASSIGN_OR_RETURN(std::vector<pb::Experiment> matching,
                   ListMatching(ctx, selection.selector, selection.states));
  for (const pb::Experiment& e : matching) refs.push_back(absl::StrCat(e.id()));
  if (selection.all && !selection.yes && !matching.empty()) {
    std::cerr << verb << " all " << matching.size() << " experiments? [y/N] " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    answer = absl::AsciiStrToLower(absl::StripAsciiWhitespace(answer));
    if (answer != "y" && answer != "yes") return absl::CancelledError("nothing done");
  }
  return refs;
}

}  // namespace skydeck::cli
