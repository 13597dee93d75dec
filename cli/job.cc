// File: cli/job.cc
//
// `skydeck job ...`: one job by its numeric id. Jobs are never created here;
// the daemon launches them for experiments (see exp.cc).
#include <memory>
#include <string>

#include "cli/command.h"
#include "cli/views.h"
#include "common/status_macros.h"
#include "common/validation.h"

namespace skydeck::cli {
namespace {

using Stub = pb::SkyDeck::Stub;

void PrintJob(CommandContext& ctx, const pb::Job& job, bool as_row) {
  if (!ctx.human()) {
    ctx.WriteDocument(ProtoToJson(job, ctx.int64_encoding()));
  } else if (as_row) {
    ctx.Write(JobTable({job}, ctx.NowMillis()));
  } else {
    ctx.Write(RenderKeyValues(JobDetails(job, ctx.NowMillis())));
  }
}

void AddGet(CLI::App* job, CommandContext* ctx) {
  auto ref = std::make_shared<std::string>();
  CLI::App* cmd = job->add_subcommand("get", "Show one job");
  cmd->add_option("JOB_ID", *ref, "Numeric job id (see exp jobs)")->required();
  SetExamples(cmd, {"skydeck job get 17", "skydeck job get 17 -o json"});
  OnParsed(cmd, ctx, [ctx, ref]() -> absl::Status {
    ASSIGN_OR_RETURN(int64_t id, AsUsage(ParseId("job id", *ref)));
    pb::GetJobRequest req;
    req.set_id(id);
    pb::GetJobResponse resp;
    RETURN_IF_ERROR(ctx->client().Call(&Stub::GetJob, req, &resp));
    PrintJob(*ctx, resp.job(), /*as_row=*/false);
    return absl::OkStatus();
  });
}

struct CancelArgs {
  std::string ref, reason;
};

void AddCancel(CLI::App* job, CommandContext* ctx) {
  auto args = std::make_shared<CancelArgs>();
  CLI::App* cmd = job->add_subcommand(
      "cancel", "Cancel a live job and set its experiment to STOPPED (no relaunch)");
  cmd->add_option("JOB_ID", args->ref, "Numeric job id")->required();
  cmd->add_option("--reason", args->reason, "Why; recorded on the event");
  SetExamples(cmd, {"skydeck job cancel 17", "skydeck job cancel 17 --reason 'diverged'"});
  OnParsed(cmd, ctx, [ctx, args]() -> absl::Status {
    ASSIGN_OR_RETURN(int64_t id, AsUsage(ParseId("job id", args->ref)));
    pb::CancelJobRequest req;
    req.set_id(id);
    req.set_reason(args->reason);
    pb::CancelJobResponse resp;
    RETURN_IF_ERROR(ctx->client().Call(&Stub::CancelJob, req, &resp));
    PrintJob(*ctx, resp.job(), /*as_row=*/true);
    return absl::OkStatus();
  });
}

struct LogsArgs {
  std::string ref;
  bool follow = false;
  int64_t tail = 0;
};

void AddLogs(CLI::App* job, CommandContext* ctx) {
  auto args = std::make_shared<LogsArgs>();
  CLI::App* cmd = job->add_subcommand("logs", "Print a job's log (stdout and stderr)");
  cmd->add_option("JOB_ID", args->ref, "Numeric job id")->required();
  cmd->add_flag("-f,--follow", args->follow, "Keep printing until the job ends");
  cmd->add_option("--tail", args->tail, "Start with at most the last BYTES bytes")
      ->check(CLI::NonNegativeNumber);
  SetExamples(cmd, {"skydeck job logs 17", "skydeck job logs 17 -f --tail 65536"});
  OnParsed(cmd, ctx, [ctx, args]() -> absl::Status {
    ASSIGN_OR_RETURN(int64_t id, AsUsage(ParseId("job id", args->ref)));
    pb::GetJobLogsRequest req;
    req.set_id(id);
    req.set_follow(args->follow);
    req.set_tail_bytes(args->tail);
    return ctx->client().StreamLogs(req, [&](const std::string& data) { ctx->Write(data); });
  });
}

}  // namespace

void AddJobCommands(CLI::App* app, CommandContext* ctx) {
  CLI::App* job = app->add_subcommand("job", "Inspect, cancel and read the logs of one job");
  job->require_subcommand(1);
  AddGet(job, ctx);
  AddCancel(job, ctx);
  AddLogs(job, ctx);
  SetExamples(job, {"skydeck exp jobs lr-3e-4   # find job ids", "skydeck job logs 17 -f"});
}

}  // namespace skydeck::cli
