// File: cli/complete_flags.cc
//
// The pure helpers of complete_flags.h and the hidden `__complete-flags`
// command the completion scripts call.
#include "cli/complete_flags.h"

#include <memory>
#include <set>

#include "absl/strings/match.h"

#include "cli/command.h"
#include "common/model/flag_value.h"
#include "common/model/proto_convert.h"
#include "common/status_macros.h"

namespace skydeck::cli {
namespace {

using Stub = pb::SkyDeck::Stub;

}  // namespace

std::string ShellUnquote(absl::string_view word) {
  std::string out;
  char quote = 0;  // ' or " while inside quotes
  for (size_t i = 0; i < word.size(); ++i) {
    char c = word[i];
    if (quote == '\'') {
      if (c == '\'') {
        quote = 0;
      } else {
        out += c;
      }
    } else if (c == '\\' && i + 1 < word.size() &&
               (quote == 0 ||
                absl::string_view("\"\\$`").find(word[i + 1]) != absl::string_view::npos)) {
      out += word[++i];
    } else if (quote == '"') {
      if (c == '"') {
        quote = 0;
      } else {
        out += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else {
      out += c;
    }
  }
  return out;
}

FlagCompletionContext FindFlagCompletionContext(const std::vector<std::string>& words) {
  FlagCompletionContext out;
  std::vector<std::string> plain;  // the words that are not options, in order
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w == "--cmd") {
      // bash splits `--cmd=X` into "--cmd", "=", "X" (= is a word break).
      size_t value = i + 1;
      if (value < words.size() && words[value] == "=") ++value;
      if (value < words.size()) out.base_command = ShellUnquote(words[value]);
      i = value;
    } else if (absl::StartsWith(w, "--cmd=")) {
      out.base_command = ShellUnquote(w.substr(6));
    } else if (!absl::StartsWith(w, "-")) {
      plain.push_back(w);
    }
  }
  // exp flags ID set|unset, wherever it starts: values of global options
  // (`-o json exp flags ...`) are plain words too.
  for (size_t i = 0; i + 3 < plain.size(); ++i) {
    if ((plain[i] == "exp" || plain[i] == "experiment") && plain[i + 1] == "flags" &&
        (plain[i + 3] == "set" || plain[i + 3] == "unset")) {
      out.experiment = ShellUnquote(plain[i + 2]);
      out.keys_only = plain[i + 3] == "unset";
      break;
    }
  }
  return out;
}

std::vector<std::string> FlagCandidates(const pb::ListFlagSchemasResponse& schemas) {
  std::set<std::string> out;
  for (const pb::CommandFlagSchema& schema : schemas.schemas()) {
    for (const pb::FlagSchema& flag : schema.flags()) {
      std::string prefix = flag.name() + "=";
      out.insert(prefix);
      for (const std::string& choice : flag.choices()) out.insert(prefix + choice);
      if (flag.type() == pb::FlagSchema::TYPE_BOOL) {
        out.insert(prefix + "true");
        out.insert(prefix + "false");
      }
      for (const pb::FlagValue& seen : flag.seen_values()) {
        absl::StatusOr<FlagValue> value = FromProto(seen);
        if (value.ok()) out.insert(prefix + FormatFlagValue(*value));
      }
    }
  }
  return {out.begin(), out.end()};
}

namespace {

struct CompleteFlagsArgs {
  std::string command, experiment;
  std::vector<std::string> words;
};

absl::Status RunCompleteFlags(CommandContext& ctx, const CompleteFlagsArgs& args) {
  FlagCompletionContext where = FindFlagCompletionContext(args.words);
  if (!args.command.empty()) where.base_command = args.command;
  if (!args.experiment.empty()) where.experiment = args.experiment;
  if (!where.experiment.empty()) {
    pb::GetExperimentRequest get;
    get.set_id(where.experiment);
    pb::GetExperimentResponse resp;
    RETURN_IF_ERROR(ctx.client().Call(&Stub::GetExperiment, get, &resp));
    if (where.keys_only) {
      std::set<std::string> keys;
      for (const auto& [key, value] : resp.experiment().flags()) keys.insert(key);
      for (const std::string& key : keys) ctx.Write(key + "\n");
      return absl::OkStatus();
    }
    where.base_command = resp.experiment().base_command();
  }
  pb::ListFlagSchemasRequest req;
  req.set_base_command(where.base_command);
  pb::ListFlagSchemasResponse schemas;
  RETURN_IF_ERROR(ctx.client().Call(&Stub::ListFlagSchemas, req, &schemas));
  std::string out;
  for (const std::string& line : FlagCandidates(schemas)) out += line + "\n";
  ctx.Write(out);
  return absl::OkStatus();
}

}  // namespace

void AddCompleteFlagsCommand(CLI::App* app, CommandContext* ctx) {
  auto args = std::make_shared<CompleteFlagsArgs>();
  CLI::App* cmd = app->add_subcommand(
      "__complete-flags",
      "For shell completion: print flag names (NAME=) and values (NAME=VALUE) from the "
      "flag schemas, one per line");
  cmd->group("");  // hidden from --help: the completion scripts call it
  cmd->add_option("--cmd", args->command, "Only this base command's flags");
  cmd->add_option("--exp", args->experiment, "The flags of this experiment's base command");
  cmd->add_option("WORDS", args->words,
                  "The words typed so far (after --), as the shell holds them: --cmd and "
                  "`exp flags ID set|unset` in them choose the schema");
  SetExamples(cmd,
              {
                  "skydeck __complete-flags --cmd 'python train.py'",
                  "skydeck __complete-flags -- exp create a --cmd \"'python train.py'\" --flag",
                  "skydeck __complete-flags -- exp flags lr-a unset",
              });
  OnParsed(cmd, ctx, [ctx, args] { return RunCompleteFlags(*ctx, *args); });
}

}  // namespace skydeck::cli
