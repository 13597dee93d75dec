#include "common/ansi_text.h"

#include <string>

#include <catch2/catch.hpp>

namespace skydeck {
namespace {

TEST_CASE("StripAnsi removes colours and keeps the text", "[common]") {
  // Seen in a real SkyPilot failure reason and in `sky jobs logs` output.
  CHECK(StripAnsi("Run: \x1b[1msky check\x1b[0m") == "Run: sky check");
  CHECK(StripAnsi("\x1b[33mJob 1 is already in terminal state\x1b[0m\nFailure") ==
        "Job 1 is already in terminal state\nFailure");
  CHECK(StripAnsi("\x1b[1;31;48;5;200mred\x1b[K") == "red");
  CHECK(StripAnsi("title\x1b]0;window\x07 and \x1b]8;;http://x\x1b\\link") == "title and link");
  CHECK(StripAnsi("keep\ttabs\r\nand \xc3\xa9") == "keep\ttabs\r\nand \xc3\xa9");
  CHECK(StripAnsi("cursor\x1b"
                  "7saved") == "cursorsaved");
  CHECK(StripAnsi("dangling\x1b") == "dangling");
  CHECK(StripAnsi("bad\x1b[12\ntext") == "bad\ntext");
}

TEST_CASE("AnsiStripper handles sequences cut across chunks", "[common]") {
  std::string text = "a\x1b[33mb\x1b[0m c\x1b]0;t\x07 d\x1b[1mbold\x1b[0m\n";
  for (size_t cut1 = 0; cut1 <= text.size(); ++cut1) {
    for (size_t cut2 = cut1; cut2 <= text.size(); ++cut2) {
      AnsiStripper s;
      std::string out = s.Feed(text.substr(0, cut1));
      out += s.Feed(text.substr(cut1, cut2 - cut1));
      out += s.Feed(text.substr(cut2));
      out += s.Finish();
      INFO("cuts at " << cut1 << ", " << cut2);
      REQUIRE(out == "ab c dbold\n");
    }
  }
}

TEST_CASE("AnsiStripper bounds what it holds back", "[common]") {
  AnsiStripper s;
  std::string garbage = "\x1b[" + std::string(AnsiStripper::kMaxSequenceBytes, '1');
  std::string out = s.Feed(garbage);
  CHECK(out == garbage.substr(1));
  CHECK(s.Feed("x") == "x");
}

}  // namespace
}  // namespace skydeck
