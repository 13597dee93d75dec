// The whole skydeck command tree (cli/app.h), walked without a daemon:
// every command, hidden ones included, shows examples in its --help.
#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "cli/app.h"

using namespace skydeck::cli;

namespace {

void Walk(const CLI::App* app, const std::string& path, std::vector<std::string>* paths,
          std::vector<std::string>* without_examples) {
  paths->push_back(path);
  if (app->help().find("\nExamples:\n  ") == std::string::npos) {
    without_examples->push_back(path);
  }
  for (const CLI::App* sub : app->get_subcommands({})) {
    Walk(sub, path + " " + sub->get_name(), paths, without_examples);
  }
}

}  // namespace

TEST_CASE("every command's help has examples", "[cli][help]") {
  CLI::App app(std::string(kAppDescription), "skydeck");
  CommandContext ctx;
  BuildCommandTree(&app, &ctx);
  std::vector<std::string> paths, without_examples;
  Walk(&app, "skydeck", &paths, &without_examples);
  // The walk saw the tree, not just the root.
  CHECK(paths.size() > 30);
  CHECK(std::find(paths.begin(), paths.end(), "skydeck schema get") != paths.end());
  CHECK(std::find(paths.begin(), paths.end(), "skydeck __complete-flags") != paths.end());
  CHECK(without_examples == std::vector<std::string>{});
}

TEST_CASE("the completion helper is hidden from help", "[cli][help]") {
  CLI::App app(std::string(kAppDescription), "skydeck");
  CommandContext ctx;
  BuildCommandTree(&app, &ctx);
  CHECK(app.help().find("__complete-flags") == std::string::npos);
  CHECK(app.help().find("completion") != std::string::npos);
}

TEST_CASE("a negative count is refused in words, not with a 309-digit range", "[cli][help]") {
  for (std::vector<std::string> args : {std::vector<std::string>{"exp", "logs", "a", "--tail=-1"},
                                        std::vector<std::string>{"exp", "list", "--limit=-5"}}) {
    CLI::App app(std::string(kAppDescription), "skydeck");
    CommandContext ctx;
    BuildCommandTree(&app, &ctx);
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    std::string message;
    try {
      app.parse(reversed);
    } catch (const CLI::ParseError& e) {
      message = e.what();
    }
    INFO(message);
    CHECK(message.find("is not a whole number of 0 or more") != std::string::npos);
    CHECK(message.size() < 120);
  }
}
