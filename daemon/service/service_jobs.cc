// Job, event, health and control handlers of SkyDeckService.
#include "absl/strings/str_cat.h"

#include "common/grpc_status.h"
#include "common/model/proto_convert.h"
#include "common/model/validation.h"
#include "common/status_macros.h"
#include "daemon/service/convert.h"
#include "daemon/service/notify_status.h"
#include "daemon/service/skydeck_service.h"
#include "daemon/snapshots/snapshot_store.h"

namespace skydeck::service {
namespace {

absl::Status NoControlPlane() {
  return absl::FailedPreconditionError("this daemon runs without a backend");
}

absl::StatusOr<int> Limit(absl::string_view field, int requested, int dflt, int max) {
  if (requested == 0) return dflt;
  RETURN_IF_ERROR(ValidateRange(field, requested, 1, max));
  return requested;
}

}  // namespace

grpc::Status SkyDeckService::GetExperimentStatus(grpc::ServerContext* ctx,
                                                 const pb::GetExperimentStatusRequest* req,
                                                 pb::GetExperimentStatusResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(int limit, Limit("recent_jobs", req->recent_jobs(), 10, 100));
    ASSIGN_OR_RETURN(ExperimentRecord r, Resolve(req->id()));
    ASSIGN_OR_RETURN(std::vector<JobRecord> jobs, store_->ListJobs(r.id, 0, limit));
    ToProto(r, resp->mutable_experiment());
    AddExperimentLinks(r, jobs.empty() ? nullptr : &jobs.front(), resp->mutable_experiment());
    for (const auto& j : jobs) {
      if (j.live()) {
        ToProto(j, resp->mutable_current_job());
        AddJobExtras(j, &r, resp->mutable_current_job());
      }
      pb::Job* recent = resp->add_recent_jobs();
      ToProto(j, recent);
      AddJobExtras(j, &r, recent);
    }
    return absl::OkStatus();
  });
}

grpc::Status SkyDeckService::ListJobs(grpc::ServerContext* ctx, const pb::ListJobsRequest* req,
                                      pb::ListJobsResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(int limit, Limit("page_size", req->page_size(), 100, kMaxPageSize));
    int64_t before = 0;
    if (!req->page_token().empty()) {
      ASSIGN_OR_RETURN(before, ParseId("page_token", req->page_token()));
    }
    ASSIGN_OR_RETURN(ExperimentRecord r, Resolve(req->id()));
    // One extra row tells whether another page exists.
    ASSIGN_OR_RETURN(std::vector<JobRecord> jobs, store_->ListJobs(r.id, before, limit + 1));
    if (static_cast<int>(jobs.size()) > limit) {
      jobs.pop_back();
      resp->set_next_page_token(std::to_string(jobs.back().id));
    }
    for (const auto& j : jobs) {
      pb::Job* out = resp->add_jobs();
      ToProto(j, out);
      AddJobExtras(j, &r, out);
    }
    return absl::OkStatus();
  });
}

grpc::Status SkyDeckService::GetJob(grpc::ServerContext* ctx, const pb::GetJobRequest* req,
                                    pb::GetJobResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    if (req->id() <= 0) return absl::InvalidArgumentError("id: must be a positive job id");
    ASSIGN_OR_RETURN(JobRecord job, store_->GetJob(req->id()));
    ToProto(job, resp->mutable_job());
    ASSIGN_OR_RETURN(ExperimentRecord experiment, store_->GetExperiment(job.experiment_id));
    AddJobExtras(job, &experiment, resp->mutable_job());
    return absl::OkStatus();
  });
}

grpc::Status SkyDeckService::CancelJob(grpc::ServerContext* ctx, const pb::CancelJobRequest* req,
                                       pb::CancelJobResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string actor, ActorFromContext(*ctx));
    if (req->id() <= 0) return absl::InvalidArgumentError("id: must be a positive job id");
    RETURN_IF_ERROR(ValidateText("reason", req->reason(), kMaxReasonBytes));
    ASSIGN_OR_RETURN(JobRecord job, store_->GetJob(req->id()));
    if (job.live()) {
      // Cancelling is stopping: the reconciler cancels the live job and
      // does not relaunch it.
      std::string reason = absl::StrCat("job ", job.id, " cancelled");
      if (!req->reason().empty()) absl::StrAppend(&reason, " (", req->reason(), ")");
      RETURN_IF_ERROR(ChangeSpec(
                          job.experiment_id,
                          [](ExperimentSpec& s) {
                            s.desired_state = DesiredState::kStopped;
                            return absl::OkStatus();
                          },
                          actor, reason)
                          .status());
    }
    ToProto(job, resp->mutable_job());
    return absl::OkStatus();
  });
}

