// SkyDeckService::ImportExperiments: experiments and their job history
// brought over from another system (`skydeck import --seed-db`).
#include "absl/strings/str_cat.h"

#include "common/model/proto_convert.h"
#include "common/status_macros.h"
#include "daemon/service/convert.h"
#include "daemon/service/skydeck_service.h"

namespace skydeck::service {
namespace {

// A past job as the store keeps it. Errors: INVALID_ARGUMENT for a job
// that is not terminal or has no end time (history only: nothing would
// ever poll it).
absl::StatusOr<JobRecord> ImportedJob(const pb::Job& job, int index) {
  JobRecord r;
  ASSIGN_OR_RETURN(r.status, ParseJobStatus(pb::JobStatus_Name(job.status())));
  r.ended_ms = FromProtoTime(job.end_time());
  if (!IsTerminal(r.status) || r.ended_ms == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("job ", index + 1,
                     ": an imported job must be finished (a terminal status and an "
                     "end_time)"));
  }
  r.backend_name = job.backend_name();
  r.backend_job_id = job.backend_job_id();
  r.backend_status = job.backend_status();
  r.command = job.command();
  ASSIGN_OR_RETURN(r.flags, FromProto(job.flags()));
  r.nodes = job.nodes() > 0 ? job.nodes() : 1;
  r.gpus = job.gpus();
  r.gpu_type = job.gpu_type();
  r.infra = job.infra();
  r.spot = job.spot();
  r.run_name = job.run_name();
  r.submitted_ms = FromProtoTime(job.submit_time());
  r.started_ms = FromProtoTime(job.start_time());
  if (job.has_exit_code()) r.exit_code = job.exit_code();
  r.failure_reason = job.failure_reason();
  return r;
}

}  // namespace

grpc::Status SkyDeckService::ImportExperiments(grpc::ServerContext* ctx,
                                               const pb::ImportExperimentsRequest* req,
                                               pb::ImportExperimentsResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string actor, ActorFromContext(*ctx));
    std::string source = req->source().empty() ? "another system" : req->source();
    for (const pb::ImportedExperiment& in : req->experiments()) {
      pb::ImportExperimentsResponse::Result* result = resp->add_results();
      result->set_name(in.experiment().name());
      absl::StatusOr<ExperimentRecord> imported = [&]() -> absl::StatusOr<ExperimentRecord> {
        ASSIGN_OR_RETURN(ExperimentSpec spec, SpecFromProto(in.experiment()));
        RETURN_IF_ERROR(ValidateSpec(spec));
        std::vector<JobRecord> history;
        for (int i = 0; i < in.jobs_size(); ++i) {
          ASSIGN_OR_RETURN(JobRecord job, ImportedJob(in.jobs(i), i));
          history.push_back(std::move(job));
        }
        return store_->ImportExperiment(spec, FromProtoTime(in.experiment().create_time()), history,
                                        actor, source);
      }();
      if (absl::IsAlreadyExists(imported.status())) {
        result->set_outcome("exists");
        continue;
      }
      if (absl::IsInvalidArgument(imported.status())) {
        result->set_outcome("refused");
        result->set_error(std::string(imported.status().message()));
        continue;
      }
      RETURN_IF_ERROR(imported.status());  // the database itself failed: stop here
      if (in.experiment().starred()) {
        // The one mark an import keeps (the seed's stars); not the spec.
        RETURN_IF_ERROR(
            store_->SetStarred({{imported->id}, std::nullopt}, true, actor).status());
      }
      result->set_id(imported->id);
      result->set_outcome("imported");
      result->set_jobs(in.jobs_size());
      if (control_) control_->Enqueue(imported->id);
    }
    return absl::OkStatus();
  });
}

}  // namespace skydeck::service
