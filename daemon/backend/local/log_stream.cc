#include "daemon/backend/local/log_stream.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include <sys/stat.h>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"

#include "daemon/backend/local/tail_start.h"

namespace skydeck::backend::local {
namespace {

constexpr size_t kChunkBytes = 64 * 1024;
constexpr auto kPollInterval = std::chrono::milliseconds(100);

absl::Status ErrnoUnavailable(absl::string_view what, const std::filesystem::path& path) {
  return absl::UnavailableError(absl::StrCat(what, " ", path.string(), ": ", std::strerror(errno)));
}

}  // namespace

absl::Status StreamFile(const std::filesystem::path& path, const LogTail& tail,
                        const std::function<bool()>& writers_done,
                        const std::function<bool(absl::string_view)>& sink,
                        const std::function<bool()>& cancelled) {
  int fd = -1;
  absl::Cleanup close_fd = [&] {
    if (fd >= 0) close(fd);
  };
  int64_t offset = 0;
  std::vector<char> buf(kChunkBytes);
  while (true) {
    bool done = writers_done();
    if (fd < 0) {
      fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 && errno != ENOENT) return ErrnoUnavailable("opening", path);
      struct stat st;
      if (fd >= 0 && !tail.whole_log() && fstat(fd, &st) == 0) {
        absl::StatusOr<int64_t> start = TailStart(fd, static_cast<int64_t>(st.st_size), tail);
        if (!start.ok()) return start.status();
        offset = *start;
      }
    }
    while (fd >= 0) {
      ssize_t n = pread(fd, buf.data(), buf.size(), offset);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoUnavailable("reading", path);
      if (n == 0) break;
      offset += n;
      if (!sink(absl::string_view(buf.data(), static_cast<size_t>(n)))) return absl::OkStatus();
      if (cancelled()) return absl::OkStatus();
    }
    if (done || cancelled()) return absl::OkStatus();
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace skydeck::backend::local
