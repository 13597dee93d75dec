// File: cli/main.cc
//
// skydeck: the command-line client of skydeckd. Builds the command tree,
// parses, runs the one chosen verb and turns the outcome into an exit code
// (0 ok, 1 the daemon refused, 2 usage error, 3 daemon unreachable). CLI11's
// exceptions end here; no verb sees them.
#include <iostream>

#include "CLI/CLI.hpp"
#include "cli/command.h"

#ifndef SKYDECK_VERSION
#define SKYDECK_VERSION "unknown"
#endif

int main(int argc, char** argv) {
  using namespace skydeck::cli;

  CLI::App app("skydeck: declare ML experiments and keep them RUNNING, STOPPED or "
               "TERMINATED with skydeckd",
               "skydeck");
  // Global options may follow the verb (`skydeck exp get a -o json`):
  // subcommands created below inherit this and pass unknown options up.
  app.fallthrough();
  app.require_subcommand(1);
  app.set_version_flag("--version", "skydeck " SKYDECK_VERSION, "Print the client version");

  CommandContext ctx;
  app.add_option("--server", ctx.options().server,
                 "skydeckd address HOST:PORT (env SKYDECK_SERVER; default 127.0.0.1:50051)");
  app.add_option("-o,--output", ctx.options().output,
                 "Output format: table, wide, json, yaml or name (one per line)")
      ->check(CLI::IsMember({"table", "wide", "json", "yaml", "name"}))
      ->capture_default_str();

  app.add_flag("--no-headers", ctx.options().no_headers, "Tables without the header line");
  AddExpCommands(&app, &ctx);
  AddJobCommands(&app, &ctx);
  AddSystemCommands(&app, &ctx);
  AddSchemaCommands(&app, &ctx);
  AddSweepCommands(&app, &ctx);
  AddWaitCommand(&app, &ctx);
  AddApplyCommands(&app, &ctx);
  AddCompletionCommand(&app, &ctx);
  app.footer(
      "\nExit codes: 0 ok, 1 the daemon refused (message on stderr), 2 usage error, 3 "
      "daemon unreachable, 4 wait timed out.\n"
      "\nExamples:\n"
      "  skydeck exp create lr-3e-4 --cmd 'python train.py' --flag trainer.lr=3e-4 --start\n"
      "  skydeck exp list -o json\n"
      "  skydeck exp logs lr-3e-4 -f\n"
      "  skydeck --server 10.0.0.5:50051 health");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version print to stdout and exit 0; every other parse
    // error is a usage error, whatever code CLI11 would pick.
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    PrintError(UsageError(e.what()));
    std::cerr << "Run with --help for usage.\n";
    return kExitUsage;
  }

  absl::Status status = ctx.Run();
  if (!status.ok()) PrintError(status);
  return ExitCodeFor(status);
}
