#include "cli/code_upload.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"

#include "common/code_scan.h"
#include "common/code_version.h"
#include "common/status_macros.h"

namespace skydeck::cli {
namespace {

using Stub = pb::SkyDeck::Stub;

constexpr int64_t kChunkBytes = 1 << 20;  // the daemon's per-call bound
constexpr size_t kSkippedShown = 5;
// A content can vanish from the daemon between two calls (collected after
// a long pause); a few rounds settle it.
constexpr int kRounds = 3;

pb::CodeFile::Kind KindToProto(CodeEntryKind kind) {
  switch (kind) {
    case CodeEntryKind::kExecutable:
      return pb::CodeFile::KIND_EXECUTABLE;
    case CodeEntryKind::kSymlink:
      return pb::CodeFile::KIND_SYMLINK;
    case CodeEntryKind::kFile:
      break;
  }
  return pb::CodeFile::KIND_UNSPECIFIED;
}

void WarnSkipped(const CodeScan& scan, absl::string_view what) {
  if (scan.skipped.empty()) return;
  std::string list;
  for (size_t i = 0; i < scan.skipped.size() && i < kSkippedShown; ++i) {
    absl::StrAppend(&list, i ? "; " : "", scan.skipped[i]);
  }
  if (scan.skipped.size() > kSkippedShown) {
    absl::StrAppend(&list, "; and ", scan.skipped.size() - kSkippedShown, " more");
  }
  std::fprintf(stderr, "skydeck: warning: %s: left out of the code snapshot: %s\n",
               std::string(what).c_str(), list.c_str());
}

// Sends one content, from wherever the daemon says it is.
absl::Status SendContent(CommandContext& ctx, const CodeEntry& entry, const CodeSource& source) {
  std::string data;
  std::ifstream file;
  if (entry.kind == CodeEntryKind::kSymlink) {
    data = source.link_target;
  } else {
    file.open(source.file, std::ios::binary);
    if (!file) return absl::NotFoundError(absl::StrCat("cannot read ", source.file));
  }
  pb::PutCodeBlobRequest req;
  req.set_sha256(entry.sha256);
  req.set_size(entry.size);
  int64_t offset = 0;
  while (true) {
    int64_t n = std::min(kChunkBytes, entry.size - offset);
    std::string* chunk = req.mutable_data();
    if (entry.kind == CodeEntryKind::kSymlink) {
      *chunk = data.substr(static_cast<size_t>(offset), static_cast<size_t>(n));
    } else {
      chunk->resize(static_cast<size_t>(n));
      file.seekg(offset);
      file.read(chunk->data(), n);
      if (file.gcount() != n) {
        return absl::FailedPreconditionError(absl::StrCat(
            source.file, " changed while it was being uploaded; run the command again"));
      }
    }
    req.set_offset(offset);
    pb::PutCodeBlobResponse resp;
    RETURN_IF_ERROR(ctx.client().Call(&Stub::PutCodeBlob, req, &resp));
    if (resp.complete()) return absl::OkStatus();
    if (resp.next_offset() < 0 || resp.next_offset() > entry.size) {
      return absl::InternalError("the daemon answered an upload offset out of range");
    }
    offset = resp.next_offset();
  }
}

}  // namespace

absl::StatusOr<bool> CodeUploader::Wanted() {
  if (wanted_) return *wanted_;
  pb::GetHealthRequest req;
  pb::GetHealthResponse resp;
  RETURN_IF_ERROR(ctx_.client().Call(&Stub::GetHealth, req, &resp));
  wanted_ = resp.health().code_snapshots();
  max_bytes_ = resp.health().max_code_snapshot_bytes();
  return *wanted_;
}

absl::StatusOr<std::optional<pb::CodeSnapshot>> CodeUploader::Upload(const std::string& path,
                                                                     absl::string_view what) {
  ASSIGN_OR_RETURN(bool wanted, Wanted());
  if (!wanted) return std::optional<pb::CodeSnapshot>();
  if (auto it = done_.find(path); it != done_.end()) return std::optional(it->second);
  SnapshotLimits limits;
  if (max_bytes_ > 0) limits.max_bytes = max_bytes_;
  ASSIGN_OR_RETURN(CodeScan scan, ScanCode(path, limits, what));
  WarnSkipped(scan, what);
  pb::PutCodeSnapshotRequest req;
  req.set_single_file(scan.manifest.single_file);
  for (const CodeEntry& e : scan.manifest.entries) {
    pb::CodeFile* f = req.add_files();
    f->set_path(e.path);
    f->set_kind(KindToProto(e.kind));
    f->set_size(e.size);
    f->set_sha256(e.sha256);
  }
  pb::PutCodeSnapshotResponse resp;
  for (int round = 0;; ++round) {
    RETURN_IF_ERROR(ctx_.client().Call(&Stub::PutCodeSnapshot, req, &resp));
    if (resp.missing().empty()) break;
    if (round == kRounds) {
      return absl::UnavailableError(absl::StrCat(what, ": the daemon still lacks ",
                                                 resp.missing_size(), " file contents after ",
                                                 kRounds, " uploads; try again"));
    }
    std::set<std::string> missing(resp.missing().begin(), resp.missing().end());
    for (size_t i = 0; i < scan.manifest.entries.size(); ++i) {
      const CodeEntry& e = scan.manifest.entries[i];
      if (missing.erase(e.sha256) == 0) continue;
      absl::Status sent = SendContent(ctx_, e, scan.sources[i]);
      if (!sent.ok()) {
        return absl::Status(sent.code(), absl::StrCat(what, ": ", e.path, ": ", sent.message()));
      }
    }
  }
  std::string local_id = ManifestId(scan.manifest);
  if (resp.snapshot().id() != local_id) {
    return absl::InternalError(absl::StrCat(what, ": the daemon stored snapshot ",
                                            resp.snapshot().id(), ", not ", local_id,
                                            " computed here (a different SkyDeck version?)"));
  }
  pb::CodeSnapshot snapshot = resp.snapshot();
  std::string dir =
      scan.manifest.single_file ? std::filesystem::path(path).parent_path().string() : path;
  CodeVersion version = InspectCode(dir);
  snapshot.set_git_commit(version.commit);
  snapshot.set_git_dirty(version.dirty);
  done_[path] = snapshot;
  return std::optional(snapshot);
}

absl::StatusOr<bool> UploadDefaultWorkdir(CodeUploader& uploader, const std::string& dir,
                                          pb::CodeSnapshot* out) {
  absl::StatusOr<std::optional<pb::CodeSnapshot>> s =
      uploader.Upload(dir, absl::StrCat("the current directory ", dir));
  if (s.ok()) {
    if (*s) *out = **s;
    return true;
  }
  // Only what is wrong with the directory is a warning; the daemon's and
  // the transport's errors stop the command.
  if (absl::IsInvalidArgument(s.status()) || absl::IsNotFound(s.status()) ||
      absl::IsPermissionDenied(s.status())) {
    std::fprintf(stderr,
                 "skydeck: warning: %s; it is not sent as the workdir (pass --workdir DIR or "
                 "--no-workdir)\n",
                 std::string(s.status().message()).c_str());
    return false;
  }
  return s.status();
}

absl::Status AttachWorkdirCode(CodeUploader& uploader, pb::Experiment* e) {
  if (e->workdir().empty() || e->workdir()[0] != '/') return absl::OkStatus();
  ASSIGN_OR_RETURN(std::optional<pb::CodeSnapshot> s,
                   uploader.Upload(e->workdir(), absl::StrCat("workdir ", e->workdir())));
  if (s) *e->mutable_code_snapshot() = *s;
  return absl::OkStatus();
}

absl::Status AttachCreateCode(CodeUploader& uploader, pb::CreateExperimentRequest* req) {
  if (!req->experiment().workdir().empty()) {
    return AttachWorkdirCode(uploader, req->mutable_experiment());
  }
  if (req->default_workdir().empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(bool send, UploadDefaultWorkdir(uploader, req->default_workdir(),
                                                   req->mutable_default_code_snapshot()));
  if (!send) {
    req->clear_default_workdir();
    req->clear_default_code_snapshot();
  }
  return absl::OkStatus();
}

}  // namespace skydeck::cli
