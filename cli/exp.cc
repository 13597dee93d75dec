// File: cli/exp.cc
//
// `skydeck exp ...`: experiments. Each verb parses its words (syntax errors
// are usage errors, exit 2, before any request), makes its RPC, and prints
// the result as a table for people or as the API's own JSON/YAML for
// scripts. The bulk verbs that change experiments (start, stop, terminate,
// delete) make one RPC for all of them, which the daemon applies as one
// transaction; undelete makes one RPC per id and keeps going past failures.
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "cli/arguments.h"
#include "cli/code_upload.h"
#include "cli/command.h"
#include "cli/experiment_list_printer.h"
#include "cli/log_options.h"
#include "cli/logs.h"
#include "cli/manifest.h"
#include "cli/selection.h"
#include "cli/views.h"
#include "cli/wait.h"
#include "cli/workload_args.h"
#include "common/model/command_line.h"
#include "common/model/label_selector.h"
#include "common/model/proto_convert.h"
#include "common/model/validation.h"
#include "common/status_macros.h"

namespace skydeck::cli {
namespace {

using Stub = pb::SkyDeck::Stub;

// Pages asked for when listing everything: the daemon's maximum, so a long
// list costs few round trips.
constexpr int kPageSize = kMaxPageSize;
// `exp list`'s first page: small, so its first lines print within a few
// milliseconds (rendering 1,000 experiments as JSON takes ~100 ms); the
// pages after it are kPageSize.
constexpr int kFirstListPageSize = 100;
// Events shown by `describe`.
constexpr int kDescribeEvents = 20;

int PageSizeFor(int limit, size_t have) {
  if (limit <= 0) return kPageSize;
  return std::min<int>(kPageSize, limit - static_cast<int>(have));
}

void PrintExperiment(CommandContext& ctx, const pb::Experiment& e) {
  if (ctx.human()) {
    ctx.WriteTable(ctx.wide() ? ExperimentWideTable({e}, ctx.NowMillis(), ctx.color())
                              : ExperimentTable({e}, ctx.NowMillis(), ctx.color()));
  } else {
    ctx.WriteDocument(ProtoToJson(e, ctx.int64_encoding()));
  }
}

void PrintExperimentList(CommandContext& ctx, const std::vector<pb::Experiment>& experiments) {
  if (ctx.format() == OutputFormat::kName) {
    // Straight from the protos: scripts loop over `exp list -o name`, and
    // building the JSON document first made it slower than the table.
    std::string names;
    for (const pb::Experiment& e : experiments) absl::StrAppend(&names, e.name(), "\n");
    ctx.Write(names);
  } else if (!ctx.human()) {
    ctx.WriteDocument(ListDocument("experiments", experiments, ctx.int64_encoding()));
  } else if (experiments.empty()) {
    // A note, not data: stdout stays empty for `| wc -l` and friends.
    std::fputs("No experiments found.\n", stderr);
  } else {
    ctx.WriteTable(ctx.wide() ? ExperimentWideTable(experiments, ctx.NowMillis(), ctx.color())
                              : ExperimentTable(experiments, ctx.NowMillis(), ctx.color()));
  }
}

absl::StatusOr<pb::Experiment> GetExperiment(CommandContext& ctx, const std::string& ref) {
  pb::GetExperimentRequest req;
  req.set_id(ref);
  pb::GetExperimentResponse resp;
  RETURN_IF_ERROR(ctx.client().Call(&Stub::GetExperiment, req, &resp));
  return resp.experiment();
}

// ListEvents wants the numeric id: a name costs one lookup first.
absl::StatusOr<int64_t> ResolveExperimentId(CommandContext& ctx, const std::string& ref) {
  if (IsNumericRef(ref)) return AsUsage(ParseId("experiment id", ref));
  ASSIGN_OR_RETURN(pb::Experiment e, GetExperiment(ctx, ref));
  return e.id();
}

// Newest first, following before_id until `limit` (0: all) events.
absl::StatusOr<std::vector<pb::Event>> ListEvents(CommandContext& ctx, int64_t experiment_id,
                                                  int limit) {
  std::vector<pb::Event> events;
  pb::ListEventsRequest req;
  req.set_experiment_id(experiment_id);
  while (true) {
    req.set_page_size(PageSizeFor(limit, events.size()));
    pb::ListEventsResponse resp;
    RETURN_IF_ERROR(ctx.client().Call(&Stub::ListEvents, req, &resp));
    events.insert(events.end(), resp.events().begin(), resp.events().end());
    bool full = limit > 0 && static_cast<int>(events.size()) >= limit;
    if (resp.events_size() < req.page_size() || full) break;
    req.set_before_id(events.back().id());
  }
  return events;
}

// ---------------------------------------------------------------------------
// create

struct CreateArgs {
  std::string name, cmd, gpu_type, infra, run_name, description, link;
  std::vector<std::string> flags, labels;
  int32_t nodes = 0, gpus = 0, max_restarts = 0;
  bool spot = false, start = false;
  const CLI::Option* max_restarts_option = nullptr;
  WorkloadArgs workload;
};

absl::Status RunCreate(CommandContext& ctx, const CreateArgs& args) {
  ASSIGN_OR_RETURN(FlagMap flags, AsUsage(ParseFlagAssignments(args.flags)));
  ASSIGN_OR_RETURN(auto labels, AsUsage(ParseLabels(args.labels)));
  pb::CreateExperimentRequest req;
  pb::Experiment* e = req.mutable_experiment();
  e->set_name(args.name);
  e->set_base_command(args.cmd);
  ToProto(flags, e->mutable_flags());
  e->set_nodes(args.nodes);
  e->set_gpus(args.gpus);
  e->set_gpu_type(args.gpu_type);
  e->set_infra(args.infra);
  e->set_spot(args.spot);
  e->set_run_name(args.run_name);
  e->set_description(args.description);
  e->set_link(args.link);
  e->mutable_labels()->insert(labels.begin(), labels.end());
  // Unset means the daemon's default (3); 0 is a real budget.
  if (args.max_restarts_option->count() > 0) e->set_max_restarts(args.max_restarts);
  ASSIGN_OR_RETURN(std::string default_workdir,
                   AsUsage(ApplyWorkloadArgs(args.workload, WorkloadVerb::kCreate, e, nullptr)));
  req.set_default_workdir(default_workdir);
  req.set_start(args.start);
  CodeUploader uploader(ctx);
  RETURN_IF_ERROR(AttachCreateCode(uploader, &req));
  pb::CreateExperimentResponse resp;
  RETURN_IF_ERROR(ctx.client().Call(&Stub::CreateExperiment, req, &resp));
  PrintWarnings(resp.warnings());
  PrintExperiment(ctx, resp.experiment());
  return absl::OkStatus();
}

void AddCreate(CLI::App* exp, CommandContext* ctx) {
  auto args = std::make_shared<CreateArgs>();
  CLI::App* cmd =
      exp->add_subcommand("create", "Create an experiment (desired state STOPPED unless --start)");
  cmd->add_option("NAME", args->name, "Experiment name: a letter, then letters, digits, . _ -")
      ->required();
  cmd->add_option("--cmd", args->cmd, "Base command, run by a POSIX shell")->required();
  cmd->add_option("--flag", args->flags,
                  "Flag k=v, typed from its text (true/false, integer, float, else string); "
                  "k:=v or a quoted value forces a string. Repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--nodes", args->nodes, "Number of nodes (default 1)");
  cmd->add_option("--gpus", args->gpus, "GPUs per node (default 0)");
  cmd->add_option("--gpu-type", args->gpu_type, "Accelerator type, e.g. H100");
  cmd->add_option("--infra", args->infra, "Where to run, e.g. aws, k8s/ctx, gcp/us-central1");
  cmd->add_flag("--spot", args->spot, "Use spot/preemptible instances");
  cmd->add_option("--run-name", args->run_name,
                  "Run name the code sees as SKYDECK_RUN_NAME (default: the name)");
  cmd->add_option("--description", args->description, "Free text");
  cmd->add_option("--link", args->link,
                  "A page about it (e.g. its W&B run), an http(s) URL; shown by describe "
                  "and the dashboard");
  cmd->add_option("--label", args->labels, "Label k=v. Repeatable")->allow_extra_args(false);
  args->max_restarts_option = cmd->add_option("--max-restarts", args->max_restarts,
                                              "Relaunch failed jobs at most N times (default 3)");
  AddWorkloadOptions(cmd, &args->workload, WorkloadVerb::kCreate);
  cmd->add_flag("--start", args->start, "Create with desired state RUNNING");
  SetExamples(
      cmd,
      {
          "skydeck exp create lr-3e-4 --cmd 'python train.py' --flag trainer.lr=3e-4 "
          "--flag model.layers=4 --start",
          "skydeck exp create big --cmd 'torchrun train.py' --template h100 --env "
          "WANDB_PROJECT=llm --secret WANDB_API_KEY --nodes 2",
          "skydeck exp create big --cmd 'torchrun train.py' --nodes 2 --gpus 8 --gpu-type H100 "
          "--infra aws --spot --label sweep=big",
          "skydeck exp create tagged --cmd ./run.sh --flag tag:=42   # tag is the string \"42\"",
      });
  OnParsed(cmd, ctx, [ctx, args] { return RunCreate(*ctx, *args); });
}

// ---------------------------------------------------------------------------
// list

struct ListArgs {
  std::string selector, name_contains, search;
  std::vector<std::string> states;
  // --in-state 'running>2d': time-in-state words added to the search.
  std::vector<std::string> in_state;
  bool include_deleted = false, watch = false, starred = false;
  int limit = 0;
  // 0: kFirstListPageSize, then kPageSize.
  int page_size = 0;
};

// The page size of the next ListExperiments call, `have` experiments in.
int ListPageSize(const ListArgs& args, size_t have) {
  int size = args.page_size > 0 ? args.page_size : have == 0 ? kFirstListPageSize : kPageSize;
  if (args.limit <= 0) return size;
  return std::min<int>(size, args.limit - static_cast<int>(have));
}

// Whether a changed experiment belongs in `exp list -w` output: the same
// filters the daemon applied to the list, applied here to each change.
bool ListFilterMatches(const ListArgs& args, const LabelSelector& selector,
                       const StateFilter& states, const pb::Experiment& e) {
  if (e.has_delete_time() && !args.include_deleted) return false;
  if (args.starred && !e.starred()) return false;
  if (e.name().find(args.name_contains) == std::string::npos) return false;
  if (!selector.Matches({e.labels().begin(), e.labels().end()})) return false;
  auto has = [](const auto& list, auto value) {
    return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
  };
  return has(states.desired, e.desired_state()) && has(states.observed, e.observed_state());
}

// `exp list -w`: after the table, one line per change from the Watch
// stream (a table row without header; a JSON object per line with -o json)
// until interrupted.
// The table row of `e` as `exp list -w` compares it: rendered at a fixed
// time, so an age that merely grew is not a change.
std::string ComparableRow(const CommandContext& ctx, const pb::Experiment& e) {
  return ctx.wide() ? ExperimentWideTable({e}, 0, false) : ExperimentTable({e}, 0, false);
}

// `shown`: the rows as last printed (ComparableRow, by id; tables only):
// many events (a poll, a resync) change nothing the table shows.
absl::Status WatchList(CommandContext& ctx, const ListArgs& args, int64_t since_revision,
                       std::map<int64_t, std::string> shown) {
  ASSIGN_OR_RETURN(StateFilter states, AsUsage(ClassifyStates(args.states)));
  ASSIGN_OR_RETURN(LabelSelector selector, AsUsage(LabelSelector::Parse(args.selector)));
  pb::WatchRequest req;
  req.set_since_revision(since_revision);
  return ctx.client().Watch(req, {}, [&](const pb::WatchResponse& r) {
    if (!r.has_experiment() || !ListFilterMatches(args, selector, states, r.experiment())) {
      return true;
    }
    const pb::Experiment& e = r.experiment();
    if (ctx.human()) {
      std::string row = ComparableRow(ctx, e);
      if (shown[e.id()] == row) return true;
      shown[e.id()] = row;
      std::string table = ctx.wide() ? ExperimentWideTable({e}, ctx.NowMillis(), ctx.color())
                                     : ExperimentTable({e}, ctx.NowMillis(), ctx.color());
      ctx.Write(table.substr(table.find('\n') + 1));
    } else if (ctx.format() == OutputFormat::kJson) {
      nlohmann::ordered_json doc = nlohmann::ordered_json::object();
      doc["event"] = ProtoToJson(r.event(), ctx.int64_encoding());
      doc["experiment"] = ProtoToJson(e, ctx.int64_encoding());
      ctx.Write(doc.dump() + "\n");
    } else if (ctx.format() == OutputFormat::kYaml) {
      ctx.Write("---\n" + RenderYaml(ProtoToJson(e, ctx.int64_encoding())));
    } else {
      ctx.WriteDocument(ProtoToJson(e, ctx.int64_encoding()));
    }
    return true;
  });
}

absl::Status RunList(CommandContext& ctx, const ListArgs& args) {
  ASSIGN_OR_RETURN(StateFilter states, AsUsage(ClassifyStates(args.states)));
  RETURN_IF_ERROR(AsUsageError(CheckLabelSelector(args.selector)));
  ASSIGN_OR_RETURN(std::string search,
                   AsUsage(SearchWithStateAges(args.search, args.in_state)));
  if (args.watch && !search.empty()) {
    return UsageError("--watch cannot be combined with --search or --in-state");
  }
  pb::ListExperimentsRequest req;
  req.set_starred(args.starred);
  req.set_text(search);
  req.set_label_selector(args.selector);
  for (pb::DesiredState s : states.desired) req.add_desired_states(s);
  for (pb::ObservedState s : states.observed) req.add_observed_states(s);
  req.set_include_deleted(args.include_deleted);
  req.set_name_contains(args.name_contains);
  // With -w, the stream starts where the list was read: nothing is missed.
  int64_t revision = 0;
  if (args.watch) {
    pb::GetHealthResponse health;
    RETURN_IF_ERROR(ctx.client().Call(&Stub::GetHealth, pb::GetHealthRequest(), &health));
    revision = health.health().revision();
  }
  // Each page is printed as it arrives and then dropped: the CLI's memory
  // does not grow with the list (with -w, only the rows it compares).
  ExperimentListPrinter printer(ctx, /*watch_json_lines=*/args.watch);
  std::map<int64_t, std::string> shown;
  while (true) {
    req.set_page_size(ListPageSize(args, printer.count()));
    pb::ListExperimentsResponse resp;
    RETURN_IF_ERROR(ctx.client().Call(&Stub::ListExperiments, req, &resp));
    printer.AddPage(resp.experiments());
    if (args.watch && ctx.human()) {
      for (const pb::Experiment& e : resp.experiments()) shown[e.id()] = ComparableRow(ctx, e);
    }
    bool full = args.limit > 0 && static_cast<int>(printer.count()) >= args.limit;
    if (resp.next_page_token().empty() || full) break;
    req.set_page_token(resp.next_page_token());
  }
  printer.Finish();
  if (args.watch) return WatchList(ctx, args, revision, std::move(shown));
  return absl::OkStatus();
}

void AddList(CLI::App* exp, CommandContext* ctx) {
  auto args = std::make_shared<ListArgs>();
  CLI::App* cmd = exp->add_subcommand("list", "List experiments, ordered by id");
  cmd->alias("ls");
  cmd->add_option("-l,--selector", args->selector,
                  "Label selector: k=v, k!=v, 'k in (a,b)', 'k notin (a,b)', k, !k; "
                  "comma-separated, all must hold");
  cmd->add_option("--state", args->states,
                  "Only this state; repeatable. RUNNING, STOPPED, TERMINATED filter the "
                  "desired state; IDLE, LAUNCHING, PENDING, STOPPING, SUCCEEDED, FAILED (or "
                  "OBSERVED_STATE_<NAME>) the observed state")
      ->allow_extra_args(false);
  cmd->add_flag("--include-deleted", args->include_deleted, "Include deleted experiments");
  cmd->add_flag("-w,--watch", args->watch,
                "After the list, print a row each time one changes (from the Watch stream) "
                "until Ctrl-C; with -o json, every line is one JSON object "
                "{\"event\", \"experiment\"}, the listed ones first with event null");
  cmd->add_option("--name-contains", args->name_contains, "Only names containing TEXT");
  cmd->add_flag("--starred", args->starred, "Only starred experiments (exp star)");
  cmd->add_option("--in-state", args->in_state,
                  "Only experiments in a state for longer (>) or less long (<) than a "
                  "duration: 'running>2d', 'pending>30m', 'failed<1h30m' (units d h m s); "
                  "repeatable, all must hold")
      ->allow_extra_args(false);
  cmd->add_option("--search", args->search,
                  "The dashboard's search: words that must each occur in the id, name, "
                  "description, command, a label or flag as k=v (time-in-state words too)");
  cmd->add_option("--limit", args->limit, "At most N experiments (default: all)")
      ->check(NonNegative());
  cmd->add_option("--page-size", args->page_size,
                  "Experiments per request, 1-1000 (default: 100 for the first, then 1000); "
                  "each page is printed as it arrives")
      ->check(CLI::Range(1, kMaxPageSize));
  SetExamples(cmd, {
                       "skydeck exp list",
                       "skydeck exp list -l 'sweep=lr,team!=infra' --state RUNNING",
                       "skydeck exp list --state FAILED --state PENDING -o json",
                       "skydeck exp list -l sweep=lr -w",
                       "skydeck exp list --starred",
                       "skydeck exp list --in-state 'pending>30m' --in-state 'pending<1d'",
                       "skydeck exp list -o name -l sweep=lr | xargs -n1 skydeck exp describe",
                   });
  OnParsed(cmd, ctx, [ctx, args] { return RunList(*ctx, *args); });
}

// ---------------------------------------------------------------------------
// get, describe

void AddGet(CLI::App* exp, CommandContext* ctx) {
  auto ref = std::make_shared<std::string>();
  CLI::App* cmd = exp->add_subcommand("get", "Show one experiment");
  cmd->add_option("ID", *ref, "Experiment id or name")->required();
  SetExamples(cmd, {"skydeck exp get lr-3e-4", "skydeck exp get 42 -o json",
                    "skydeck exp get lr-3e-4 -o yaml > lr.yaml   # a manifest for apply -f"});
  cmd->footer(std::string(cmd->get_footer()) +
              "\n\n-o yaml prints the experiment as a manifest (spec fields only, flags as "
              "plain values), exactly what `skydeck apply -f` reads; -o json prints the full "
              "API object with status fields.");
  OnParsed(cmd, ctx, [ctx, ref]() -> absl::Status {
    ASSIGN_OR_RETURN(pb::Experiment e, GetExperiment(*ctx, *ref));
    if (ctx->human()) {
      ctx->Write(RenderKeyValues(ExperimentDetails(e, ctx->NowMillis(), ctx->color())));
    } else if (ctx->format() == OutputFormat::kYaml) {
      // A manifest: what `apply -f` reads (spec fields, plain flag values).
      ctx->WriteDocument(ManifestOf(e));
    } else {
      ctx->WriteDocument(ProtoToJson(e, ctx->int64_encoding()));
    }
    return absl::OkStatus();
  });
}

absl::Status RunDescribe(CommandContext& ctx, const std::string& ref) {
  pb::GetExperimentStatusRequest req;
  req.set_id(ref);
  pb::GetExperimentStatusResponse status;
  RETURN_IF_ERROR(ctx.client().Call(&Stub::GetExperimentStatus, req, &status));
  ASSIGN_OR_RETURN(std::vector<pb::Event> events,
                   ListEvents(ctx, status.experiment().id(), kDescribeEvents));
  if (ctx.human()) {
    ctx.Write(DescribeExperiment(status, events, ctx.NowMillis(), ctx.color()));
    return absl::OkStatus();
  }
  Int64Encoding encoding = ctx.int64_encoding();
  nlohmann::ordered_json doc = nlohmann::ordered_json::object();
  doc["experiment"] = ProtoToJson(status.experiment(), encoding);
  doc["current_job"] =
      status.has_current_job() ? ProtoToJson(status.current_job(), encoding) : nullptr;
  std::vector<pb::Job> recent(status.recent_jobs().begin(), status.recent_jobs().end());
  doc["recent_jobs"] = ListDocument("jobs", recent, encoding)["jobs"];
  doc["events"] = ListDocument("events", events, encoding)["events"];
  ctx.WriteDocument(doc);
  return absl::OkStatus();
}

void AddDescribe(CLI::App* exp, CommandContext* ctx) {
  auto ref = std::make_shared<std::string>();
  CLI::App* cmd = exp->add_subcommand(
      "describe", "Show an experiment with its state, conditions, jobs and recent events");
  cmd->add_option("ID", *ref, "Experiment id or name")->required();
  SetExamples(cmd, {"skydeck exp describe lr-3e-4", "skydeck exp describe 42 -o json"});
  OnParsed(cmd, ctx, [ctx, ref] { return RunDescribe(*ctx, *ref); });
}

// ---------------------------------------------------------------------------
// start, stop, terminate

struct DesiredStateArgs {
  Selection selection;
  std::string reason;
  // start only: wait for RUNNING, giving up after `timeout`.
  bool wait = false;
  std::string timeout = "10m";
};

// A bulk answer too big to carry its experiments (more than 1,000): for
// people one line, for scripts the counts and the ids (which every verb
// accepts wherever it takes a name).
void PrintBulkSummary(CommandContext& ctx, const std::string& line, int64_t matched,
                      int64_t changed, const google::protobuf::RepeatedField<int64_t>& ids) {
  if (ctx.human()) {
    ctx.Write(line + "\n");
  } else if (ctx.format() == OutputFormat::kName) {
    std::string lines;
    for (int64_t id : ids) absl::StrAppend(&lines, id, "\n");
    ctx.Write(lines);
  } else {
    nlohmann::ordered_json doc = nlohmann::ordered_json::object();
    doc["matched"] = matched;
    doc["changed"] = changed;
    doc["ids"] = nlohmann::ordered_json(std::vector<int64_t>(ids.begin(), ids.end()));
    ctx.WriteDocument(doc);
  }
}

// The experiments with these ids, read back page by page (for --wait after
// a change too big for its answer to carry them). `selector` narrows the
// pages read; the ids decide.
absl::StatusOr<std::vector<pb::Experiment>> ReadBack(
    CommandContext& ctx, const std::string& selector,
    const google::protobuf::RepeatedField<int64_t>& ids) {
  std::set<int64_t> wanted(ids.begin(), ids.end());
  ASSIGN_OR_RETURN(std::vector<pb::Experiment> all, ListMatching(ctx, selector, {}));
  std::vector<pb::Experiment> out;
  for (pb::Experiment& e : all) {
    if (wanted.count(e.id())) out.push_back(std::move(e));
  }
  return out;
}

absl::Status RunSetDesiredState(CommandContext& ctx, const DesiredStateArgs& args,
                                pb::DesiredState state, const std::string& verb) {
  ASSIGN_OR_RETURN(absl::Duration timeout, AsUsage(ParseWaitTimeout(args.timeout)));
  ASSIGN_OR_RETURN(BulkTarget target, BulkTargetOf(ctx, args.selection, verb));
  // One request however many experiments: the daemon applies the selector
  // and the change in one transaction (all or nothing).
  pb::SetDesiredStateRequest req;
  for (const std::string& ref : target.refs) req.add_ids(ref);
  if (target.filter) *req.mutable_filter() = *target.filter;
  req.set_desired_state(state);
  req.set_reason(args.reason);
  pb::SetDesiredStateResponse resp;
  RETURN_IF_ERROR(ctx.client().Call(&Stub::SetDesiredState, req, &resp));
  std::vector<pb::Experiment> changed(resp.experiments().begin(), resp.experiments().end());
  if (resp.experiments_size() == resp.matched()) {
    PrintExperimentList(ctx, changed);
  } else {
    PrintBulkSummary(
        ctx,
        absl::StrCat(resp.matched(), " experiments matched; desired state ", StateName(state),
                     " set on ", resp.changed(), ", the others had it already"),
        resp.matched(), resp.changed(), resp.ids());
    if (args.wait) {
      ASSIGN_OR_RETURN(changed, ReadBack(ctx, args.selection.selector, resp.ids()));
    }
  }
  if (!args.wait) return absl::OkStatus();
  return WaitForExperiments(ctx, changed, pb::OBSERVED_STATE_RUNNING, timeout);
}

void AddDesiredStateVerb(CLI::App* exp, CommandContext* ctx, const std::string& verb,
                         pb::DesiredState state, const std::string& description) {
  auto args = std::make_shared<DesiredStateArgs>();
  CLI::App* cmd = exp->add_subcommand(verb, description);
  AddSelectionOptions(cmd, &args->selection, /*allow_all=*/true);
  cmd->add_option("--reason", args->reason, "Why; recorded on the event");
  if (state == pb::DESIRED_STATE_RUNNING) {
    cmd->add_flag("--wait", args->wait,
                  "Then wait until observed RUNNING (progress on stderr; exit 4 on timeout, "
                  "1 when stalled or failed)");
    cmd->add_option("--timeout", args->timeout, "With --wait: give up after this long; 0: never")
        ->capture_default_str();
  }
  SetExamples(cmd, {
                       absl::StrCat("skydeck exp ", verb, " lr-3e-4"),
                       absl::StrCat("skydeck exp ", verb, " 12 13 14 --reason 'bad data'"),
                       absl::StrCat("skydeck exp ", verb, " -l sweep=lr --state PENDING"),
                       absl::StrCat("skydeck exp ", verb, " --all --yes"),
                   });
  OnParsed(cmd, ctx,
           [ctx, args, state, verb] { return RunSetDesiredState(*ctx, *args, state, verb); });
}

// ---------------------------------------------------------------------------
// star, unstar

absl::Status RunSetStarred(CommandContext& ctx, const Selection& selection, bool starred) {
  const char* verb = starred ? "star" : "unstar";
  ASSIGN_OR_RETURN(BulkTarget target, BulkTargetOf(ctx, selection, verb));
  pb::SetStarredRequest req;
  for (const std::string& ref : target.refs) req.add_ids(ref);
  if (target.filter) *req.mutable_filter() = *target.filter;
  req.set_starred(starred);
  pb::SetStarredResponse resp;
  RETURN_IF_ERROR(ctx.client().Call(&Stub::SetStarred, req, &resp));
  if (resp.experiments_size() == resp.matched()) {
    PrintExperimentList(ctx, {resp.experiments().begin(), resp.experiments().end()});
  } else {
    PrintBulkSummary(ctx,
                     absl::StrCat(resp.matched(), " experiments matched; ", verb, "red ",
                                  resp.changed(), ", the others were already"),
                     resp.matched(), resp.changed(), resp.ids());
  }
  return absl::OkStatus();
}

void AddStarVerb(CLI::App* exp, CommandContext* ctx, bool starred) {
  auto selection = std::make_shared<Selection>();
  std::string verb = starred ? "star" : "unstar";
  CLI::App* cmd = exp->add_subcommand(
      verb, starred ? "Star experiments (a mark, not a spec change: nothing is relaunched)"
                    : "Remove the star from experiments");
  AddSelectionOptions(cmd, selection.get(), /*allow_all=*/true);
  SetExamples(cmd, {
                       absl::StrCat("skydeck exp ", verb, " lr-3e-4 12"),
                       absl::StrCat("skydeck exp ", verb, " -l sweep=lr"),
                       "skydeck exp list --starred",
                   });
  OnParsed(cmd, ctx,
           [ctx, selection, starred] { return RunSetStarred(*ctx, *selection, starred); });
}

// ---------------------------------------------------------------------------
// delete, undelete

struct DeleteArgs {
  Selection selection;
  bool force = false, purge = false;
};

absl::Status RunDelete(CommandContext& ctx, const DeleteArgs& args) {
  ASSIGN_OR_RETURN(BulkTarget target, BulkTargetOf(ctx, args.selection, "delete"));
  // One request: every experiment is deleted, or (e.g. one has a live job
  // and --force is not given) none.
  pb::DeleteExperimentsRequest req;
  for (const std::string& ref : target.refs) req.add_ids(ref);
  if (target.filter) *req.mutable_filter() = *target.filter;
  req.set_force(args.force);
  req.set_purge(args.purge);
  pb::DeleteExperimentsResponse resp;
  RETURN_IF_ERROR(ctx.client().Call(&Stub::DeleteExperiments, req, &resp));
  if (resp.deleted() == 0 && ctx.human()) std::fputs("No experiments matched.\n", stderr);
  bool complete = args.purge || resp.experiments_size() == resp.deleted();
  if (!complete) {
    PrintBulkSummary(ctx, absl::StrCat(resp.deleted(), " experiments deleted"), resp.deleted(),
                     resp.deleted(), resp.ids());
  } else if (ctx.human()) {
    std::string lines;
    if (args.purge) {
      for (int64_t id : resp.ids()) absl::StrAppend(&lines, "experiment ", id, " purged\n");
    } else {
      for (const pb::Experiment& e : resp.experiments()) {
        absl::StrAppend(&lines, "experiment ", e.name(), " (", e.id(), ") deleted\n");
      }
    }
    ctx.Write(lines);
  } else {
    std::vector<pb::Experiment> archived(resp.experiments().begin(), resp.experiments().end());
    ctx.WriteDocument(ListDocument("experiments", archived, ctx.int64_encoding()));
  }
  return absl::OkStatus();
}

void AddDelete(CLI::App* exp, CommandContext* ctx) {
  auto args = std::make_shared<DeleteArgs>();
  CLI::App* cmd = exp->add_subcommand(
      "delete", "Delete (archive) experiments; jobs and events are kept unless --purge");
  cmd->alias("rm");
  AddSelectionOptions(cmd, &args->selection, /*allow_all=*/true);
  cmd->add_flag("--force", args->force,
                "Terminate live jobs instead of refusing, and delete once they ended (the "
                "daemon waits up to the call's deadline; run it again if that passes)");
  cmd->add_flag("--purge", args->purge, "Remove the experiment and its history for good");
  SetExamples(cmd, {"skydeck exp delete lr-3e-4", "skydeck exp delete 12 13 --purge",
                    "skydeck exp delete -l sweep=old --state STOPPED"});
  cmd->footer(std::string(cmd->get_footer()) +
              "\n\nAll the experiments named are deleted in one transaction, or none: one "
              "with a live job refuses the whole delete unless --force.");
  OnParsed(cmd, ctx, [ctx, args] { return RunDelete(*ctx, *args); });
}

void AddUndelete(CLI::App* exp, CommandContext* ctx) {
  auto refs = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = exp->add_subcommand("undelete", "Restore deleted experiments");
  cmd->add_option("ID", *refs, "Numeric ids (see exp list --include-deleted)")->required();
  SetExamples(cmd, {"skydeck exp list --include-deleted", "skydeck exp undelete 12"});
  OnParsed(cmd, ctx, [ctx, refs]() -> absl::Status {
    std::vector<pb::Experiment> restored;
    absl::Status status = RunForEach(*refs, [&](const std::string& ref) -> absl::Status {
      pb::UndeleteExperimentRequest req;
      req.set_id(ref);
      pb::UndeleteExperimentResponse resp;
      RETURN_IF_ERROR(ctx->client().Call(&Stub::UndeleteExperiment, req, &resp));
      restored.push_back(resp.experiment());
      return absl::OkStatus();
    });
    if (!restored.empty() || !ctx->human()) PrintExperimentList(*ctx, restored);
    return status;
  });
}

// ---------------------------------------------------------------------------
// flags

struct FlagsArgs {
  std::string ref;
  std::vector<std::string> words;  // empty, or "set" k=v..., or "unset" k...
};

void PrintFlags(CommandContext& ctx, const pb::Experiment& e) {
  if (ctx.human()) {
    ctx.WriteTable(FlagTable(e.flags()));
    return;
  }
  nlohmann::ordered_json doc = ProtoToJson(e, ctx.int64_encoding());
  ctx.WriteDocument(doc.contains("flags") ? doc["flags"] : nlohmann::ordered_json::object());
}

absl::Status RunFlags(CommandContext& ctx, const FlagsArgs& args) {
  if (args.words.empty()) {
    ASSIGN_OR_RETURN(pb::Experiment e, GetExperiment(ctx, args.ref));
    PrintFlags(ctx, e);
    return absl::OkStatus();
  }
  const std::string& verb = args.words.front();
  std::vector<std::string> rest(args.words.begin() + 1, args.words.end());
  if (verb != "set" && verb != "unset") {
    return UsageError(absl::StrCat("flags: unknown action \"", verb, "\"; use set or unset"));
  }
  if (rest.empty()) {
    return UsageError(verb == "set" ? "flags set: give at least one k=v"
                                    : "flags unset: give at least one key");
  }
  pb::UpdateFlagsRequest req;
  req.set_id(args.ref);
  if (verb == "set") {
    ASSIGN_OR_RETURN(FlagMap set, AsUsage(ParseFlagAssignments(rest)));
    ToProto(set, req.mutable_set());
  } else {
    ASSIGN_OR_RETURN(std::vector<std::string> keys, AsUsage(ParseFlagKeys(rest)));
    for (const std::string& key : keys) req.add_unset(key);
  }
  pb::UpdateFlagsResponse resp;
  RETURN_IF_ERROR(ctx.client().Call(&Stub::UpdateFlags, req, &resp));
  PrintWarnings(resp.warnings());
  PrintFlags(ctx, resp.experiment());
  return absl::OkStatus();
}

void AddFlags(CLI::App* exp, CommandContext* ctx) {
  auto args = std::make_shared<FlagsArgs>();
  CLI::App* cmd = exp->add_subcommand(
      "flags", "Show an experiment's flags, or change them: flags ID set k=v... | unset k...");
  cmd->add_option("ID", args->ref, "Experiment id or name")->required();
  cmd->add_option("ACTION", args->words,
                  "set k=v... (typed as in create; k:=v forces a string) or unset k...");
  SetExamples(cmd, {
                       "skydeck exp flags lr-3e-4",
                       "skydeck exp flags lr-3e-4 set trainer.lr=1e-4 model.layers=16",
                       "skydeck exp flags lr-3e-4 unset tag",
                   });
  OnParsed(cmd, ctx, [ctx, args] { return RunFlags(*ctx, *args); });
}

// ---------------------------------------------------------------------------
// update

struct UpdateArgs {
  std::string ref, cmd, gpu_type, infra, run_name, description, name, link;
  std::vector<std::string> labels;
  // Accepted only to say where flags are changed (`exp flags ID set`).
  std::vector<std::string> flags;
  int32_t nodes = 0, gpus = 0, max_restarts = 0;
  bool spot = false;
  // Which options were given: the update mask names exactly those.
  const CLI::Option *cmd_opt = nullptr, *nodes_opt = nullptr, *gpus_opt = nullptr,
                    *gpu_type_opt = nullptr, *infra_opt = nullptr, *spot_opt = nullptr,
                    *run_name_opt = nullptr, *description_opt = nullptr, *labels_opt = nullptr,
                    *max_restarts_opt = nullptr, *name_opt = nullptr, *link_opt = nullptr;
  WorkloadArgs workload;
};

absl::Status RunUpdate(CommandContext& ctx, const UpdateArgs& args) {
  if (!args.flags.empty()) {
    std::string quoted;
    for (const std::string& f : args.flags) absl::StrAppend(&quoted, " ", ShellQuote(f));
    return UsageError(absl::StrCat("exp update does not change flags; use: skydeck exp flags ",
                                   ShellQuote(args.ref), " set", quoted));
  }
  pb::UpdateExperimentRequest req;
  req.set_id(args.ref);
  pb::Experiment* e = req.mutable_experiment();
  auto given = [&](const CLI::Option* option, const char* path) {
    if (option->count() == 0) return false;
    req.mutable_update_mask()->add_paths(path);
    return true;
  };
  if (given(args.name_opt, "name")) e->set_name(args.name);
  if (given(args.description_opt, "description")) e->set_description(args.description);
  if (given(args.link_opt, "link")) e->set_link(args.link);
  if (given(args.cmd_opt, "base_command")) e->set_base_command(args.cmd);
  if (given(args.run_name_opt, "run_name")) e->set_run_name(args.run_name);
  if (given(args.nodes_opt, "nodes")) e->set_nodes(args.nodes);
  if (given(args.gpus_opt, "gpus")) e->set_gpus(args.gpus);
  if (given(args.gpu_type_opt, "gpu_type")) e->set_gpu_type(args.gpu_type);
  if (given(args.infra_opt, "infra")) e->set_infra(args.infra);
  if (given(args.spot_opt, "spot")) e->set_spot(args.spot);
  if (given(args.max_restarts_opt, "max_restarts")) e->set_max_restarts(args.max_restarts);
  if (given(args.labels_opt, "labels")) {
    ASSIGN_OR_RETURN(auto labels, AsUsage(ParseLabels(args.labels)));
    e->mutable_labels()->insert(labels.begin(), labels.end());
  }
  std::vector<std::string> workload_paths;
  RETURN_IF_ERROR(
      AsUsage(ApplyWorkloadArgs(args.workload, WorkloadVerb::kUpdate, e, &workload_paths))
          .status());
  for (const std::string& path : workload_paths) req.mutable_update_mask()->add_paths(path);
  if (req.update_mask().paths().empty()) {
    return UsageError("update: nothing to change; give at least one option (see --help)");
  }
  // --workdir DIR takes a new snapshot of DIR (the same content: the same id).
  CodeUploader uploader(ctx);
  RETURN_IF_ERROR(AttachWorkdirCode(uploader, e));
  pb::UpdateExperimentResponse resp;
  RETURN_IF_ERROR(ctx.client().Call(&Stub::UpdateExperiment, req, &resp));
  PrintWarnings(resp.warnings());
  PrintExperiment(ctx, resp.experiment());
  return absl::OkStatus();
}

void AddUpdate(CLI::App* exp, CommandContext* ctx) {
  auto args = std::make_shared<UpdateArgs>();
  CLI::App* cmd = exp->add_subcommand(
      "update", "Change an experiment's spec; only the options given are changed");
  cmd->add_option("ID", args->ref, "Experiment id or name")->required();
  args->cmd_opt = cmd->add_option("--cmd", args->cmd, "Base command");
  args->nodes_opt = cmd->add_option("--nodes", args->nodes, "Number of nodes");
  args->gpus_opt = cmd->add_option("--gpus", args->gpus, "GPUs per node");
  args->gpu_type_opt = cmd->add_option("--gpu-type", args->gpu_type, "Accelerator type");
  args->infra_opt = cmd->add_option("--infra", args->infra, "Where to run");
  args->spot_opt = cmd->add_flag("--spot,!--no-spot", args->spot,
                                 "Use (or, with --no-spot, stop using) spot instances");
  args->run_name_opt = cmd->add_option("--run-name", args->run_name, "Run name");
  args->description_opt = cmd->add_option("--description", args->description, "Free text");
  args->link_opt = cmd->add_option("--link", args->link,
                                   "A page about it, an http(s) URL; '' removes it");
  args->labels_opt =
      cmd->add_option("--label", args->labels, "Label k=v; repeatable. Replaces ALL labels")
          ->allow_extra_args(false);
  args->max_restarts_opt = cmd->add_option("--max-restarts", args->max_restarts, "Restart budget");
  args->name_opt = cmd->add_option("--name", args->name, "New name");
  cmd->add_option("--flag", args->flags, "Not here: flags change with `exp flags ID set k=v`")
      ->allow_extra_args(false)
      ->group("");  // hidden: it only explains
  AddWorkloadOptions(cmd, &args->workload, WorkloadVerb::kUpdate);
  SetExamples(
      cmd,
      {
          "skydeck exp update lr-3e-4 --workdir .   # run the code of this directory next time",
          "skydeck exp update lr-3e-4 --template h100 --env NCCL_DEBUG=INFO",
          "skydeck exp update lr-3e-4 --gpus 8 --gpu-type H100",
          "skydeck exp update 42 --no-spot --label sweep=lr --label team=nlp",
          "skydeck exp update lr-3e-4 --name lr-3e-4-old",
      });
  OnParsed(cmd, ctx, [ctx, args] { return RunUpdate(*ctx, *args); });
}

// ---------------------------------------------------------------------------
// jobs, logs, events

struct LimitArgs {
  std::string ref;
  int limit = 0;
};

absl::Status RunJobs(CommandContext& ctx, const LimitArgs& args) {
  pb::ListJobsRequest req;
  req.set_id(args.ref);
  std::vector<pb::Job> jobs;
  while (true) {
    req.set_page_size(PageSizeFor(args.limit, jobs.size()));
    pb::ListJobsResponse resp;
    RETURN_IF_ERROR(ctx.client().Call(&Stub::ListJobs, req, &resp));
    jobs.insert(jobs.end(), resp.jobs().begin(), resp.jobs().end());
    bool full = args.limit > 0 && static_cast<int>(jobs.size()) >= args.limit;
    if (resp.next_page_token().empty() || full) break;
    req.set_page_token(resp.next_page_token());
  }
  if (!ctx.human()) {
    ctx.WriteDocument(ListDocument("jobs", jobs, ctx.int64_encoding()));
  } else if (jobs.empty()) {
    std::fputs("No jobs yet.\n", stderr);
  } else {
    ctx.WriteTable(JobTable(jobs, ctx.NowMillis(), ctx.color()));
  }
  return absl::OkStatus();
}

absl::Status RunEvents(CommandContext& ctx, const LimitArgs& args) {
  ASSIGN_OR_RETURN(int64_t id, ResolveExperimentId(ctx, args.ref));
  ASSIGN_OR_RETURN(std::vector<pb::Event> events, ListEvents(ctx, id, args.limit));
  if (ctx.human()) {
    ctx.WriteTable(EventTable(events, ctx.NowMillis()));
  } else {
    ctx.WriteDocument(ListDocument("events", events, ctx.int64_encoding()));
  }
  return absl::OkStatus();
}

void AddJobs(CLI::App* exp, CommandContext* ctx) {
  auto args = std::make_shared<LimitArgs>();
  CLI::App* cmd = exp->add_subcommand("jobs", "List an experiment's jobs, newest first");
  cmd->add_option("ID", args->ref, "Experiment id or name")->required();
  cmd->add_option("--limit", args->limit, "At most N jobs (default: all)")->check(NonNegative());
  SetExamples(cmd, {"skydeck exp jobs lr-3e-4", "skydeck exp jobs 42 --limit 5 -o json"});
  OnParsed(cmd, ctx, [ctx, args] { return RunJobs(*ctx, *args); });
}

void AddEvents(CLI::App* exp, CommandContext* ctx) {
  auto args = std::make_shared<LimitArgs>();
  args->limit = 100;
  CLI::App* cmd = exp->add_subcommand("events", "List an experiment's events, newest first");
  cmd->add_option("ID", args->ref, "Experiment id or name")->required();
  cmd->add_option("--limit", args->limit, "At most N events; 0: all")
      ->capture_default_str()
      ->check(NonNegative());
  SetExamples(cmd, {"skydeck exp events lr-3e-4", "skydeck exp events 42 --limit 0 -o yaml"});
  OnParsed(cmd, ctx, [ctx, args] { return RunEvents(*ctx, *args); });
}

struct LogsArgs {
  std::string ref;
  LogOptions log;
};

absl::Status RunLogs(CommandContext& ctx, const LogsArgs& args) {
  pb::GetJobLogsRequest logs;
  RETURN_IF_ERROR(FillLogsRequest(args.log, &logs));
  pb::GetExperimentStatusRequest req;
  req.set_id(args.ref);
  req.set_recent_jobs(1);
  pb::GetExperimentStatusResponse status;
  RETURN_IF_ERROR(ctx.client().Call(&Stub::GetExperimentStatus, req, &status));
  int64_t job_id = status.has_current_job()        ? status.current_job().id()
                   : status.recent_jobs_size() > 0 ? status.recent_jobs(0).id()
                                                   : 0;
  if (job_id == 0) {
    return absl::NotFoundError(
        absl::StrCat("experiment ", args.ref, " has no jobs yet; start it first"));
  }
  logs.set_id(job_id);
  return PrintJobLogs(ctx, std::move(logs));
}

void AddLogs(CLI::App* exp, CommandContext* ctx) {
  auto args = std::make_shared<LogsArgs>();
  CLI::App* cmd = exp->add_subcommand(
      "logs",
      "Print the log of the experiment's current (or most recent) job; exit code 5 when it failed");
  cmd->add_option("ID", args->ref, "Experiment id or name")->required();
  AddLogOptions(cmd, &args->log);
  SetExamples(cmd, {"skydeck exp logs lr-3e-4", "skydeck exp logs lr-3e-4 -f --tail 20",
                    "skydeck exp logs lr-3e-4 --tail-bytes 64KiB"});
  OnParsed(cmd, ctx, [ctx, args] { return RunLogs(*ctx, *args); });
}

}  // namespace

void AddExpCommands(CLI::App* app, CommandContext* ctx) {
  CLI::App* exp = app->add_subcommand("exp", "Create, inspect and control experiments");
  exp->alias("experiment");
  exp->require_subcommand(1);
  AddCreate(exp, ctx);
  AddList(exp, ctx);
  AddGet(exp, ctx);
  AddDescribe(exp, ctx);
  AddDesiredStateVerb(exp, ctx, "start", pb::DESIRED_STATE_RUNNING,
                      "Set desired state RUNNING (on a finished or stalled experiment: run again)");
  AddDesiredStateVerb(exp, ctx, "stop", pb::DESIRED_STATE_STOPPED,
                      "Set desired state STOPPED: cancel the live job; start resumes later");
  AddDesiredStateVerb(exp, ctx, "terminate", pb::DESIRED_STATE_TERMINATED,
                      "Set desired state TERMINATED: cancel and tear down; never relaunched");
  AddStarVerb(exp, ctx, /*starred=*/true);
  AddStarVerb(exp, ctx, /*starred=*/false);
  AddDelete(exp, ctx);
  AddUndelete(exp, ctx);
  AddFlags(exp, ctx);
  AddUpdate(exp, ctx);
  AddJobs(exp, ctx);
  AddLogs(exp, ctx);
  AddEvents(exp, ctx);
  SetExamples(
      exp, {
               "skydeck exp create lr-3e-4 --cmd 'python train.py' --flag trainer.lr=3e-4 --start",
               "skydeck exp list -l sweep=lr",
               "skydeck exp describe lr-3e-4",
           });
}

}  // namespace skydeck::cli
