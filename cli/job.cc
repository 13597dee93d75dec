// File: cli/job.cc
//
// `skydeck job ...`: one job by its numeric id, or the newest job of every
// experiment (`job list`, to find stuck ones). Jobs are never created here;
// the daemon launches them for experiments (see exp.cc).
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "cli/arguments.h"
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

// ---------------------------------------------------------------------------
// list

struct ListArgs {
  std::string selector;
  std::vector<std::string> in_state;
  bool live = false;
};

// Whether `job` has been in a status `ages` name for as long as they say
// (all of them), at `now_ms`.
bool MatchesAges(const pb::Job& job, const std::vector<StateAge>& ages, int64_t now_ms) {
  for (const StateAge& age : ages) {
    if (!MatchesStateAge(age, StateName(job.status()), MillisOf(job.status_since()), now_ms)) {
      return false;
    }
  }
  return true;
}

// The newest job of every live experiment `args.selector` matches (the
// daemon answers them with each page of experiments), filtered here by
// status age: a live job is always its experiment's newest.
absl::Status RunList(CommandContext& ctx, const ListArgs& args) {
  ASSIGN_OR_RETURN(std::vector<StateAge> ages, AsUsage(ParseJobStateAges(args.in_state)));
  RETURN_IF_ERROR(AsUsageError(CheckLabelSelector(args.selector)));
  pb::ListExperimentsRequest req;
  req.set_label_selector(args.selector);
  req.set_include_latest_jobs(true);
  req.set_page_size(kMaxPageSize);
  int64_t now = ctx.NowMillis();
  std::vector<pb::Job> jobs;
  std::map<int64_t, std::string> names;
  while (true) {
    pb::ListExperimentsResponse resp;
    RETURN_IF_ERROR(ctx.client().Call(&Stub::ListExperiments, req, &resp));
    for (const pb::Experiment& e : resp.experiments()) names[e.id()] = e.name();
    for (const pb::Job& j : resp.latest_jobs()) {
      if (args.live && !JobIsLive(j)) continue;
      if (MatchesAges(j, ages, now)) jobs.push_back(j);
    }
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  if (!ctx.human()) {
    ctx.WriteDocument(ListDocument("jobs", jobs, ctx.int64_encoding()));
    return absl::OkStatus();
  }
  if (jobs.empty()) {
    std::fputs("No jobs found.\n", stderr);
    return absl::OkStatus();
  }
  Table table({"JOB", "EXPERIMENT", "ATTEMPT", "STATUS", "SINCE", "SUBMITTED", "STARTED", "ENDED"});
  for (const pb::Job& j : jobs) {
    table.AddRow({absl::StrCat(j.id()), names[j.experiment_id()], absl::StrCat(j.attempt()),
                  PaintState(StateName(j.status()), ctx.color()),
                  FormatAge(MillisOf(j.status_since()), now),
                  FormatAge(MillisOf(j.submit_time()), now),
                  FormatAge(MillisOf(j.start_time()), now), FormatAge(MillisOf(j.end_time()), now)});
  }
  ctx.WriteTable(table.Render());
  return absl::OkStatus();
}

void AddList(CLI::App* job, CommandContext* ctx) {
  auto args = std::make_shared<ListArgs>();
  CLI::App* cmd = job->add_subcommand(
      "list", "List the newest job of every experiment, with how long it has been in its status");
  cmd->alias("ls");
  cmd->add_option("-l,--selector", args->selector, "Only experiments matching this label selector");
  cmd->add_option("--in-state", args->in_state,
                  "Only jobs in a status for longer (>) or less long (<) than a duration: "
                  "'pending>30m', 'running>2d' (units d h m s); repeatable, all must hold")
      ->allow_extra_args(false);
  cmd->add_flag("--live", args->live, "Only live jobs (not ended)");
  SetExamples(cmd, {"skydeck job list --in-state 'pending>30m'   # stuck jobs",
                    "skydeck job list -l sweep=lr --live", "skydeck job list -o json"});
  OnParsed(cmd, ctx, [ctx, args] { return RunList(*ctx, *args); });
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
  CLI::App* job = app->add_subcommand(
      "job", "List jobs by time in status; inspect, cancel and read the logs of one job");
  job->require_subcommand(1);
  AddList(job, ctx);
  AddGet(job, ctx);
  AddCancel(job, ctx);
  AddLogs(job, ctx);
  SetExamples(job, {"skydeck exp jobs lr-3e-4   # find job ids", "skydeck job logs 17 -f"});
}

}  // namespace skydeck::cli
