// File: cli/job.cc
//
// `skydeck job ...`: one job by its numeric id. Jobs are never created here;
// the daemon launches them for experiments (see exp.cc).
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"

#include "cli/command.h"
#include "cli/log_options.h"
#include "cli/logs.h"
#include "cli/views.h"
#include "common/model/validation.h"
#include "common/status_macros.h"

namespace skydeck::cli {
namespace {

using Stub = pb::SkyDeck::Stub;

// As the daemon counts it: a job is live until it has an end time.
bool JobIsLive(const pb::Job& job) { return !job.has_end_time(); }

absl::StatusOr<pb::Job> GetJob(CommandContext& ctx, int64_t id) {
  pb::GetJobRequest req;
  req.set_id(id);
  pb::GetJobResponse resp;
  RETURN_IF_ERROR(ctx.client().Call(&Stub::GetJob, req, &resp));
  return resp.job();
}

// What `job cancel` did, in words: the daemon only records the request (the
// experiment becomes desired STOPPED) and the reconciler cancels the job
// moments later, so the job as read back is usually still RUNNING. Saying so
// is the truthful answer, not a row that looks like nothing happened.
std::string CancelOutcome(const pb::Job& before, const pb::Job& after,
                          const pb::Experiment& experiment) {
  std::string job =
      absl::StrCat("job ", after.id(), " (", experiment.name(), ", attempt ", after.attempt(), ")");
  if (!JobIsLive(before)) {
    return absl::StrCat(job, " had already ended (", StateName(before.status()),
                        "): nothing to cancel\n");
  }
  std::string out = absl::StrCat("cancel requested for ", job, ": experiment ", experiment.name(),
                                 " is now desired ", StateName(experiment.desired_state()), "\n");
  if (JobIsLive(after)) {
    absl::StrAppend(&out, "the job is ", StateName(after.status()),
                    " until the backend stops it; wait with: skydeck wait ", experiment.name(),
                    " --for state=STOPPED\n");
  } else {
    absl::StrAppend(&out, "the job ended: ", StateName(after.status()), "\n");
  }
  return out;
}

void AddGet(CLI::App* job, CommandContext* ctx) {
  auto ref = std::make_shared<std::string>();
  CLI::App* cmd = job->add_subcommand("get", "Show one job");
  cmd->add_option("JOB_ID", *ref, "Numeric job id (see exp jobs)")->required();
  SetExamples(cmd, {"skydeck job get 17", "skydeck job get 17 -o json"});
  OnParsed(cmd, ctx, [ctx, ref]() -> absl::Status {
    ASSIGN_OR_RETURN(int64_t id, AsUsage(ParseId("job id", *ref)));
    ASSIGN_OR_RETURN(pb::Job j, GetJob(*ctx, id));
    if (ctx->human()) {
      ctx->Write(RenderKeyValues(JobDetails(j, ctx->NowMillis(), ctx->color())));
    } else {
      ctx->WriteDocument(ProtoToJson(j, ctx->int64_encoding()));
    }
    return absl::OkStatus();
  });
}

struct CancelArgs {
  std::string ref, reason;
};

void AddCancel(CLI::App* job, CommandContext* ctx) {
  auto args = std::make_shared<CancelArgs>();
  CLI::App* cmd = job->add_subcommand(
      "cancel",
      "Cancel a live job and set its experiment to STOPPED (no relaunch); prints what "
      "happened (with -o json: the job as read after the request)");
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
    // The reply is the job as it was before the cancel: read it again, and
    // its experiment, to show what the request changed.
    ASSIGN_OR_RETURN(pb::Job after, GetJob(*ctx, id));
    if (!ctx->human()) {
      ctx->WriteDocument(ProtoToJson(after, ctx->int64_encoding()));
      return absl::OkStatus();
    }
    pb::GetExperimentRequest get;
    get.set_id(absl::StrCat(after.experiment_id()));
    pb::GetExperimentResponse experiment;
    RETURN_IF_ERROR(ctx->client().Call(&Stub::GetExperiment, get, &experiment));
    ctx->Write(CancelOutcome(resp.job(), after, experiment.experiment()));
    return absl::OkStatus();
  });
}

struct LogsArgs {
  std::string ref;
  LogOptions log;
};

void AddLogs(CLI::App* job, CommandContext* ctx) {
  auto args = std::make_shared<LogsArgs>();
  CLI::App* cmd = job->add_subcommand(
      "logs", "Print a job's log (stdout and stderr); exit code 5 when the job failed");
  cmd->add_option("JOB_ID", args->ref, "Numeric job id")->required();
  AddLogOptions(cmd, &args->log);
  SetExamples(cmd, {"skydeck job logs 17", "skydeck job logs 17 -f --tail 100",
                    "skydeck job logs 17 --tail-bytes 1M"});
  OnParsed(cmd, ctx, [ctx, args]() -> absl::Status {
    ASSIGN_OR_RETURN(int64_t id, AsUsage(ParseId("job id", args->ref)));
    pb::GetJobLogsRequest req;
    req.set_id(id);
    RETURN_IF_ERROR(FillLogsRequest(args->log, &req));
    return PrintJobLogs(*ctx, std::move(req));
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
