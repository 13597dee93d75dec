// File: daemon/snapshots/local_snapshot.h
//
// Takes a code snapshot of a directory (or file) on skydeckd's own machine
// into the store: what the daemon does for clients that name a local
// workdir or template mount source without uploading it (the dashboard,
// gRPC clients). The CLI scans on its own machine and uploads instead.
//
//   ASSIGN_OR_RETURN(LocalSnapshot s, SnapshotLocalPath(store, "/home/me/p", "workdir
//   /home/me/p"));
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "daemon/snapshots/snapshot_store.h"

namespace skydeck::snapshots {

struct LocalSnapshot {
  StoredSnapshot snapshot;
  // What the scan left out besides ignored paths (common/code_scan.h).
  std::vector<std::string> skipped;
};

// Scans `path` with the store's limits (common/code_scan.h), stores every
// content and the tree. Errors: those of ScanCode; DATA_LOSS when a file
// changed while it was copied; the store's.
absl::StatusOr<LocalSnapshot> SnapshotLocalPath(SnapshotStore& store, const std::string& path,
                                                absl::string_view what);

}  // namespace skydeck::snapshots
