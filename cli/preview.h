// File: cli/preview.h
//
// What a write would do, asked of the daemon without writing
// (`validate_only`): the daemon runs every check (validation, the flag
// schema, name conflicts) and answers with the experiment as it would be
// stored, flags normalised to their declared types. `apply`, `diff` and
// `sweep` compare against that, so a schema that turns `layers: "4"` into
// the int 4 never shows up as a change, and dry runs fail like real runs.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "cli/command.h"

namespace skydeck::cli {

// The experiment CreateExperiment would store for `e` (id 0), given the
// client's directory `default_workdir` and its code snapshot
// (CreateExperimentRequest).
absl::StatusOr<pb::Experiment> PreviewCreate(CommandContext& ctx, const pb::Experiment& e,
                                             const std::string& default_workdir = "",
                                             const pb::CodeSnapshot& default_code = {});

// The experiment `have` would become if the fields `paths` (update-mask
// names) were set from `want`. Its generation differs from have's exactly
// when the update would change something.
absl::StatusOr<pb::Experiment> PreviewUpdate(CommandContext& ctx, const pb::Experiment& have,
                                             const pb::Experiment& want,
                                             const std::vector<std::string>& paths);

}  // namespace skydeck::cli
