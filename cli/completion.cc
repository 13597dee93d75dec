// File: cli/completion.cc
//
// `skydeck completion bash|zsh|fish`: shell completion scripts generated
// from the command tree itself, so a new verb or option completes without
// touching this file. Experiment names come from `skydeck exp list -o name`
// when the shell completes, for verbs that take an ID.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/command.h"

namespace skydeck::cli {
namespace {

struct Node {
  std::string path;                 // "exp create"; "" for the root
  std::vector<std::string> words;   // subcommand names and --options
  bool takes_id = false;            // has an ID positional
};

void Collect(const CLI::App* app, const std::string& path, std::vector<Node>& out) {
  Node node{path, {}, false};
  for (const CLI::App* sub : app->get_subcommands({})) {
    node.words.push_back(sub->get_name());
  }
  for (const CLI::Option* opt : app->get_options()) {
    if (opt->get_positional()) {
      node.takes_id = node.takes_id || opt->get_name() == "ID";
      continue;
    }
    for (const std::string& name : opt->get_lnames()) node.words.push_back("--" + name);
    for (const std::string& name : opt->get_snames()) node.words.push_back("-" + name);
  }
  out.push_back(node);
  for (const CLI::App* sub : app->get_subcommands({})) {
    Collect(sub, path.empty() ? sub->get_name() : absl::StrCat(path, " ", sub->get_name()), out);
  }
}

constexpr absl::string_view kNames = "skydeck exp list -o name 2>/dev/null";

std::string Bash(const std::vector<Node>& nodes) {
  std::string paths, cases;
  for (const Node& n : nodes) {
    absl::StrAppend(&paths, " \"", n.path, "\"");
    absl::StrAppend(&cases, "    \"", n.path, "\") words=\"", absl::StrJoin(n.words, " "), "\"",
                    n.takes_id ? absl::StrCat("; words=\"$words $(", kNames, ")\"") : "",
                    " ;;\n");
  }
  return absl::StrCat(
      "# skydeck bash completion: source <(skydeck completion bash)\n"
      "_skydeck() {\n"
      "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" path=\"\" w next words=\"\"\n"
      "  local paths=(",
      paths,
      ")\n"
      "  for w in \"${COMP_WORDS[@]:1:COMP_CWORD-1}\"; do\n"
      "    case \"$w\" in -*) continue ;; esac\n"
      "    if [ -z \"$path\" ]; then next=\"$w\"; else next=\"$path $w\"; fi\n"
      "    for p in \"${paths[@]}\"; do [ \"$p\" = \"$next\" ] && path=\"$next\" && break; done\n"
      "  done\n"
      "  case \"$path\" in\n",
      cases,
      "  esac\n"
      "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
      "}\n"
      "complete -F _skydeck skydeck\n");
}

std::string Fish(const std::vector<Node>& nodes) {
  std::string out = "# skydeck fish completion: skydeck completion fish | source\n";
  for (const Node& n : nodes) {
    // The condition: the words typed so far, as subcommands, are exactly n.path.
    std::string cond = n.path.empty()
                           ? "test (count (commandline -opc)) -eq 1"
                           : absl::StrCat("string match -q -- '", n.path,
                                          "' (string join ' ' (commandline -opc | string match "
                                          "-v -- '-*')[2..-1])");
    for (const std::string& w : n.words) {
      if (absl::StartsWith(w, "--")) {
        absl::StrAppend(&out, "complete -c skydeck -n \"", cond, "\" -l ", w.substr(2), "\n");
      } else if (absl::StartsWith(w, "-")) {
        absl::StrAppend(&out, "complete -c skydeck -n \"", cond, "\" -s ", w.substr(1), "\n");
      } else {
        absl::StrAppend(&out, "complete -c skydeck -f -n \"", cond, "\" -a ", w, "\n");
      }
    }
    if (n.takes_id) {
      absl::StrAppend(&out, "complete -c skydeck -f -n \"", cond, "\" -a '(", kNames, ")'\n");
    }
  }
  return out;
}

}  // namespace

void AddCompletionCommand(CLI::App* app, CommandContext* ctx) {
  auto shell = std::make_shared<std::string>();
  CLI::App* cmd = app->add_subcommand(
      "completion", "Print a shell completion script (commands, options, experiment names)");
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
