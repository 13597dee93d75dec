// File: common/model/command_line.h
//
// Renders an experiment into the exact command line a job runs: the base
// command (trusted shell text written by the user), then every flag as one
// single-quoted `key=value` argument, sorted by key. No flag key or value
// can inject shell syntax: each argument is POSIX single-quoted, with
// embedded single quotes written as '\''.
//
//   RenderCommand("python train.py", {{"trainer.lr", 3e-4}, {"name", "a b"}})
//   // python train.py 'name=a b' 'trainer.lr=0.0003'
#pragma once

#include <string>

#include "absl/strings/string_view.h"

#include "common/model/flag_value.h"

namespace skydeck {

// One POSIX shell word with the value `text`, e.g. it's -> 'it'\''s'.
std::string ShellQuote(absl::string_view text);

std::string RenderCommand(absl::string_view base_command, const FlagMap& flags);

}  // namespace skydeck
