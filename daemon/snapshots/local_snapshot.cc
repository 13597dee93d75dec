#include "daemon/snapshots/local_snapshot.h"

#include "absl/strings/str_cat.h"

#include "common/code_scan.h"
#include "common/status_macros.h"

namespace skydeck::snapshots {

absl::StatusOr<LocalSnapshot> SnapshotLocalPath(SnapshotStore& store, const std::string& path,
                                                absl::string_view what) {
  ASSIGN_OR_RETURN(CodeScan scan, ScanCode(path, store.limits(), what));
  for (size_t i = 0; i < scan.manifest.entries.size(); ++i) {
    const CodeEntry& e = scan.manifest.entries[i];
    const CodeSource& src = scan.sources[i];
    if (e.kind == CodeEntryKind::kSymlink) {
      RETURN_IF_ERROR(store.PutBlobData(e.sha256, src.link_target));
    } else {
      RETURN_IF_ERROR(store.PutBlobFromFile(e.sha256, src.file));
    }
  }
  ASSIGN_OR_RETURN(PutResult put, store.Put(scan.manifest, what));
  if (!put.missing.empty()) {
    // Only a collection racing this call can do that; the caller may retry.
    return absl::UnavailableError(
        absl::StrCat(what, ": contents vanished while the snapshot was stored; try again"));
  }
  return LocalSnapshot{std::move(put.snapshot), std::move(scan.skipped)};
}

}  // namespace skydeck::snapshots
