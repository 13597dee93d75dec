// File: cli/notify.cc
//
// `skydeck notify test [--sink NAME]`: sends a test message through the
// daemon's notification sinks (skydeckd --notify) and prints each answer.
// Exit 1 when a sink failed, so scripts and CI can check a webhook.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"

#include "cli/command.h"
#include "cli/output.h"
#include "common/status_macros.h"

namespace skydeck::cli {
namespace {

using Stub = pb::SkyDeck::Stub;

std::string ResultTable(const pb::TestNotifyResponse& resp) {
  Table table({"SINK", "URL", "RESULT", "TIME"});
  for (const auto& r : resp.results()) {
    table.AddRow({r.sink(), r.url(), r.ok() ? "ok" : OneLine(absl::StrCat("FAILED: ", r.error())),
                  absl::StrCat(r.duration_ms(), "ms")});
  }
  return table.Render();
}

}  // namespace

void AddNotifyCommands(CLI::App* app, CommandContext* ctx) {
  CLI::App* noun = app->add_subcommand("notify", "Notifications: the sinks of skydeckd --notify");
  noun->require_subcommand(1);
  SetExamples(noun,
              {"skydeck notify test", "skydeck health   # each sink: ok, retrying or FAILING"});
  auto sink = std::make_shared<std::string>();
  CLI::App* test = noun->add_subcommand(
      "test", "Send a test message through each notification sink and report the answers");
  test->add_option("--sink", *sink, "Only this sink (its name in the notify file)");
  SetExamples(test, {"skydeck notify test", "skydeck notify test --sink team-slack -o json"});
  OnParsed(test, ctx, [ctx, sink]() -> absl::Status {
    pb::TestNotifyRequest req;
    req.set_sink(*sink);
    pb::TestNotifyResponse resp;
    RETURN_IF_ERROR(ctx->client().Call(&Stub::TestNotify, req, &resp));
    if (ctx->human()) {
      ctx->Write(ResultTable(resp));
    } else {
      ctx->WriteDocument(ProtoToJson(resp, ctx->int64_encoding()));
    }
    int failed = 0;
    for (const auto& r : resp.results()) failed += r.ok() ? 0 : 1;
    if (failed > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          failed, " of ", resp.results_size(), " sinks failed the test (see RESULT above)"));
    }
    return absl::OkStatus();
  });
}

}  // namespace skydeck::cli
