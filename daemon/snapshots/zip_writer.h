// File: daemon/snapshots/zip_writer.h
//
// Writes a zip archive (PKWARE APPNOTE 6.3, no zip64) to a file: what
// SkyPilot's `POST /upload` takes. Files are deflated (zlib); directories
// and symlinks are stored, a symlink's content being its target, with the
// Unix mode in the high 16 bits of the external attributes (SkyPilot's
// server recognises symlinks by them, as Info-ZIP does). Names are UTF-8
// (general-purpose bit 11). Every entry has the same fixed time
// (1980-01-01 00:00), so the same content gives the same archive.
//
//   ASSIGN_OR_RETURN(auto zip, ZipWriter::Create("/tmp/x.zip"));
//   RETURN_IF_ERROR(zip->AddDirectory("code"));
//   RETURN_IF_ERROR(zip->AddFile("code/train.py", "/src/train.py", /*executable=*/false));
//   RETURN_IF_ERROR(zip->AddSymlink("code/latest", "train.py"));
//   RETURN_IF_ERROR(zip->Finish());
//
// Limits: every size and offset below 4 GiB, at most 65,535 entries
// (INVALID_ARGUMENT beyond). Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skydeck::snapshots {

class ZipWriter {
 public:
  // Errors: INTERNAL when `path` cannot be created.
  static absl::StatusOr<std::unique_ptr<ZipWriter>> Create(const std::string& path);
  ~ZipWriter();

  // `name` without a trailing '/'; the entry is "name/".
  absl::Status AddDirectory(absl::string_view name);
  // Deflates the content of local file `source`.
  absl::Status AddFile(absl::string_view name, const std::string& source, bool executable);
  absl::Status AddSymlink(absl::string_view name, absl::string_view target);
  // Writes the central directory and closes the file.
  absl::Status Finish();

 private:
  struct Entry {
    std::string name;
    uint16_t method = 0;
    uint32_t crc = 0;
    uint64_t compressed = 0;
    uint64_t size = 0;
    uint32_t external = 0;
    uint64_t offset = 0;
  };
  explicit ZipWriter(FILE* f, std::string path) : file_(f), path_(std::move(path)) {}

  absl::Status Begin(Entry& e);
  absl::Status WriteStored(Entry& e, absl::string_view data);
  absl::Status Patch(const Entry& e);
  absl::Status Write(absl::string_view bytes);

  FILE* file_;
  std::string path_;
  std::vector<Entry> entries_;
  bool finished_ = false;
};

}  // namespace skydeck::snapshots
