// File: web/bridge/http_limit_flags.h
//
// The command-line flags of HttpLimits, shared by skydeckd and skydeck-web
// so both edges are tuned the same way:
//
//   CLI::App app;
//   HttpLimits limits;
//   AddHttpLimitFlags(app, &limits);
//   app.parse(argc, argv);  // limits now holds the flags' values
#pragma once

#include "CLI/CLI.hpp"
#include "web/bridge/http_limits.h"

namespace skydeck::web {

// Adds --http-max-connections, --http-max-connections-per-client,
// --http-max-streams, --http-header-timeout and --http-idle-timeout.
// Durations take a unit (10s, 500ms, 2m); an invalid value is a CLI11
// validation error naming the flag. `limits` must outlive parsing.
void AddHttpLimitFlags(CLI::App& app, HttpLimits* limits);

}  // namespace skydeck::web
