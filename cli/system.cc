// File: cli/system.cc
//
// Daemon-wide commands: `health`, `version`, `refresh`, `reconcile`.
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"

#include "cli/command.h"
#include "cli/views.h"
#include "common/status_macros.h"

#ifndef SKYDECK_VERSION
#define SKYDECK_VERSION "unknown"
#endif

namespace skydeck::cli {
namespace {

using Stub = pb::SkyDeck::Stub;

void AddHealth(CLI::App* app, CommandContext* ctx) {
  CLI::App* cmd = app->add_subcommand(
      "health", "Show the daemon's health: version, backend, last poll, experiments by state");
  SetExamples(cmd, {"skydeck health", "skydeck health -o json"});
  // A DEGRADED daemon still answered: that is exit 0, the status says the rest.
  OnParsed(cmd, ctx, [ctx]() -> absl::Status {
    pb::GetHealthResponse resp;
    RETURN_IF_ERROR(ctx->client().Call(&Stub::GetHealth, pb::GetHealthRequest(), &resp));
    if (ctx->human()) {
      ctx->Write(RenderKeyValues(HealthDetails(resp.health(), ctx->NowMillis())));
    } else {
      ctx->WriteDocument(ProtoToJson(resp.health(), ctx->int64_encoding()));
    }
    return absl::OkStatus();
  });
}

void AddVersion(CLI::App* app, CommandContext* ctx) {
  CLI::App* cmd =
      app->add_subcommand("version", "Print the versions of skydeck and, when reachable, skydeckd");
  SetExamples(cmd, {"skydeck version", "skydeck version -o json"});
  // The client's version is worth printing even when no daemon runs, so a
  // failed GetHealth is a note on stderr, not an error.
  OnParsed(cmd, ctx, [ctx]() -> absl::Status {
    pb::GetHealthResponse resp;
    absl::Status daemon = ctx->client().Call(&Stub::GetHealth, pb::GetHealthRequest(), &resp);
    if (ctx->human()) {
      std::string text = absl::StrCat("skydeck ", SKYDECK_VERSION, "\n");
      if (daemon.ok()) absl::StrAppend(&text, "skydeckd ", resp.health().version(), "\n");
      ctx->Write(text);
    } else {
      nlohmann::ordered_json doc = {{"skydeck", SKYDECK_VERSION}};
      if (daemon.ok()) doc["skydeckd"] = resp.health().version();
      ctx->WriteDocument(doc);
    }
    if (!daemon.ok()) std::cerr << "skydeck: note: no daemon version: " << daemon.message() << "\n";
    return absl::OkStatus();
  });
}

void AddRefresh(CLI::App* app, CommandContext* ctx) {
  CLI::App* cmd = app->add_subcommand(
      "refresh", "Poll the backend for job statuses now instead of at the next tick");
  SetExamples(cmd, {"skydeck refresh"});
  OnParsed(cmd, ctx, [ctx]() -> absl::Status {
    pb::RefreshResponse resp;
    // A poll waits for the backend (the daemon bounds it per operation).
    RETURN_IF_ERROR(
        ctx->client().Call(&Stub::Refresh, pb::RefreshRequest(), &resp, kBackendCallDeadline));
    if (ctx->human()) {
      ctx->Write(absl::StrCat("polled ", resp.jobs_polled(),
                              resp.jobs_polled() == 1 ? " job" : " jobs", "\n"));
    } else {
      ctx->WriteDocument(ProtoToJson(resp, ctx->int64_encoding()));
    }
    return absl::OkStatus();
  });
}

void AddReconcile(CLI::App* app, CommandContext* ctx) {
  auto ref = std::make_shared<std::string>();
  CLI::App* cmd =
      app->add_subcommand("reconcile", "Reconcile one experiment, or all live ones, now");
  cmd->add_option("ID", *ref, "Experiment id or name (default: all)");
  SetExamples(cmd, {"skydeck reconcile", "skydeck reconcile lr-3e-4"});
  OnParsed(cmd, ctx, [ctx, ref]() -> absl::Status {
    pb::ReconcileRequest req;
    req.set_id(*ref);
    pb::ReconcileResponse resp;
    RETURN_IF_ERROR(ctx->client().Call(&Stub::Reconcile, req, &resp));
    if (ctx->human()) {
      ctx->Write(absl::StrCat("enqueued ", resp.enqueued(),
                              resp.enqueued() == 1 ? " experiment" : " experiments", "\n"));
    } else {
      ctx->WriteDocument(ProtoToJson(resp, ctx->int64_encoding()));
    }
    return absl::OkStatus();
  });
}

}  // namespace

void AddSystemCommands(CLI::App* app, CommandContext* ctx) {
  AddHealth(app, ctx);
  AddVersion(app, ctx);
  AddRefresh(app, ctx);
  AddReconcile(app, ctx);
}

}  // namespace skydeck::cli
