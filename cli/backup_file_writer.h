// File: cli/backup_file_writer.h
//
// Writes a backup streamed by the daemon to a file so that the file is
// either the whole, verified backup or not there: the bytes go to a
// temporary file beside it (mode 0600: a backup holds every command and
// flag), which is checked against the size and SHA-256 the daemon sent,
// synced, and only then renamed over the target. A failure at any point
// removes the temporary file and leaves an existing target as it was.
//
//   BackupFileWriter out(path);
//   RETURN_IF_ERROR(out.Open());
//   RETURN_IF_ERROR(out.Append(chunk));   // for each chunk, in order
//   RETURN_IF_ERROR(out.Commit(size_bytes, sha256));
//
// Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

#include "common/sha256.h"

namespace skydeck::cli {

class BackupFileWriter {
 public:
  explicit BackupFileWriter(std::string path);
  // Removes the temporary file unless Commit succeeded.
  ~BackupFileWriter();
  BackupFileWriter(const BackupFileWriter&) = delete;
  BackupFileWriter& operator=(const BackupFileWriter&) = delete;

  // Creates the temporary file. Errors: FAILED_PRECONDITION when it cannot
  // be created (missing directory, permissions), naming the path.
  absl::Status Open();
  // REQUIRES: Open succeeded. Errors: RESOURCE_EXHAUSTED for a full disk,
  // else INTERNAL.
  absl::Status Append(absl::string_view data);
  // Checks what was written against the daemon's figures, syncs it and
  // renames it to the target (then syncs the directory).
  // Errors: DATA_LOSS when the size or digest differ (nothing is renamed);
  // INTERNAL for I/O.
  absl::Status Commit(int64_t expected_size, const std::string& expected_sha256);

  int64_t bytes_written() const { return written_; }

 private:
  const std::string path_;
  const std::string temp_path_;
  int fd_ = -1;
  bool created_ = false;  // the temporary file exists
  int64_t written_ = 0;
  Sha256 hash_;
  bool committed_ = false;
};

}  // namespace skydeck::cli
