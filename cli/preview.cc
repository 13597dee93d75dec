#include "cli/preview.h"

#include "absl/strings/str_cat.h"

#include "common/status_macros.h"

namespace skydeck::cli {

using Stub = pb::SkyDeck::Stub;

absl::StatusOr<pb::Experiment> PreviewCreate(CommandContext& ctx, const pb::Experiment& e,
                                             const std::string& default_workdir,
                                             const pb::CodeSnapshot& default_code) {
  pb::CreateExperimentRequest req;
  *req.mutable_experiment() = e;
  req.set_default_workdir(default_workdir);
  if (!default_code.id().empty()) *req.mutable_default_code_snapshot() = default_code;
  req.set_validate_only(true);
  pb::CreateExperimentResponse resp;
  RETURN_IF_ERROR(ctx.client().Call(&Stub::CreateExperiment, req, &resp));
  return resp.experiment();
}

absl::StatusOr<pb::Experiment> PreviewUpdate(CommandContext& ctx, const pb::Experiment& have,
                                             const pb::Experiment& want,
                                             const std::vector<std::string>& paths) {
  if (paths.empty()) return have;
  pb::UpdateExperimentRequest req;
  req.set_id(absl::StrCat(have.id()));
  *req.mutable_experiment() = want;
  for (const std::string& path : paths) req.mutable_update_mask()->add_paths(path);
  req.set_validate_only(true);
  pb::UpdateExperimentResponse resp;
  RETURN_IF_ERROR(ctx.client().Call(&Stub::UpdateExperiment, req, &resp));
  return resp.experiment();
}

}  // namespace skydeck::cli
