#include "daemon/snapshots/snapshot_zip.h"

#include <fstream>

#include "absl/strings/str_cat.h"

#include "common/status_macros.h"
#include "daemon/snapshots/zip_writer.h"

namespace skydeck::snapshots {

absl::Status WriteSnapshotZip(SnapshotStore& store, const std::vector<ZipRoot>& roots,
                              const std::string& out_path) {
  ASSIGN_OR_RETURN(std::unique_ptr<ZipWriter> zip, ZipWriter::Create(out_path));
  for (const ZipRoot& root : roots) {
    ASSIGN_OR_RETURN(CodeManifest manifest, store.Manifest(root.snapshot_id));
    RETURN_IF_ERROR(zip->AddDirectory(root.prefix));
    for (const CodeEntry& e : manifest.entries) {
      std::string name = absl::StrCat(root.prefix, "/", e.path);
      std::string blob = store.BlobPath(e.sha256);
      if (!store.HasBlob(e.sha256)) {
        return absl::NotFoundError(absl::StrCat("code snapshot ", root.snapshot_id,
                                                ": the content of ", e.path, " is missing"));
      }
      if (e.kind == CodeEntryKind::kSymlink) {
        std::ifstream in(blob, std::ios::binary);
        std::string target((std::istreambuf_iterator<char>(in)), {});
        RETURN_IF_ERROR(zip->AddSymlink(name, target));
      } else {
        RETURN_IF_ERROR(zip->AddFile(name, blob, e.kind == CodeEntryKind::kExecutable));
      }
    }
  }
  return zip->Finish();
}

}  // namespace skydeck::snapshots
