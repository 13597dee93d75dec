// Server-streaming handlers of SkyDeckService: Watch and GetJobLogs.
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

#include "common/grpc_status.h"
#include "common/model/proto_convert.h"
#include "common/status_macros.h"
#include "daemon/service/convert.h"
#include "daemon/service/skydeck_service.h"

namespace skydeck::service {
namespace {

// How long a Watch waits between checks that its client is still there.
constexpr absl::Duration kWatchWakeup = absl::Milliseconds(500);
constexpr int kWatchBatch = 500;

}  // namespace

grpc::Status SkyDeckService::Watch(grpc::ServerContext* ctx, const pb::WatchRequest* req,
                                   grpc::ServerWriter<pb::WatchResponse>* writer) {
  return Handle(*ctx, [&]() -> absl::Status {
    if (req->since_revision() < 0 || req->experiment_id() < 0) {
      return absl::InvalidArgumentError("since_revision and experiment_id must not be negative");
    }
    if (req->experiment_id() != 0) {
      // An unknown id would otherwise wait forever for events that never come.
      RETURN_IF_ERROR(store_->GetExperiment(req->experiment_id()).status());
    }
    int64_t seen = req->since_revision();
    while (!ctx->IsCancelled() && !hub_->closed()) {
      ASSIGN_OR_RETURN(std::vector<EventRecord> events,
                       store_->EventsAfter(seen, req->experiment_id(), kWatchBatch));
      for (const EventRecord& e : events) {
        pb::WatchResponse resp;
        ToProto(e, resp.mutable_event());
        if (e.experiment_id != 0) {
          auto r = store_->GetExperiment(e.experiment_id);
          if (r.ok()) ToProto(*r, resp.mutable_experiment());
        }
        if (!writer->Write(resp)) return absl::CancelledError("watcher went away");
        seen = e.id;
      }
      if (static_cast<int>(events.size()) < kWatchBatch) hub_->WaitNewer(seen, kWatchWakeup);
    }
    return absl::OkStatus();
  });
}

grpc::Status SkyDeckService::GetJobLogs(grpc::ServerContext* ctx, const pb::GetJobLogsRequest* req,
                                        grpc::ServerWriter<pb::GetJobLogsResponse>* writer) {
  return Handle(*ctx, [&]() -> absl::Status {
    if (req->id() <= 0) return absl::InvalidArgumentError("id: must be a positive job id");
    if (req->tail_bytes() < 0)
      return absl::InvalidArgumentError("tail_bytes: must not be negative");
    if (req->tail_lines() < 0) {
      return absl::InvalidArgumentError("tail_lines: must not be negative");
    }
    if (!control_) return absl::FailedPreconditionError("this daemon runs without a backend");
    ASSIGN_OR_RETURN(JobRecord job, store_->GetJob(req->id()));
    reconcile::LogSinks sinks;
    sinks.data = [&](absl::string_view chunk) {
      pb::GetJobLogsResponse resp;
      resp.set_data(std::string(chunk));
      return writer->Write(resp);
    };
    sinks.progress = [&](absl::string_view line) {
      pb::GetJobLogsResponse resp;
      resp.set_progress(std::string(line));
      return writer->Write(resp);
    };
    auto cancelled = [&] { return ctx->IsCancelled() || hub_->closed(); };
    const backend::LogTail tail{.lines = req->tail_lines(), .bytes = req->tail_bytes()};
    ASSIGN_OR_RETURN(JobRecord last,
                     control_->StreamLogs(job, req->follow(), tail, sinks, cancelled));
    if (cancelled()) return absl::OkStatus();
    pb::GetJobLogsResponse end;
    end.set_job_status(ToProto(last.status));
    if (!last.live() && last.status != JobStatus::kSucceeded) {
      end.set_progress(absl::StrCat("job ", last.id, " (attempt ", last.attempt, ") ended ",
                                    Name(last.status), last.failure_reason.empty() ? "" : ": ",
                                    last.failure_reason));
    }
    writer->Write(end);
    return absl::OkStatus();
  });
}

}  // namespace skydeck::service
