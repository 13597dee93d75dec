#include "daemon/backend/local/tail_start.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include <catch2/catch.hpp>

namespace skydeck::backend::local {
namespace {

// A temp file holding `text`, open for reading; removed on destruction.
class TextFile {
 public:
  explicit TextFile(const std::string& text) {
    char path[] = "/tmp/tail_start_test.XXXXXX";
    fd_ = mkstemp(path);
    REQUIRE(fd_ >= 0);
    unlink(path);
    REQUIRE(write(fd_, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    size_ = static_cast<int64_t>(text.size());
    text_ = text;
  }
  ~TextFile() { close(fd_); }
  // What a reader that starts at TailStart(tail) gets.
  std::string Tail(int64_t lines, int64_t bytes) const {
    absl::StatusOr<int64_t> start = TailStart(fd_, size_, LogTail{.lines = lines, .bytes = bytes});
    REQUIRE(start.ok());
    return text_.substr(static_cast<size_t>(*start));
  }

 private:
  int fd_ = -1;
  int64_t size_ = 0;
  std::string text_;
};

TEST_CASE("tail counts lines like tail -n", "[local]") {
  TextFile ended("a\nb\nc\n");
  CHECK(ended.Tail(1, 0) == "c\n");
  CHECK(ended.Tail(2, 0) == "b\nc\n");
  CHECK(ended.Tail(3, 0) == "a\nb\nc\n");
  CHECK(ended.Tail(10, 0) == "a\nb\nc\n");
  CHECK(ended.Tail(0, 0) == "a\nb\nc\n");

  TextFile open_line("a\nb\nc");  // the last line has no newline yet
  CHECK(open_line.Tail(1, 0) == "c");
  CHECK(open_line.Tail(2, 0) == "b\nc");

  TextFile blank_lines("a\n\n\n");
  CHECK(blank_lines.Tail(1, 0) == "\n");
  CHECK(blank_lines.Tail(2, 0) == "\n\n");

  TextFile empty("");
  CHECK(empty.Tail(5, 0).empty());
}

TEST_CASE("tail with lines and bytes takes the shorter", "[local]") {
  TextFile file("first line\nsecond line\nthird\n");
  CHECK(file.Tail(0, 8) == "e\nthird\n");
  CHECK(file.Tail(2, 8) == "e\nthird\n");  // the bytes are fewer
  CHECK(file.Tail(1, 100) == "third\n");   // the line is shorter
  CHECK(file.Tail(0, 1000) == "first line\nsecond line\nthird\n");
}

TEST_CASE("tail finds lines beyond one read chunk", "[local]") {
  // Two lines of 100 KiB: the scan back crosses 64 KiB chunk boundaries.
  std::string long_line(100 * 1024, 'x');
  TextFile file("head\n" + long_line + "\n" + long_line + "\n");
  CHECK(file.Tail(1, 0) == long_line + "\n");
  CHECK(file.Tail(2, 0) == long_line + "\n" + long_line + "\n");
  CHECK(file.Tail(3, 0).substr(0, 5) == "head\n");
}

}  // namespace
}  // namespace skydeck::backend::local
