// File: cli/completion.cc
//
// `skydeck completion bash|zsh|fish`: shell completion scripts generated
// from the command tree itself, so a new verb or option completes without
// touching this file. Besides commands and options they complete:
// - experiment names (`skydeck exp list -o name`) for verbs that take an ID;
// - option values whose set is fixed (-o, --state, --for, the SHELL here);
// - flag names and values from the daemon's flag schemas after --flag and
//   --grid and in `exp flags ID set|unset` (`skydeck __complete-flags`,
//   complete_flags.h), given the words typed so far so `--cmd` picks the
//   schema;
// - files after -f/--file.
// zsh runs the bash script through bashcompinit.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"

#include "cli/command.h"
#include "cli/views.h"
#include "cli/wait.h"

namespace skydeck::cli {
namespace {

// What completes after an option that takes a value.
enum class ValueKind {
  kNothing,  // free text (--cmd, --reason): offer nothing rather than commands
  kFixed,    // one of `fixed`
  kFlags,    // flag names and values from the schemas
  kFiles,
};

struct ValueOption {
  std::vector<std::string> names;  // "--output", "-o"
  ValueKind kind = ValueKind::kNothing;
  std::vector<std::string> fixed;
};

struct Node {
  std::string path;                     // "exp create"; "" for the root
  std::vector<std::string> words;       // subcommand names and --options
  std::vector<ValueOption> options;     // the options that take a value
  bool takes_id = false;                // has an ID positional
  std::vector<std::string> positional;  // fixed values of its positional
};

// `exp flags ID set|unset ...`: flags in positional words.
constexpr absl::string_view kFlagsPath = "exp flags";

std::vector<std::string> StateFilterNames() {
  std::vector<std::string> names;
  auto add = [&names](const google::protobuf::EnumDescriptor* type) {
    for (int i = 0; i < type->value_count(); ++i) {
      std::string name = ShortEnumName(type, type->value(i)->number());
      bool seen = name == "-";
      for (const std::string& n : names) seen = seen || n == name;
      if (!seen) names.push_back(name);
    }
  };
  add(pb::DesiredState_descriptor());
  add(pb::ObservedState_descriptor());
  return names;
}

// Option values are completed by what the option means, which its name
// says the same way in every command.
ValueOption ValuesOf(const CLI::Option* opt) {
  ValueOption out;
  for (const std::string& name : opt->get_lnames()) out.names.push_back("--" + name);
  for (const std::string& name : opt->get_snames()) out.names.push_back("-" + name);
  for (const std::string& name : opt->get_lnames()) {
    if (name == "output") {
      out.kind = ValueKind::kFixed;
      out.fixed = OutputFormatNames();
    } else if (name == "state") {
      out.kind = ValueKind::kFixed;
      out.fixed = StateFilterNames();
    } else if (name == "for") {
      out.kind = ValueKind::kFixed;
      out.fixed = WaitConditionChoices();
    } else if (name == "flag" || name == "grid") {
      out.kind = ValueKind::kFlags;
    } else if (name == "file") {
      out.kind = ValueKind::kFiles;
    }
  }
  return out;
}

void Collect(const CLI::App* app, const std::string& path, std::vector<Node>& out) {
  Node node{path, {}, {}, false, {}};
  for (const CLI::App* sub : app->get_subcommands({})) {
    if (sub->get_group().empty()) continue;  // hidden helpers
    node.words.push_back(sub->get_name());
  }
  for (const CLI::Option* opt : app->get_options()) {
    if (opt->get_positional()) {
      std::string name = opt->get_name(/*positional=*/true);
      node.takes_id = node.takes_id || name == "ID";
      if (name == "SHELL") node.positional = {"bash", "zsh", "fish"};
      continue;
    }
    for (const std::string& name : opt->get_lnames()) node.words.push_back("--" + name);
    for (const std::string& name : opt->get_snames()) node.words.push_back("-" + name);
    if (opt->get_expected_max() > 0) node.options.push_back(ValuesOf(opt));
  }
  out.push_back(node);
  for (const CLI::App* sub : app->get_subcommands({})) {
    if (sub->get_group().empty()) continue;
    Collect(sub, path.empty() ? sub->get_name() : absl::StrCat(path, " ", sub->get_name()), out);
  }
}

// Single-quoted for sh: nothing inside is expanded.
std::string ShellQuote(absl::string_view text) {
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "'\\''"}}), "'");
}

