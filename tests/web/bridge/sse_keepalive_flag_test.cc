#include "web/bridge/sse_keepalive_flag.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace skydeck::web {
namespace {

// Parses `args` as skydeck-web does (with the deprecated alias when
// `with_alias`); the CLI11 error message on failure.
std::string Parse(std::vector<std::string> args, absl::Duration* keepalive,
                  bool with_alias = true) {
  CLI::App app;
  CLI::Option* flag = AddSseKeepaliveFlag(app, keepalive);
  if (with_alias) AddDeprecatedSseKeepaliveMsFlag(app, flag, keepalive);
  std::vector<const char*> argv = {"test"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), const_cast<char**>(argv.data()));
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return "";
}

TEST_CASE("the keep-alive flag takes a duration like skydeckd's other flags", "[bridge][flags]") {
  absl::Duration keepalive = absl::Seconds(15);
  REQUIRE(Parse({}, &keepalive) == "");
  CHECK(keepalive == absl::Seconds(15));
  REQUIRE(Parse({"--sse-keepalive", "250ms"}, &keepalive) == "");
  CHECK(keepalive == absl::Milliseconds(250));
  REQUIRE(Parse({"--sse-keepalive", "2"}, &keepalive) == "");  // plain seconds
  CHECK(keepalive == absl::Seconds(2));
  REQUIRE(Parse({"--sse-keepalive=1m"}, &keepalive, false) == "");
  CHECK(keepalive == absl::Minutes(1));
}

TEST_CASE("the deprecated --sse-keepalive-ms still works", "[bridge][flags]") {
  absl::Duration keepalive = absl::Seconds(15);
  REQUIRE(Parse({"--sse-keepalive-ms", "100"}, &keepalive) == "");
  CHECK(keepalive == absl::Milliseconds(100));
}

TEST_CASE("bad keep-alive values and both spellings at once are refused", "[bridge][flags]") {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--sse-keepalive", "1ms"},
           {"--sse-keepalive", "soon"},
           {"--sse-keepalive", "inf"},
           {"--sse-keepalive-ms", "5"},
           {"--sse-keepalive-ms", "15s"},
           {"--sse-keepalive", "1s", "--sse-keepalive-ms", "100"}}) {
    INFO(args.front() << " " << args[1]);
    absl::Duration keepalive = absl::Seconds(15);
    std::string error = Parse(args, &keepalive);
    CHECK_FALSE(error.empty());
    CHECK(error.find("--sse-keepalive") != std::string::npos);
  }
}

}  // namespace
}  // namespace skydeck::web