grpc::Status SkyDeckService::ListEvents(grpc::ServerContext* ctx, const pb::ListEventsRequest* req,
                                        pb::ListEventsResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(int limit, Limit("page_size", req->page_size(), 100, kMaxPageSize));
    if (req->experiment_id() < 0 || req->before_id() < 0) {
      return absl::InvalidArgumentError("experiment_id and before_id must not be negative");
    }
    if (req->experiment_id() != 0) {
      RETURN_IF_ERROR(store_->GetExperiment(req->experiment_id()).status());
    }
    ASSIGN_OR_RETURN(std::vector<EventRecord> events,
                     store_->ListEvents(req->experiment_id(), req->before_id(), limit));
    for (const auto& e : events) ToProto(e, resp->add_events());
    return absl::OkStatus();
  });
}

grpc::Status SkyDeckService::GetHealth(grpc::ServerContext* ctx, const pb::GetHealthRequest* req,
                                       pb::GetHealthResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    pb::Health* h = resp->mutable_health();
    h->set_version(version_);
    ToProtoTime(start_ms_, h->mutable_start_time());
    // From memory: the hub holds the newest committed revision, and the
    // counts are kept by a background count (state_counts.h), so a health
    // poll never scans the experiments table.
    h->set_revision(hub_->revision());
    ASSIGN_OR_RETURN(store::StateCountsSnapshot counts, counts_->Latest());
    for (const auto& [state, n] : counts.experiments_by_state) {
      (*h->mutable_experiments_by_state())[std::string(Name(state))] = n;
    }
    h->set_status(pb::Health::STATUS_SERVING);
    // Without the store's lock while writes work (store.h); damage the
    // background integrity check found is reported here too.
    if (std::string problem = store_->WriteProblem(); !problem.empty()) {
      h->set_database_problem(problem);
      h->set_status(pb::Health::STATUS_DEGRADED);
    }
    h->set_code_snapshots(snapshot_backend_);
    AddNotifySinks(notifier_, h);
    if (snapshots_ != nullptr) h->set_max_code_snapshot_bytes(snapshots_->limits().max_bytes);
    if (!control_) {
      h->set_backend("none");
      return absl::OkStatus();
    }
    BackendHealth b = control_->Health();
    h->set_backend(b.backend);
    h->set_backend_reason(b.backend_reason);
    h->set_backend_reachable(b.reachable);
    h->set_backend_api_version(b.api_version);
    h->set_backend_version(b.version);
    h->set_backend_endpoint(b.endpoint);
    if (b.last_successful_poll_ms) {
      ToProtoTime(b.last_successful_poll_ms, h->mutable_last_successful_poll_time());
    }
    h->set_last_poll_error(b.last_poll_error);
    if (!b.reachable || !b.last_poll_error.empty()) h->set_status(pb::Health::STATUS_DEGRADED);
    return absl::OkStatus();
  });
}

grpc::Status SkyDeckService::Refresh(grpc::ServerContext* ctx, const pb::RefreshRequest* req,
                                     pb::RefreshResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    if (!control_) return NoControlPlane();
    ASSIGN_OR_RETURN(int polled, control_->Refresh());
    resp->set_jobs_polled(polled);
    return absl::OkStatus();
  });
}

grpc::Status SkyDeckService::Reconcile(grpc::ServerContext* ctx, const pb::ReconcileRequest* req,
                                       pb::ReconcileResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    if (!control_) return NoControlPlane();
    std::vector<int64_t> ids;
    if (!req->id().empty()) {
      ASSIGN_OR_RETURN(ExperimentRecord r, Resolve(req->id()));
      ids.push_back(r.id);
    } else {
      ASSIGN_OR_RETURN(ids, store_->ListLiveExperimentIds());
    }
    for (int64_t id : ids) control_->Enqueue(id);
    resp->set_enqueued(static_cast<int>(ids.size()));
    return absl::OkStatus();
  });
}

}  // namespace skydeck::service
