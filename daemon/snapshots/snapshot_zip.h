// File: daemon/snapshots/snapshot_zip.h
//
// The zip that carries code snapshots to SkyPilot's API server (its
// `POST /upload`, see daemon/backend/skypilot/snapshot_upload.h): each
// snapshot's files under its own directory `prefix`, e.g.
//
//   skydeck/snapshots/9f3c.../            (a directory entry)
//   skydeck/snapshots/9f3c.../train.py
//   skydeck/snapshots/9f3c.../pkg/model.py
//
// The server extracts every entry under ~/.sky/api_server/clients/<user>/
// file_mounts/, so `prefix` becomes the path the task's
// file_mounts_mapping names. Files keep their executable bit in the zip
// (SkyPilot's extraction does not restore it), symlinks stay symlinks.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

#include "daemon/snapshots/snapshot_store.h"

namespace skydeck::snapshots {

struct ZipRoot {
  std::string snapshot_id;
  // Relative, '/'-separated, no trailing '/'.
  std::string prefix;
};

// Writes the zip of `roots` to `out_path`. Errors: NOT_FOUND when a
// snapshot or one of its contents is not in `store`; those of ZipWriter.
absl::Status WriteSnapshotZip(SnapshotStore& store, const std::vector<ZipRoot>& roots,
                              const std::string& out_path);

}  // namespace skydeck::snapshots
