// File: cli/suggest.h
//
// "did you mean" for a mistyped command: `skydeck exp lst` names the
// closest subcommand instead of CLI11's "A subcommand is required".
#pragma once

#include <string>
#include <vector>

#include "CLI/CLI.hpp"

namespace skydeck::cli {

// SuggestSubcommand()
//
// Follows `args` (argv without the program name) down the command tree of
// `root` and, at the first word that names no subcommand of a command that
// has subcommands, returns a message such as
//   unknown command "lst" for "skydeck exp"; did you mean "list"?
// (or the list of its commands when none is close: within 2 edits, or a
// prefix). Option values are skipped (`--server H lst` looks at "lst").
// "" when every word names a command, so CLI11's own message stands.
std::string SuggestSubcommand(const CLI::App& root, const std::vector<std::string>& args);

}  // namespace skydeck::cli
