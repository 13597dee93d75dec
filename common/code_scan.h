// File: common/code_scan.h
//
// Scans a local directory (or one file) into a code snapshot manifest
// (common/code_manifest.h): what the CLI does before it uploads a workdir
// to skydeckd, and what skydeckd does itself for clients that name a
// directory on its machine without uploading it.
//
// What is left out: every entry named `.git`; what `.gitignore` and
// `.skydeckignore` files exclude (common/ignore_rules.h), reading those in
// the directory and below it and, when the directory is inside a git work
// tree, the `.gitignore` files of its parents up to the top of the work
// tree; symlinks whose target is absolute or leaves the directory, and
// sockets, fifos and devices (listed in `skipped`). Empty directories are
// not kept. Symlinks inside the directory are kept as symlinks (not
// followed).
//
// The sizes are checked before anything is read (a directory of 50 GB of
// data is refused in the time it takes to list it), then every file is
// hashed once.
//
//   ASSIGN_OR_RETURN(CodeScan scan, ScanCode("/home/me/project", limits, "workdir
//   /home/me/project")); std::string id = ManifestId(scan.manifest);
//
// Thread-safety: safe to call concurrently.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "common/code_manifest.h"

namespace skydeck {

// Where the content of one manifest entry comes from.
struct CodeSource {
  // Absolute path of a file; "" for a symlink.
  std::string file;
  // A symlink's target (its content).
  std::string link_target;
};

struct CodeScan {
  // The absolute path scanned.
  std::string root;
  CodeManifest manifest;
  // Parallel to manifest.entries.
  std::vector<CodeSource> sources;
  // What was left out besides ignored paths, one line each, e.g.
  // "venv/python -> /usr/bin/python3 (a symlink out of the directory)".
  std::vector<std::string> skipped;
};

// ScanCode()
//
// `path` is an absolute directory or regular file (a symlink to one is
// followed). `what` starts every error message.
// Errors: NOT_FOUND when `path` does not exist; INVALID_ARGUMENT when it
// is neither a directory nor a regular file, when a path cannot be a
// snapshot path (e.g. a control character in a name), or when the
// snapshot would exceed `limits` (naming the biggest paths, see
// CheckSnapshotSize); PERMISSION_DENIED / INTERNAL when something cannot
// be read (naming it). A file that changes while it is hashed is hashed
// as read.
absl::StatusOr<CodeScan> ScanCode(const std::string& path, const SnapshotLimits& limits,
                                  absl::string_view what);

}  // namespace skydeck
