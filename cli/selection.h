// File: cli/selection.h
//
// Which experiments a bulk verb (`exp start|stop|terminate|delete`, `wait`)
// acts on: ids/names, or `-l SELECTOR` and `--state S` (as `exp list`), or
// `--all`. The verbs that change experiments send the selector and states
// to the daemon (BulkTargetOf); `wait` lists the matching ids first.
// Acting on everything is easy to do by accident, so `--all` asks for
// confirmation when stdin is a terminal and requires `--yes` otherwise.
//
//   auto sel = std::make_shared<Selection>();
//   AddSelectionOptions(cmd, sel.get(), /*allow_all=*/true);
//   ...
//   ASSIGN_OR_RETURN(std::vector<std::string> ids, ResolveSelection(ctx, *sel, "stop"));
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "CLI/CLI.hpp"
#include "cli/command.h"
#include "skydeck/v1/resources.pb.h"
#include "skydeck/v1/service.pb.h"

namespace skydeck::cli {

struct Selection {
  std::vector<std::string> refs;    // positional IDs
  std::string selector;             // -l
  std::vector<std::string> states;  // --state (arguments.h ClassifyStates)
  bool all = false, yes = false;

  bool by_filter() const { return !selector.empty() || !states.empty() || all; }
};

// Adds ID..., -l/--selector, --state and (when `allow_all`) --all and --yes.
void AddSelectionOptions(CLI::App* command, Selection* selection, bool allow_all);

// ListMatching()
//
// Every live experiment matching `selector` and `states` (all pages).
// Errors: usage errors for bad syntax; the daemon's status otherwise.
absl::StatusOr<std::vector<pb::Experiment>> ListMatching(CommandContext& ctx,
                                                         absl::string_view selector,
                                                         const std::vector<std::string>& states);

// What a bulk verb (`exp start|stop|terminate|delete`) sends: the IDs as
// given and, with -l, --state or --all, a filter the daemon evaluates in
// the same transaction as the change, so any number of experiments is one
// request (--all: a filter with no field set).
struct BulkTarget {
  std::vector<std::string> refs;
  std::optional<pb::ExperimentFilter> filter;
};

// BulkTargetOf()
//
// The request scope of `selection`. `verb` names the action in the
// confirmation prompt of --all (which says how many live experiments there
// are). Errors: as ResolveSelection.
absl::StatusOr<BulkTarget> BulkTargetOf(CommandContext& ctx, const Selection& selection,
                                        absl::string_view verb);

// ResolveSelection()
//
// The experiment refs `selection` names: the IDs as given, plus (with -l,
// --state or --all) the ids of every matching live experiment. `verb` names
// the action in the confirmation prompt. Errors: a usage error when nothing
// was named, when IDs and --all are combined, or when --all lacks --yes and
// stdin is not a terminal; CANCELLED when the user declines the prompt.
absl::StatusOr<std::vector<std::string>> ResolveSelection(CommandContext& ctx,
                                                          const Selection& selection,
                                                          absl::string_view verb);

}  // namespace skydeck::cli
