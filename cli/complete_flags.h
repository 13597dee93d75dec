// File: cli/complete_flags.h
//
// Flag names and values for shell completion, from the daemon's flag
// schemas (declared, else inferred from the flags already used): what
// `--flag <TAB>`, `--grid <TAB>` and `exp flags ID set <TAB>` offer. The
// hidden command `skydeck __complete-flags` prints them, one per line; the
// scripts of cli/completion.cc call it with the words typed so far, and
// the pure pieces below decide what those words mean.
//
//   skydeck __complete-flags --cmd 'python train.py'
//   // trainer.lr=
//   // trainer.optim=
//   // trainer.optim=adam
//   // trainer.optim=sgd
//   skydeck __complete-flags -- exp flags lr-a set     // lr-a's base command
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

#include "skydeck/v1/service.pb.h"

namespace skydeck::cli {

namespace pb = ::skydeck::v1;

// ShellUnquote()
//
// A word as the shell would pass it, from the text typed: quotes removed,
// backslash escapes resolved. Nothing is expanded ($x stays "$x"); an
// unterminated quote runs to the end (the user is still typing it).
//   ShellUnquote("'python train.py'") == "python train.py"
//   ShellUnquote("\"a \\\"b\\\"\"") == "a \"b\""
//   ShellUnquote("a\\ b") == "a b"
std::string ShellUnquote(absl::string_view word);

// What the words typed so far (after "skydeck", as the shell holds them,
// still quoted) say about the flags being completed.
struct FlagCompletionContext {
  // The value of --cmd (`--cmd X`, `--cmd=X`, `--cmd = X`), unquoted.
  std::string base_command;
  // `exp flags ID set|unset ...`: the experiment.
  std::string experiment;
  // `exp flags ID unset ...`: only the experiment's own flag keys, no values.
  bool keys_only = false;
};

FlagCompletionContext FindFlagCompletionContext(const std::vector<std::string>& words);

// FlagCandidates()
//
// The completions for the schemas in `schemas` (all of them, or the one of
// the command): per flag "NAME=", then "NAME=VALUE" for each choice, for
// true/false of a bool, and for each value already seen (inferred
// schemas). Sorted, without duplicates.
std::vector<std::string> FlagCandidates(const pb::ListFlagSchemasResponse& schemas);

}  // namespace skydeck::cli
