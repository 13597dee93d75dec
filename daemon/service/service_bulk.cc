// Bulk handlers of SkyDeckService: SetDesiredState and DeleteExperiments.
// Each change is one store transaction (store.h, "Bulk changes"), so a
// caller sees all of it or nothing; the reconciler is then handed the
// changed ids in one go.
#include <chrono>

#include "absl/strings/str_cat.h"

#include "common/model/experiment_search.h"
#include "common/model/proto_convert.h"
#include "common/model/validation.h"
#include "common/status_macros.h"
#include "daemon/service/convert.h"
#include "daemon/service/skydeck_service.h"

namespace skydeck::service {
namespace {

using Clock = std::chrono::system_clock;

// The field name a refusal of `filter` carries.
constexpr char kFilter[] = "filter";

absl::StatusOr<store::ExperimentFilter> FilterFromProto(const pb::ExperimentFilter& f) {
  store::ExperimentFilter out;
  ASSIGN_OR_RETURN(out.selector, LabelSelector::Parse(f.label_selector()));
  for (int s : f.desired_states()) {
    ASSIGN_OR_RETURN(DesiredState d, FromProto(static_cast<pb::DesiredState>(s)));
    out.desired_states.push_back(d);
  }
  for (int s : f.observed_states()) {
    ASSIGN_OR_RETURN(ObservedState o, FromProto(static_cast<pb::ObservedState>(s)));
    out.observed_states.push_back(o);
  }
  RETURN_IF_ERROR(
      ValidateText(absl::StrCat(kFilter, ".name_contains"), f.name_contains(), kMaxNameBytes));
  out.name_contains = f.name_contains();
  RETURN_IF_ERROR(ValidateText(absl::StrCat(kFilter, ".text"), f.text(), kMaxSearchTextBytes));
  out.words = SearchWords(f.text());
  out.starred_only = f.starred();
  return out;
}

// How long before the caller's deadline a bulk change gives up and rolls
// back, so that its answer (DEADLINE_EXCEEDED with nothing changed, or
// the committed result) still reaches the caller in time: 2 s, or a
// quarter of the time it was given when that is less.
Clock::duration DeadlineMargin(Clock::time_point start, Clock::time_point deadline) {
  return std::min<Clock::duration>(std::chrono::seconds(2), (deadline - start) / 4);
}

}  // namespace

store::BulkOptions SkyDeckService::BulkOptionsFor(const grpc::ServerContext& ctx) {
  store::BulkOptions options;
  options.max_records = kMaxExperimentsInBulkAnswer;
  Clock::time_point deadline = ctx.deadline();
  Clock::time_point start = Clock::now();
  bool bounded = deadline < start + std::chrono::hours(24 * 365);
  Clock::time_point give_up = bounded ? deadline - DeadlineMargin(start, deadline) : deadline;
  options.keep_going = [&ctx, bounded, give_up]() -> absl::Status {
    if (ctx.IsCancelled()) {
      return absl::CancelledError("the caller went away; nothing was changed");
    }
    if (bounded && Clock::now() >= give_up) {
      return absl::DeadlineExceededError(
          "the change could not be made within the call's deadline; nothing was changed "
          "(retry with a longer deadline, or a narrower filter)");
    }
    return absl::OkStatus();
  };
  return options;
}

absl::StatusOr<store::ExperimentSelection> SkyDeckService::SelectionFrom(
    const std::vector<std::string>& refs, const pb::ExperimentFilter* filter, bool allow_deleted) {
  if (refs.size() > kMaxRefsPerRequest) {
    return absl::InvalidArgumentError(
        absl::StrCat("ids: at most ", kMaxRefsPerRequest,
                     " per request; use a filter (e.g. a label selector) for more"));
  }
  store::ExperimentSelection selection;
  // Resolved before any change, so a typo in one id changes nothing.
  for (const std::string& ref : refs) {
    ASSIGN_OR_RETURN(ExperimentRecord r, Resolve(ref));
    if (r.deleted() && !allow_deleted) {
      return absl::NotFoundError(absl::StrCat("experiment ", ref, " is deleted"));
    }
    selection.ids.push_back(r.id);
  }
  if (filter) {
    ASSIGN_OR_RETURN(selection.filter, FilterFromProto(*filter));
  } else if (refs.empty()) {
    return absl::InvalidArgumentError("name experiments by id, ids, label_selector or filter");
  }
  return selection;
}

absl::Status SkyDeckService::WaitForNoLiveJobs(const grpc::ServerContext& ctx,
                                               const std::vector<int64_t>& ids) {
  auto limit =
      std::min(ctx.deadline() - std::chrono::seconds(1), Clock::now() + std::chrono::seconds(120));
  store::ExperimentSelection selection;
  selection.ids = ids;
  int64_t seen = 0;
  size_t live = ids.size();
  while (Clock::now() < limit && !hub_->closed() && !ctx.IsCancelled()) {
    ASSIGN_OR_RETURN(store::SelectedExperiments now,
                     store_->SelectExperiments(selection, /*allow_deleted=*/true));
    live = now.with_live_job.size();
    if (live == 0) return absl::OkStatus();
    selection.ids = now.with_live_job;  // the others have ended for good
    seen = hub_->WaitNewer(seen, absl::Milliseconds(200));
  }
  return absl::DeadlineExceededError(
      absl::StrCat(live,
                   " of the experiments are being terminated but their jobs have not ended yet; "
                   "nothing was deleted; retry the delete"));
}

grpc::Status SkyDeckService::SetDesiredState(grpc::ServerContext* ctx,
                                             const pb::SetDesiredStateRequest* req,
                                             pb::SetDesiredStateResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string actor, ActorFromContext(*ctx));
    ASSIGN_OR_RETURN(DesiredState desired, FromProto(req->desired_state()));
    RETURN_IF_ERROR(ValidateText("reason", req->reason(), kMaxReasonBytes));
    std::vector<std::string> refs(req->ids().begin(), req->ids().end());
    if (!req->id().empty()) refs.push_back(req->id());
    // The older label_selector field is a filter with only a selector.
    pb::ExperimentFilter filter = req->filter();
    if (!req->label_selector().empty()) {
      if (!filter.label_selector().empty()) {
        return absl::InvalidArgumentError(
            "label_selector and filter.label_selector: set one of them, not both");
      }
      filter.set_label_selector(req->label_selector());
    }
    bool by_filter = req->has_filter() || !req->label_selector().empty();
    ASSIGN_OR_RETURN(store::ExperimentSelection selection,
                     SelectionFrom(refs, by_filter ? &filter : nullptr, false));
    ASSIGN_OR_RETURN(
        store::BulkResult result,
        store_->SetDesiredStates(selection, desired, actor, req->reason(), BulkOptionsFor(*ctx)));
    if (control_) control_->EnqueueMany(result.changed_ids);
    for (const ExperimentRecord& r : result.experiments) {
      ToProto(r, resp->add_experiments());
    }
    resp->set_matched(static_cast<int32_t>(result.ids.size()));
    resp->set_changed(static_cast<int32_t>(result.changed_ids.size()));
    resp->mutable_ids()->Add(result.ids.begin(), result.ids.end());
    return absl::OkStatus();
  });
}

