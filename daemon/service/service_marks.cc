// Handlers of SkyDeckService for the user's marks that are not part of
// the spec: SetStarred (bulk, as SetDesiredState) and MoveExperiment.
// Neither enqueues a reconcile: nothing the reconciler reads changes.
#include <cmath>

#include "common/status_macros.h"
#include "daemon/service/convert.h"
#include "daemon/service/skydeck_service.h"

namespace skydeck::service {

grpc::Status SkyDeckService::SetStarred(grpc::ServerContext* ctx,
                                        const pb::SetStarredRequest* req,
                                        pb::SetStarredResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string actor, ActorFromContext(*ctx));
    std::vector<std::string> refs(req->ids().begin(), req->ids().end());
    if (!req->id().empty()) refs.push_back(req->id());
    ASSIGN_OR_RETURN(store::ExperimentSelection selection,
                     SelectionFrom(refs, req->has_filter() ? &req->filter() : nullptr,
                                   /*allow_deleted=*/false));
    ASSIGN_OR_RETURN(store::BulkResult result,
                     store_->SetStarred(selection, req->starred(), actor, BulkOptionsFor(*ctx)));
    for (const ExperimentRecord& r : result.experiments) ToProto(r, resp->add_experiments());
    resp->set_matched(static_cast<int32_t>(result.ids.size()));
    resp->set_changed(static_cast<int32_t>(result.changed_ids.size()));
    resp->mutable_ids()->Add(result.ids.begin(), result.ids.end());
    return absl::OkStatus();
  });
}

grpc::Status SkyDeckService::MoveExperiment(grpc::ServerContext* ctx,
                                            const pb::MoveExperimentRequest* req,
                                            pb::MoveExperimentResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string actor, ActorFromContext(*ctx));
    if (!std::isfinite(req->position())) {
      return absl::InvalidArgumentError("position: must be a finite number");
    }
    ASSIGN_OR_RETURN(ExperimentRecord r, Resolve(req->id()));
    ASSIGN_OR_RETURN(ExperimentRecord moved, store_->SetPosition(r.id, req->position(), actor));
    ToProto(moved, resp->mutable_experiment());
    return absl::OkStatus();
  });
}

}  // namespace skydeck::service
