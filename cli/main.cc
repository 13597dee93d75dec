// File: cli/main.cc
//
// skydeck: the command-line client of skydeckd. Builds the command tree
// (cli/app.h), parses, runs the one chosen verb and turns the outcome into
// an exit code (0 ok, 1 the daemon refused, 2 usage error, 3 daemon
// unreachable, 4 wait timed out). CLI11's exceptions end here; no verb sees
// them.
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "cli/app.h"
#include "cli/command.h"
#include "cli/suggest.h"

int main(int argc, char** argv) {
  using namespace skydeck::cli;

  CLI::App app(std::string(kAppDescription), "skydeck");
  CommandContext ctx;
  BuildCommandTree(&app, &ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version print to stdout and exit 0; every other parse
    // error is a usage error, whatever code CLI11 would pick.
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    // A mistyped command says which one was meant rather than "A
    // subcommand is required".
    std::string suggestion =
        SuggestSubcommand(app, std::vector<std::string>(argv + 1, argv + argc));
    PrintError(UsageError(suggestion.empty() ? e.what() : suggestion));
    std::cerr << "Run with --help for usage.\n";
    return kExitUsage;
  }

  absl::Status status = ctx.Run();
  if (!status.ok()) PrintError(status);
  return ExitCodeFor(status);
}
