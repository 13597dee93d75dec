// File: cli/app.h
//
// The whole `skydeck` command tree: global options, every noun and verb,
// the root help footer. main() builds it and parses; tests build the same
// tree to walk it (every command has examples) without a daemon.
//
//   CLI::App app(kAppDescription, "skydeck");
//   CommandContext ctx;
//   BuildCommandTree(&app, &ctx);
//   app.parse(argc, argv);
#pragma once

#include "absl/strings/string_view.h"

#include "CLI/CLI.hpp"
#include "cli/command.h"

namespace skydeck::cli {

inline constexpr absl::string_view kAppDescription =
    "skydeck: declare ML experiments and keep them RUNNING, STOPPED or TERMINATED with skydeckd";

// Adds the global options and every command to `app`, whose parsed values
// and chosen verb land in `ctx`. REQUIRES: `app` is empty; both outlive the
// parse and ctx->Run().
void BuildCommandTree(CLI::App* app, CommandContext* ctx);

}  // namespace skydeck::cli
