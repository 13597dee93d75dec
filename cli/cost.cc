// File: cli/cost.cc
//
// `skydeck cost`: GPU-hours and cost of jobs, added up by the daemon
// (GetCost) for the experiments a label selector picks, over a window, per
// experiment, label value or GPU type.
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "cli/command.h"
#include "cli/since_flag.h"
#include "cli/views.h"
#include "common/model/proto_convert.h"
#include "common/status_macros.h"

namespace skydeck::cli {
namespace {

using Stub = pb::SkyDeck::Stub;

struct CostArgs {
  std::string selector, since, by;
  bool include_deleted = false;
};

// "experiment", "gpu-type"/"gpu_type", "label:KEY", or a bare label KEY.
std::string GroupBy(const std::string& by) {
  if (by.empty() || by == "experiment") return by;
  if (by == "gpu-type" || by == "gpu_type" || by == "gpu") return "gpu_type";
  if (absl::StartsWith(by, "label:")) return by;
  return absl::StrCat("label:", by);
}

std::string Hours(double h) { return absl::StrFormat("%.2f", h); }

std::vector<std::string> Row(const std::string& key, const pb::CostLine& l, bool has_prices) {
  return {key,
          Hours(l.gpu_hours()),
          has_prices ? CostText(l.cost()) : "-",
          l.unpriced_gpu_hours() > 0 ? Hours(l.unpriced_gpu_hours()) : "-",
          absl::StrCat(l.job_count()),
          absl::StrCat(l.live_job_count())};
}

std::string Render(const pb::GetCostResponse& resp, const std::string& by) {
  std::string key_header = by.empty()                        ? ""
                           : by == "experiment"              ? "EXPERIMENT"
                           : by == "gpu_type"                ? "GPU-TYPE"
                                                             : absl::AsciiStrToUpper(by.substr(6));
  Table table({key_header.empty() ? "" : key_header, "GPU-HOURS", "COST", "UNPRICED-GPU-HOURS",
               "JOBS", "RUNNING"});
  for (const pb::CostLine& l : resp.lines()) {
    table.AddRow(Row(l.key().empty() ? "(none)" : l.key(), l, resp.has_prices()));
  }
  table.AddRow(Row("TOTAL", resp.total(), resp.has_prices()));
  std::string out = table.Render();
  if (!resp.has_prices()) {
    absl::StrAppend(&out,
                    "no prices: start skydeckd with --prices FILE to see costs (README, "
                    "\"GPU-hours and cost\")\n");
  } else if (resp.total().unpriced_gpu_hours() > 0) {
    absl::StrAppend(&out,
                    "some GPU types have no price in skydeckd's --prices: their GPU-hours are "
                    "in UNPRICED-GPU-HOURS, not in COST\n");
  }
  return out;
}

}  // namespace

void AddCostCommand(CLI::App* app, CommandContext* ctx) {
  auto args = std::make_shared<CostArgs>();
  CLI::App* cmd = app->add_subcommand(
      "cost",
      "GPU-hours (nodes x GPUs x running time, preemption gaps excluded) and their cost by "
      "skydeckd's --prices, added up by the daemon; running jobs count up to now");
  cmd->add_option("-l,--selector", args->selector,
                  "Only experiments matching this label selector, e.g. sweep=lr");
  cmd->add_option("--since", args->since,
                  "Only running time after this: 7d, 12h, 2w, or 2026-12-01 (default: all time)");
  cmd->add_option("--by", args->by,
                  "One line per: experiment, gpu-type, or a label KEY (label:KEY); default: "
                  "only the total");
  cmd->add_flag("--include-deleted", args->include_deleted,
                "Count deleted (archived) experiments' jobs too");
  SetExamples(cmd, {"skydeck cost", "skydeck cost --by experiment --since 7d",
                    "skydeck cost -l team=nlp --by sweep", "skydeck cost --by gpu-type -o json"});
  OnParsed(cmd, ctx, [ctx, args]() -> absl::Status {
    pb::GetCostRequest req;
    req.set_label_selector(args->selector);
    if (!args->since.empty()) {
      ASSIGN_OR_RETURN(int64_t since, AsUsage(ParseSince(args->since, ctx->NowMillis())));
      ToProtoTime(since, req.mutable_since());
    }
    std::string by = GroupBy(args->by);
    req.set_group_by(by);
    req.set_include_deleted(args->include_deleted);
    pb::GetCostResponse resp;
    RETURN_IF_ERROR(ctx->client().Call(&Stub::GetCost, req, &resp));
    if (ctx->human()) {
      ctx->Write(Render(resp, by));
    } else {
      ctx->WriteDocument(ProtoToJson(resp, ctx->int64_encoding()));
    }
    return absl::OkStatus();
  });
}

}  // namespace skydeck::cli
