// File: web/bridge/sse_keepalive_flag.h
//
// The keep-alive flag of event streams, spelled and parsed the same way by
// skydeckd and skydeck-web (they disagreed: `--sse-keepalive 15s` vs
// `--sse-keepalive-ms 15000`):
//
//   CLI::App app;
//   absl::Duration keepalive = absl::Seconds(15);
//   CLI::Option* flag = AddSseKeepaliveFlag(app, &keepalive);
//   AddDeprecatedSseKeepaliveMsFlag(app, flag, &keepalive);  // skydeck-web
//   app.parse(argc, argv);  // keepalive now holds the flag's value
#pragma once

#include "absl/time/time.h"

#include "CLI/CLI.hpp"

namespace skydeck::web {

// The shortest keep-alive interval accepted.
inline constexpr absl::Duration kMinSseKeepalive = absl::Milliseconds(10);

// AddSseKeepaliveFlag()
//
// Adds --sse-keepalive DURATION, read by ParseDurationFlag
// (common/duration_flag.h: "15s", "500ms", plain seconds), at least
// kMinSseKeepalive; anything else is a CLI11 validation error naming the
// flag. The help shows *keepalive as the default. `keepalive` must outlive
// parsing. Returns the option (for excludes()).
CLI::Option* AddSseKeepaliveFlag(CLI::App& app, absl::Duration* keepalive);

// AddDeprecatedSseKeepaliveMsFlag()
//
// Adds --sse-keepalive-ms N, skydeck-web's older spelling (milliseconds, at
// least 10), kept so existing command lines work; it cannot be combined
// with `keepalive_flag`. Listed under "Deprecated" in --help; the caller
// may warn when app.count("--sse-keepalive-ms") > 0.
void AddDeprecatedSseKeepaliveMsFlag(CLI::App& app, CLI::Option* keepalive_flag,
                                     absl::Duration* keepalive);

}  // namespace skydeck::web
