#include "daemon/backend/local/tail_start.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace skydeck::backend::local {
namespace {

constexpr int64_t kChunkBytes = 64 * 1024;

}  // namespace

absl::StatusOr<int64_t> TailStart(int fd, int64_t size, const LogTail& tail) {
  // The byte limit is a floor: nothing before it is ever sent, so the line
  // scan need not look there.
  const int64_t floor = tail.bytes > 0 ? std::max<int64_t>(0, size - tail.bytes) : 0;
  if (tail.lines <= 0) return floor;
  std::vector<char> buf(static_cast<size_t>(kChunkBytes));
  int64_t newlines = 0;
  int64_t pos = size;
  while (pos > floor) {
    const int64_t start = std::max(floor, pos - kChunkBytes);
    const size_t want = static_cast<size_t>(pos - start);
    size_t got = 0;
    while (got < want) {
      ssize_t n = pread(fd, buf.data() + got, want - got, start + static_cast<int64_t>(got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return absl::UnavailableError(absl::StrCat("reading log: ", std::strerror(errno)));
      if (n == 0) return floor;  // shrank under us: nothing sensible but the floor
      got += static_cast<size_t>(n);
    }
    for (int64_t i = static_cast<int64_t>(want) - 1; i >= 0; --i) {
      const int64_t offset = start + i;
      // The file's final newline closes its last line.
      if (buf[static_cast<size_t>(i)] != '\n' || offset == size - 1) continue;
      if (++newlines == tail.lines) return offset + 1;
    }
    pos = start;
  }
  return floor;
}

}  // namespace skydeck::backend::local
