#include "cli/suggest.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace skydeck::cli {
namespace {

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Whether `word` is an option of `app` (or an ancestor's, which
// subcommands inherit) that takes a value, so the next word is its value.
bool TakesValue(const CLI::App* app, const std::string& word) {
  if (!absl::StartsWith(word, "-") || absl::StrContains(word, '=')) return false;
  for (; app != nullptr; app = app->get_parent()) {
    const CLI::Option* opt = app->get_option_no_throw(word);
    if (opt != nullptr) return opt->get_expected_min() > 0;
  }
  return false;
}

std::vector<std::string> VisibleNames(const CLI::App* app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app->get_subcommands({})) {
    if (!sub->get_group().empty()) names.push_back(sub->get_name());
  }
  return names;
}

std::string CommandPath(const CLI::App* app) {
  std::vector<std::string> parts;
  for (; app != nullptr; app = app->get_parent()) parts.insert(parts.begin(), app->get_name());
  return absl::StrJoin(parts, " ");
}

}  // namespace

std::string SuggestSubcommand(const CLI::App& root, const std::vector<std::string>& args) {
  const CLI::App* app = &root;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "--") return "";
    if (TakesValue(app, word)) {
      ++i;
      continue;
    }
    if (absl::StartsWith(word, "-")) continue;
    std::vector<std::string> names = VisibleNames(app);
    if (names.empty()) return "";  // a verb: the rest are its arguments
    const CLI::App* sub = nullptr;
    for (const CLI::App* s : app->get_subcommands({})) {
      if (s->check_name(word)) sub = s;
    }
    if (sub != nullptr) {
      app = sub;
      continue;
    }
    std::string best;
    size_t best_distance = 3;
    for (const std::string& name : names) {
      size_t d = absl::StartsWith(name, word) ? 1 : EditDistance(word, name);
      if (d < best_distance) {
        best = name;
        best_distance = d;
      }
    }
    std::string message =
        absl::StrCat("unknown command \"", word, "\" for \"", CommandPath(app), "\"");
    if (!best.empty()) return absl::StrCat(message, "; did you mean \"", best, "\"?");
    return absl::StrCat(message, "; its commands are: ", absl::StrJoin(names, ", "));
  }
  return "";
}

}  // namespace skydeck::cli
