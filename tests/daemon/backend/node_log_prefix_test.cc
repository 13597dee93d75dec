#include "daemon/backend/local/node_log_prefix.h"

#include <string>

#include <catch2/catch.hpp>

namespace skydeck::backend::local {
namespace {

TEST_CASE("node labels are SkyPilot's multi-node labels", "[local]") {
  CHECK(NodeLogLabel(0, 42) == "(head, rank=0, pid=42) ");
  CHECK(NodeLogLabel(1, 43) == "(worker1, rank=1, pid=43, ip=127.0.0.1) ");
  CHECK(NodeLogLabel(12, 7) == "(worker12, rank=12, pid=7, ip=127.0.0.1) ");
}

TEST_CASE("whole lines come out prefixed, partial ones wait", "[local]") {
  LinePrefixer lines("[n] ");
  CHECK(lines.Feed("") == "");
  CHECK(lines.Feed("a\nbc") == "[n] a\n");
  CHECK(lines.pending() == 2);
  CHECK(lines.Feed("d") == "");
  CHECK(lines.Feed("e\n\nf\ng\n") == "[n] bcde\n[n] \n[n] f\n[n] g\n");
  CHECK(lines.pending() == 0);
  CHECK(lines.Finish() == "");
}

TEST_CASE("the last line without a newline is flushed with one", "[local]") {
  LinePrefixer lines("[n] ");
  CHECK(lines.Feed("done\nno newline") == "[n] done\n");
  CHECK(lines.Finish() == "[n] no newline\n");
  CHECK(lines.Finish() == "");
}

TEST_CASE("bytes pass through unchanged", "[local]") {
  LinePrefixer lines("> ");
  std::string raw("tab\there\r\0nul\x1b[31mred", 22);
  CHECK(lines.Feed(raw + "\n") == "> " + raw + "\n");
}

TEST_CASE("an endless line is cut at the limit, without empty pieces", "[local]") {
  LinePrefixer lines("> ", 4);
  CHECK(lines.Feed("abcdefghij") == "> abcd\n> efgh\n");
  CHECK(lines.pending() == 2);
  CHECK(lines.Feed("kl") == "> ijkl\n");
  // The newline right after a cut ends that piece.
  CHECK(lines.Feed("\nxy\n") == "> xy\n");
  // A line of exactly the limit is one line.
  CHECK(lines.Feed("1234\n") == "> 1234\n");
  CHECK(lines.Finish() == "");
}

TEST_CASE("fed byte by byte, the output is the same", "[local]") {
  std::string input = "first\nsecond line\n\nthird";
  LinePrefixer whole("(r) ");
  std::string expected = whole.Feed(input);
  expected += whole.Finish();
  LinePrefixer bytes("(r) ");
  std::string out;
  for (char c : input) out += bytes.Feed(std::string_view(&c, 1));
  out += bytes.Finish();
  CHECK(out == expected);
  CHECK(out == "(r) first\n(r) second line\n(r) \n(r) third\n");
}

}  // namespace
}  // namespace skydeck::backend::local
