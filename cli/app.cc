// File: cli/app.cc
#include "cli/app.h"

#ifndef SKYDECK_VERSION
#define SKYDECK_VERSION "unknown"
#endif

namespace skydeck::cli {

void BuildCommandTree(CLI::App* app, CommandContext* ctx) {
  // Global options may follow the verb (`skydeck exp get a -o json`):
  // subcommands created below inherit this and pass unknown options up.
  app->fallthrough();
  app->require_subcommand(1);
  app->set_version_flag("--version", "skydeck " SKYDECK_VERSION, "Print the client version");

  app->add_option("--server", ctx->options().server,
                  "skydeckd address HOST:PORT (env SKYDECK_SERVER; default 127.0.0.1:50051)");
  app->add_option("-o,--output", ctx->options().output,
                  "Output format: table, wide, json, yaml or name (one per line)")
      ->check(CLI::IsMember(OutputFormatNames()))
      ->capture_default_str();

  app->add_flag("--no-headers", ctx->options().no_headers, "Tables without the header line");
  AddExpCommands(app, ctx);
  AddJobCommands(app, ctx);
  AddSystemCommands(app, ctx);
  AddNotifyCommands(app, ctx);
  AddSchemaCommands(app, ctx);
  AddTemplateCommands(app, ctx);
  AddSweepCommands(app, ctx);
  AddWaitCommand(app, ctx);
  AddBackupCommand(app, ctx);
  AddCostCommand(app, ctx);
  AddImportCommand(app, ctx);
  AddApplyCommands(app, ctx);
  AddCompletionCommand(app, ctx);
  AddCompleteFlagsCommand(app, ctx);
  app->footer(
      "\nExit codes: 0 ok, 1 the daemon refused (message on stderr), 2 usage error, 3 "
      "daemon unreachable, 4 wait timed out.\n"
      "\nEnvironment: SKYDECK_SERVER (the daemon's address), SKYDECK_AUTH_TOKEN (sent as "
      "a bearer token to a daemon started with --auth-token-file), NO_COLOR (no colour "
      "even on a terminal).\n"
      "\nExamples:\n"
      "  skydeck exp create lr-3e-4 --cmd 'python train.py' --flag trainer.lr=3e-4 --start\n"
      "  skydeck exp list -o json\n"
      "  skydeck exp logs lr-3e-4 -f\n"
      "  skydeck --server 10.0.0.5:50051 health");
}

}  // namespace skydeck::cli
