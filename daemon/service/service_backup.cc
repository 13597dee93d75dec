// SkyDeckService::Backup: streams a consistent copy of the database
// (Store::Backup) in chunks, with its SHA-256 at the end.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

#include "common/sha256.h"
#include "common/status_macros.h"
#include "daemon/service/skydeck_service.h"

namespace skydeck::service {
namespace {

// Well under gRPC's 4 MiB default receive limit, big enough that a
// gigabyte is a thousand messages.
constexpr int64_t kBackupChunkBytes = 1 << 20;

}  // namespace

grpc::Status SkyDeckService::Backup(grpc::ServerContext* ctx, const pb::BackupRequest* req,
                                    grpc::ServerWriter<pb::BackupResponse>* writer) {
  return Handle(*ctx, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::unique_ptr<store::BackupFile> file, store_->Backup());
    Sha256 hash;
    std::string buffer(kBackupChunkBytes, '\0');
    int64_t offset = 0;
    do {
      if (ctx->IsCancelled()) return absl::CancelledError("the client went away");
      size_t want = static_cast<size_t>(std::min(kBackupChunkBytes, file->size_bytes() - offset));
      ssize_t n = pread(file->fd(), buffer.data(), want, offset);
      if (n < 0 || (n == 0 && want > 0)) {
        return absl::InternalError(absl::StrCat("reading the backup copy at byte ", offset, ": ",
                                                n < 0 ? std::strerror(errno) : "file shrank"));
      }
      absl::string_view chunk(buffer.data(), static_cast<size_t>(n));
      hash.Update(chunk);
      pb::BackupResponse resp;
      if (offset == 0) {
        resp.set_size_bytes(file->size_bytes());
        resp.set_revision(file->revision());
      }
      resp.set_data(chunk.data(), chunk.size());
      offset += n;
      if (offset == file->size_bytes()) resp.set_sha256(hash.HexDigest());
      if (!writer->Write(resp)) return absl::CancelledError("the client went away");
    } while (offset < file->size_bytes());
    return absl::OkStatus();
  });
}

}  // namespace skydeck::service
