#include "common/bearer_token.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

namespace skydeck {
namespace {

struct TokenFile {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("skydeck-token-" + std::to_string(getpid()));
  explicit TokenFile(const std::string& content) { std::ofstream(path) << content; }
  ~TokenFile() { std::filesystem::remove(path); }
};

TEST_CASE("a token file is trimmed; the file beats the environment", "[common][token]") {
  TokenFile f("  s3cret-token\n\n");
  auto token = LoadBearerToken(f.path.string(), "from-env");
  REQUIRE(token.ok());
  CHECK(*token == "s3cret-token");
  CHECK(*LoadBearerToken("", " from-env\n") == "from-env");
  CHECK(LoadBearerToken("", nullptr)->empty());  // no token: auth off
}

TEST_CASE("an empty or unreadable token file never means auth off", "[common][token]") {
  for (const char* content : {"", "\n", "  \t\n"}) {
    TokenFile f(content);
    auto token = LoadBearerToken(f.path.string(), "ignored");
    CHECK(token.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(token.status().message()), Catch::Contains("empty"));
  }
  CHECK(LoadBearerToken("/nonexistent/token", nullptr).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("tokens with white space or control characters are refused", "[common][token]") {
  TokenFile f("two words\n");
  CHECK_FALSE(LoadBearerToken(f.path.string(), nullptr).ok());
  CHECK_FALSE(LoadBearerToken("",
                              "a\x01"
                              "b")
                  .ok());
  CHECK_FALSE(LoadBearerToken("", "a\r\nX-Injected: 1").ok());
}

}  // namespace
}  // namespace skydeck
