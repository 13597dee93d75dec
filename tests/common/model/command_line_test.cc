// Runs rendered commands through a real /bin/sh: whatever a flag key or
// value contains, the program receives exactly `key=value` and nothing else
// runs.
#include "common/model/command_line.h"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include <catch2/catch.hpp>

namespace skydeck {
namespace {

std::string RunShell(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  pclose(pipe);
  return out;
}

TEST_CASE("no flag value can escape its shell word", "[command][shell]") {
  auto dir =
      std::filesystem::temp_directory_path() / ("skydeck-canary-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string canary = (dir / "pwned").string();
  std::vector<std::string> payloads = {
      "$(touch " + canary + ")",
      "`touch " + canary + "`",
      "'; touch " + canary + "; '",
      "\"; touch " + canary + "; \"",
      "a\ntouch " + canary,
      "x' && touch " + canary + " && echo '",
      "\\'; touch " + canary + " #",
      "${IFS}touch${IFS}" + canary,
      "> " + canary,
      "| touch " + canary,
  };
  // Random bytes too (printable and not), minus NUL which C strings cannot carry.
  std::mt19937 rng(12345);
  for (int i = 0; i < 200; ++i) {
    std::string s;
    int len = rng() % 24;
    for (int j = 0; j < len; ++j) s += static_cast<char>(1 + rng() % 126);
    payloads.push_back(s);
  }
  for (const std::string& value : payloads) {
    FlagMap flags{{"k", value}};
    std::string cmd = RenderCommand("printf '%s\\0'", flags);
    std::string out = RunShell(cmd);
    INFO("value: " << value);
    CHECK(out == "k=" + value + std::string(1, '\0'));
    CHECK_FALSE(std::filesystem::exists(canary));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace skydeck