constexpr absl::string_view kNames = "skydeck exp list -o name 2>/dev/null";

// The bash (and, through bashcompinit, zsh) script. Candidates are filtered
// by a read loop, not `compgen -W`, which would expand `$(...)` in flag
// values seen by the daemon.
constexpr absl::string_view kBashHelpers =
    R"sh(# skydeck bash completion: source <(skydeck completion bash)
# Adds the candidates (one per line) that start with the word being
# completed. bash splits "k=v" and "k:=v" at = and : (COMP_WORDBREAKS), so
# the candidates are matched against the whole word ($curw) and handed back
# relative to the piece readline replaces: $cur, or nothing when $cur is
# only the "=" or ":=" itself (the cursor is right after it). A "k=" already
# typed is not offered again.
_skydeck_reply() {
  local c strip="${curw%"$cur"}"
  [ -n "$cur" ] && [ -z "${cur//[=:]/}" ] && strip="$curw"
  while IFS= read -r c; do
    [ -n "$c" ] && [[ "$c" == "$curw"* ]] || continue
    [[ "$c" == "$curw" && "$c" == *= ]] && continue
    COMPREPLY+=("${c#"$strip"}")
  done <<< "$1"
  if [ ${#COMPREPLY[@]} -eq 1 ] && [[ "${COMPREPLY[0]}" == *= ]]; then
    type compopt >/dev/null 2>&1 && compopt -o nospace
  fi
}
# The same for a list of our own words (no spaces or glob characters).
_skydeck_words() {
  _skydeck_reply "$(printf '%s\n' $1)"
}
_skydeck_flags() {
  _skydeck_reply "$(skydeck __complete-flags -- "${COMP_WORDS[@]:1:$((COMP_CWORD - 1))}" 2>/dev/null)"
}
_skydeck_files() {
  local IFS=$'\n'
  COMPREPLY=($(compgen -f -- "$cur"))
}
)sh";

std::string BashValueCase(const ValueOption& o) {
  std::string action;
  switch (o.kind) {
    case ValueKind::kNothing:
      action = "return";
      break;
    case ValueKind::kFixed:
      action = absl::StrCat("_skydeck_words ", ShellQuote(absl::StrJoin(o.fixed, " ")), "; return");
      break;
    case ValueKind::kFlags:
      action = "_skydeck_flags; return";
      break;
    case ValueKind::kFiles:
      action = "_skydeck_files; return";
      break;
  }
  return absl::StrCat("        ", absl::StrJoin(o.names, "|"), ") ", action, " ;;\n");
}

std::string Bash(const std::vector<Node>& nodes) {
  const Node& root = nodes.front();
  std::string paths, cases;
  for (const Node& n : nodes) {
    absl::StrAppend(&paths, " \"", n.path, "\"");
    // Global options (-o, --server) follow any verb (fallthrough).
    std::string value_cases;
    for (const ValueOption& o : n.options) value_cases += BashValueCase(o);
    if (!n.path.empty()) {
      for (const ValueOption& o : root.options) value_cases += BashValueCase(o);
    }
    std::vector<std::string> all_words = n.words;
    all_words.insert(all_words.end(), n.positional.begin(), n.positional.end());
    std::string words = absl::StrCat("offer=", ShellQuote(absl::StrJoin(all_words, " ")));
    if (n.takes_id) absl::StrAppend(&words, "; ids=1");
    if (n.path == kFlagsPath) {
      // ID, then set|unset, then flags.
      absl::StrAppend(&words,
                      "; if [ $nargs -eq 1 ]; then _skydeck_words 'set unset'; return; fi"
                      "; if [ $nargs -ge 2 ]; then _skydeck_flags; return; fi");
    }
    absl::StrAppend(&cases, "    \"", n.path, "\")\n      case \"$prev\" in\n", value_cases,
                    "      esac\n      ", words, " ;;\n");
  }
  return absl::StrCat(
      kBashHelpers,
      "_skydeck() {\n"
      "  # Not $path or $words: zsh ties $path to $PATH, and $words is compsys's.\n"
      "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" at=\"\" w p next found offer=\"\" ids=\"\"\n"
      "  local nargs=0 line curw before prev\n"
      "  COMPREPLY=()\n"
      "  # The whole word at the cursor and the one before it, from the line.\n"
      "  line=\"${COMP_LINE:0:$COMP_POINT}\"\n"
      "  [ -n \"$COMP_LINE\" ] || line=\"${COMP_WORDS[*]:0:$((COMP_CWORD + 1))}\"\n"
      "  curw=\"${line##*[[:space:]]}\"\n"
      "  [[ \"$curw\" == *\"$cur\" ]] || curw=\"$cur\"\n"
      "  before=\"${line%\"$curw\"}\"\n"
      "  before=\"${before%\"${before##*[![:space:]]}\"}\"\n"
      "  prev=\"${before##*[[:space:]]}\"\n"
      "  local paths=(",
      paths,
      ")\n"
      "  for w in \"${COMP_WORDS[@]:1:$((COMP_CWORD - 1))}\"; do\n"
      "    case \"$w\" in -*) continue ;; esac\n"
      "    if [ -z \"$at\" ]; then next=\"$w\"; else next=\"$at $w\"; fi\n"
      "    found=\"\"\n"
      "    for p in \"${paths[@]}\"; do [ \"$p\" = \"$next\" ] && found=1 && break; done\n"
      "    if [ -n \"$found\" ]; then at=\"$next\"; nargs=0; else nargs=$((nargs + 1)); fi\n"
      "  done\n"
      "  case \"$at\" in\n",
      cases,
      "  esac\n"
      "  _skydeck_words \"$offer\"\n"
      "  [ -n \"$ids\" ] && [[ \"$cur\" != -* ]] && _skydeck_reply \"$(",
      kNames,
      ")\"\n"
      "  return 0\n"
      "}\n"
      "complete -F _skydeck skydeck\n");
}

// The fish condition: the words typed so far, as subcommands, are exactly
// `path` (a regex over them when `regex`).
// It is written inside double quotes (-n "..."), where fish expands $: a
// regex's $ is escaped.
std::string FishCondition(absl::string_view path, bool regex = false) {
  if (path.empty() && !regex) return "test (count (commandline -opc)) -eq 1";
  return absl::StrCat("string match -q ", regex ? "-r " : "", "-- '",
                      absl::StrReplaceAll(path, {{"$", "\\$"}}),
                      "' (string join ' ' (commandline -opc | string match -v -- '-*')[2..-1])");
}

constexpr absl::string_view kFishFlags =
    "(skydeck __complete-flags -- (commandline -opc)[2..-1] 2>/dev/null)";

std::string FishValueOption(const ValueOption& o, absl::string_view cond) {
  std::string out = "complete -c skydeck";
  if (!cond.empty()) absl::StrAppend(&out, " -n \"", cond, "\"");
  for (const std::string& name : o.names) {
    absl::StrAppend(&out, absl::StartsWith(name, "--") ? " -l " : " -s ",
                    absl::StripPrefix(absl::StripPrefix(name, "-"), "-"));
  }
  switch (o.kind) {
    case ValueKind::kNothing:
      return absl::StrCat(out, " -x\n");
    case ValueKind::kFixed:
      return absl::StrCat(out, " -x -a ", ShellQuote(absl::StrJoin(o.fixed, " ")), "\n");
    case ValueKind::kFlags:
      return absl::StrCat(out, " -x -a '", kFishFlags, "'\n");
    case ValueKind::kFiles:
      return absl::StrCat(out, " -r -F\n");
  }
  return out + "\n";
}

std::string Fish(const std::vector<Node>& nodes) {
  std::string out = "# skydeck fish completion: skydeck completion fish | source\n";
  for (const Node& n : nodes) {
    std::string cond = FishCondition(n.path);
    // Options may come after positionals and other options' values, which
    // stay in the words: for them the path only has to be a prefix.
    std::string option_cond =
        n.path.empty() ? cond : FishCondition(absl::StrCat("^", n.path, "( |$)"), true);
    for (const std::string& w : n.words) {
      if (absl::StartsWith(w, "-")) continue;  // options: with their values below
      absl::StrAppend(&out, "complete -c skydeck -f -n \"", cond, "\" -a ", w, "\n");
    }
    for (const ValueOption& o : n.options) {
      // Global options (the root's) apply after any verb: no condition.
      absl::StrAppend(&out, FishValueOption(o, n.path.empty() ? "" : option_cond));
    }
    for (const std::string& w : n.words) {
      if (!absl::StartsWith(w, "-")) continue;
      bool takes_value = false;
      for (const ValueOption& o : n.options) {
        for (const std::string& name : o.names) takes_value = takes_value || name == w;
      }
      if (takes_value) continue;
      absl::StrAppend(&out, "complete -c skydeck -n \"", option_cond, "\"",
                      absl::StartsWith(w, "--") ? " -l " : " -s ",
                      absl::StripPrefix(absl::StripPrefix(w, "-"), "-"), "\n");
    }
    if (n.takes_id) {
      absl::StrAppend(&out, "complete -c skydeck -f -n \"", cond, "\" -a '(", kNames, ")'\n");
    }
    if (!n.positional.empty()) {
      absl::StrAppend(&out, "complete -c skydeck -f -n \"", cond, "\" -a ",
                      ShellQuote(absl::StrJoin(n.positional, " ")), "\n");
    }
  }
  absl::StrAppend(&out, "complete -c skydeck -f -n \"",
                  FishCondition(absl::StrCat("^", kFlagsPath, " \\S+$"), true),
                  "\" -a 'set unset'\n");
  absl::StrAppend(&out, "complete -c skydeck -f -n \"",
                  FishCondition(absl::StrCat("^", kFlagsPath, " \\S+ (set|unset)( |$)"), true),
                  "\" -a '", kFishFlags, "'\n");
  return out;
}

}  // namespace

void AddCompletionCommand(CLI::App* app, CommandContext* ctx) {
  auto shell = std::make_shared<std::string>();
  CLI::App* cmd = app->add_subcommand(
      "completion",
      "Print a shell completion script (commands, options, experiment names, option values, "
      "flag names and values from the flag schemas)");
  cmd->add_option("SHELL", *shell, "bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  SetExamples(cmd, {
                       "source <(skydeck completion bash)          # in ~/.bashrc",
                       "source <(skydeck completion zsh)           # in ~/.zshrc",
                       "skydeck completion fish > ~/.config/fish/completions/skydeck.fish",
                   });
  OnParsed(cmd, ctx, [ctx, app, shell]() -> absl::Status {
    std::vector<Node> nodes;
    Collect(app, "", nodes);
    if (*shell == "fish") {
      ctx->Write(Fish(nodes));
    } else if (*shell == "zsh") {
      ctx->Write(absl::StrCat("autoload -U +X bashcompinit && bashcompinit\n", Bash(nodes)));
    } else {
      ctx->Write(Bash(nodes));
    }
    return absl::OkStatus();
  });
}

}  // namespace skydeck::cli