grpc::Status SkyDeckService::DeleteExperiments(grpc::ServerContext* ctx,
                                               const pb::DeleteExperimentsRequest* req,
                                               pb::DeleteExperimentsResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string actor, ActorFromContext(*ctx));
    std::vector<std::string> refs(req->ids().begin(), req->ids().end());
    ASSIGN_OR_RETURN(store::ExperimentSelection selection,
                     SelectionFrom(refs, req->has_filter() ? &req->filter() : nullptr,
                                   /*allow_deleted=*/req->purge()));
    if (req->force()) {
      // force = terminate, then delete: the filter is evaluated once, here,
      // and the delete acts on exactly those experiments.
      ASSIGN_OR_RETURN(store::SelectedExperiments selected,
                       store_->SelectExperiments(selection, req->purge()));
      selection = store::ExperimentSelection{selected.ids, std::nullopt};
      if (!selected.with_live_job.empty()) {
        ASSIGN_OR_RETURN(store::BulkResult terminated,
                         store_->SetDesiredStates({selected.with_live_job, std::nullopt},
                                                  DesiredState::kTerminated, actor, "forced delete",
                                                  BulkOptionsFor(*ctx)));
        if (control_) control_->EnqueueMany(terminated.changed_ids);
        RETURN_IF_ERROR(WaitForNoLiveJobs(*ctx, selected.with_live_job));
      }
    }
    store::BulkOptions options = BulkOptionsFor(*ctx);
    ASSIGN_OR_RETURN(store::BulkResult result,
                     req->purge() ? store_->PurgeMany(selection, actor, options)
                                  : store_->SoftDeleteMany(selection, actor, options));
    resp->set_deleted(static_cast<int32_t>(result.ids.size()));
    resp->mutable_ids()->Add(result.ids.begin(), result.ids.end());
    for (const ExperimentRecord& r : result.experiments) {
      ToProto(r, resp->add_experiments());
    }
    return absl::OkStatus();
  });
}

}  // namespace skydeck::service
