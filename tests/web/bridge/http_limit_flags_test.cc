#include "web/bridge/http_limit_flags.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace skydeck::web {
namespace {

// Parses `args` into fresh limits; the CLI11 error message on failure.
std::string Parse(std::vector<std::string> args, HttpLimits* limits) {
  CLI::App app;
  AddHttpLimitFlags(app, limits);
  std::vector<const char*> argv = {"test"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), const_cast<char**>(argv.data()));
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return "";
}

TEST_CASE("the HTTP limit flags set every limit", "[bridge][flags]") {
  HttpLimits limits;
  REQUIRE(Parse({"--http-max-connections", "100", "--http-max-connections-per-client", "0",
                 "--http-max-streams", "7", "--http-header-timeout", "500ms", "--http-idle-timeout",
                 "2m"},
                &limits) == "");
  CHECK(limits.max_connections == 100);
  CHECK(limits.max_connections_per_client == 0);
  CHECK(limits.max_streams == 7);
  CHECK(limits.header_timeout == std::chrono::milliseconds(500));
  CHECK(limits.idle_timeout == std::chrono::seconds(120));
}

TEST_CASE("no flags keep the defaults", "[bridge][flags]") {
  HttpLimits limits;
  REQUIRE(Parse({}, &limits) == "");
  HttpLimits defaults;
  CHECK(limits.max_connections == defaults.max_connections);
  CHECK(limits.header_timeout == defaults.header_timeout);
  CHECK(limits.idle_timeout == defaults.idle_timeout);
}

TEST_CASE("bad limit values are refused naming the flag", "[bridge][flags]") {
  HttpLimits limits;
  CHECK_THAT(Parse({"--http-header-timeout", "10"}, &limits),
             Catch::Contains("--http-header-timeout") && Catch::Contains("unit"));
  CHECK_THAT(Parse({"--http-header-timeout", "1ms"}, &limits), Catch::Contains("at least"));
  CHECK_THAT(Parse({"--http-idle-timeout", "500ms"}, &limits),
             Catch::Contains("--http-idle-timeout"));
  CHECK_THAT(Parse({"--http-max-streams", "0"}, &limits), Catch::Contains("--http-max-streams"));
  CHECK_THAT(Parse({"--http-max-connections", "-1"}, &limits),
             Catch::Contains("--http-max-connections"));
}

}  // namespace
}  // namespace skydeck::web
