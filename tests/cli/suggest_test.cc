// "did you mean" for mistyped commands (cli/suggest.h), on the real tree.
#include "cli/suggest.h"

#include <catch2/catch.hpp>

#include "cli/app.h"

using namespace skydeck::cli;

namespace {

std::string Suggest(std::vector<std::string> args) {
  CLI::App app(std::string(kAppDescription), "skydeck");
  CommandContext ctx;
  BuildCommandTree(&app, &ctx);
  return SuggestSubcommand(app, args);
}

}  // namespace

TEST_CASE("a mistyped command names the closest one", "[cli][suggest]") {
  CHECK(Suggest({"exp", "lst"}) ==
        "unknown command \"lst\" for \"skydeck exp\"; did you mean \"list\"?");
  CHECK(Suggest({"exp", "strat", "a"}) ==
        "unknown command \"strat\" for \"skydeck exp\"; did you mean \"start\"?");
  CHECK(Suggest({"ecp", "list"}) ==
        "unknown command \"ecp\" for \"skydeck\"; did you mean \"exp\"?");
  // Option values are not commands.
  CHECK(Suggest({"--server", "h:1", "-o", "json", "exp", "lst"}) ==
        "unknown command \"lst\" for \"skydeck exp\"; did you mean \"list\"?");
}

TEST_CASE("a word far from every command lists them; valid commands say nothing",
          "[cli][suggest]") {
  std::string far = Suggest({"exp", "zzzzzz"});
  CHECK(far.find("its commands are: ") != std::string::npos);
  CHECK(far.find("list") != std::string::npos);
  CHECK(Suggest({"exp", "list"}).empty());
  CHECK(Suggest({"exp", "get", "lst"}).empty());  // a verb's argument
  CHECK(Suggest({}).empty());
}
