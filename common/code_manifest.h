// File: common/code_manifest.h
//
// A code snapshot is a frozen copy of a directory (an experiment's local
// workdir) or of one file (a template's file mount source). Its manifest
// lists every file it holds: path, kind, size and the SHA-256 of the
// content. The snapshot's id, its content address, is the SHA-256 of the
// manifest's canonical text, so the same tree always has the same id
// wherever it was scanned (the CLI or skydeckd), and file contents are
// stored once however many snapshots hold them.
//
// Canonical text (UTF-8 or any bytes but control characters in paths):
//
//   skydeck-snapshot 1 dir            ("file" for the snapshot of one file)
//   f <sha256> <size> <path>          a regular file
//   x <sha256> <size> <path>          an executable file (any x bit set)
//   l <sha256> <size> <path>          a symlink; its content is the target
//
// one line per entry, sorted by path (bytewise), '\n' after every line.
// Directories are implied by the paths; empty directories are not kept.
// Paths are relative, '/'-separated, without "", "." or ".." segments,
// at most 4096 bytes. A symlink's target is relative and stays inside the
// snapshot (checked where its content is known: code_scan.h, and the
// daemon's store when the snapshot is complete).
//
//   CodeManifest m;
//   m.entries.push_back({"train.py", CodeEntryKind::kFile, 120, "ab12..."});
//   std::string id = ManifestId(m);   // 64 hex digits
//
// Pure. Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skydeck {

enum class CodeEntryKind { kFile, kExecutable, kSymlink };

struct CodeEntry {
  std::string path;
  CodeEntryKind kind = CodeEntryKind::kFile;
  int64_t size = 0;
  std::string sha256;

  bool operator==(const CodeEntry&) const = default;
};

struct CodeManifest {
  // The snapshot of one file: exactly one entry (a file, not a symlink),
  // named by the file's base name.
  bool single_file = false;
  // Sorted by path, paths unique.
  std::vector<CodeEntry> entries;

  bool operator==(const CodeManifest&) const = default;
};

// What a snapshot may hold. skydeckd --max-snapshot-bytes sets max_bytes.
struct SnapshotLimits {
  int64_t max_bytes = int64_t{100} << 20;
  int max_files = 20000;
};
inline constexpr size_t kMaxCodePathBytes = 4096;
// A symlink's target is a small content; more is not a link anyone means.
inline constexpr int64_t kMaxSymlinkTargetBytes = 4096;
// No zip64 on the way to SkyPilot: a snapshot stays well below 4 GiB.
inline constexpr int64_t kMaxSnapshotBytesLimit = int64_t{2} << 30;

// The manifest's canonical text (see above). REQUIRES: ValidateManifest.
std::string CanonicalManifest(const CodeManifest& manifest);

// The snapshot's id: the SHA-256 (hex) of CanonicalManifest.
std::string ManifestId(const CodeManifest& manifest);

// Reads canonical text back. Errors: INVALID_ARGUMENT naming the line.
absl::StatusOr<CodeManifest> ParseManifest(absl::string_view text);

// Sorts the entries by path (a client may list them in any order).
void SortManifest(CodeManifest& manifest);

// ValidateManifest()
//
// Paths as above, sorted and unique; sizes >= 0; digests 64 hex digits;
// a single-file manifest has one file entry without '/'; symlink contents
// at most kMaxSymlinkTargetBytes; at most limits.max_files entries and
// limits.max_bytes bytes in all (the message then names the biggest
// paths, see CheckSnapshotSize). `what` starts each message ("workdir
// /home/me/project").
// Errors: INVALID_ARGUMENT.
absl::Status ValidateManifest(const CodeManifest& manifest, const SnapshotLimits& limits,
                              absl::string_view what);

// SymlinkStaysInside()
//
// Whether a symlink at snapshot path `path` pointing at `target` resolves
// inside the snapshot (lexically): a relative target without enough ".."
// to leave it.
//   SymlinkStaysInside("d/link", "../a.py") == true
//   SymlinkStaysInside("link", "../x") == false; SymlinkStaysInside("l", "/etc") == false
bool SymlinkStaysInside(absl::string_view path, absl::string_view target);

// Whether `path` is a valid snapshot path (see above); the reason if not.
absl::Status ValidateCodePath(absl::string_view path);

// CheckSnapshotSize()
//
// INVALID_ARGUMENT when `files` (path, size) hold more than
// limits.max_bytes bytes or more than limits.max_files files, saying how
// much, the limit, the biggest paths (directories and files) and how to
// leave them out:
//   workdir /p: the code snapshot would hold 312.4 MiB in 1,204 files,
//   more than the limit of 100.0 MiB (skydeckd --max-snapshot-bytes).
//   Biggest: data/ 298.1 MiB, data/train.bin 250.0 MiB, ... Leave them out
//   with .skydeckignore or .gitignore (gitignore syntax), or use a git URL
//   or a bucket mount for data.
struct SizedPath {
  std::string path;
  int64_t size = 0;
};
absl::Status CheckSnapshotSize(const std::vector<SizedPath>& files, const SnapshotLimits& limits,
                               absl::string_view what);

// "312.4 MiB", "12 B", "1.0 KiB".
std::string FormatBytes(int64_t bytes);

// The first 12 hex digits of an id, for display.
std::string ShortSnapshotId(absl::string_view id);

}  // namespace skydeck
