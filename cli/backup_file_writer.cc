#include "cli/backup_file_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace skydeck::cli {
namespace {

absl::Status IoError(absl::string_view what, const std::string& path, int err) {
  std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

}  // namespace

BackupFileWriter::BackupFileWriter(std::string path)
    : path_(std::move(path)), temp_path_(absl::StrCat(path_, ".partial-", getpid())) {}

BackupFileWriter::~BackupFileWriter() {
  if (fd_ >= 0) close(fd_);
  if (created_ && !committed_) unlink(temp_path_.c_str());
}

absl::Status BackupFileWriter::Open() {
  fd_ = open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", temp_path_, ": ", std::strerror(errno)));
  }
  created_ = true;
  return absl::OkStatus();
}

absl::Status BackupFileWriter::Append(absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("writing", temp_path_, errno);
    }
    hash_.Update(data.substr(0, static_cast<size_t>(n)));
    written_ += n;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status BackupFileWriter::Commit(int64_t expected_size, const std::string& expected_sha256) {
  if (written_ != expected_size) {
    return absl::DataLossError(absl::StrCat("the backup arrived incomplete: ", written_, " of ",
                                            expected_size, " bytes; ", path_, " was not written"));
  }
  std::string digest = hash_.HexDigest();
  if (digest != expected_sha256) {
    return absl::DataLossError(absl::StrCat("the backup arrived damaged: SHA-256 ", digest,
                                            ", the daemon sent ", expected_sha256, "; ", path_,
                                            " was not written"));
  }
  if (fsync(fd_) != 0) return IoError("syncing", temp_path_, errno);
  int closed = close(fd_);
  fd_ = -1;
  if (closed != 0) return IoError("closing", temp_path_, errno);
  if (rename(temp_path_.c_str(), path_.c_str()) != 0) return IoError("renaming to", path_, errno);
  committed_ = true;
  // The rename itself survives a crash only once the directory is synced.
  std::string dir = std::filesystem::path(path_).parent_path().string();
  int dir_fd = open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    fsync(dir_fd);
    close(dir_fd);
  }
  return absl::OkStatus();
}

}  // namespace skydeck::cli
