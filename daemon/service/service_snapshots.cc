// Code snapshot handlers of SkyDeckService (PutCodeSnapshot, PutCodeBlob)
// and how a request's local workdir or template file mounts get their
// snapshots: the one the client uploaded and named, else one the daemon
// takes of a path on its own machine (docs/design.md, "Code snapshots").
#include <algorithm>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

#include "common/code_scan.h"
#include "common/code_version.h"
#include "common/model/task_template.h"
#include "common/model/validation.h"
#include "common/model/workdir.h"
#include "common/status_macros.h"
#include "daemon/service/convert.h"
#include "daemon/service/skydeck_service.h"
#include "daemon/snapshots/local_snapshot.h"
#include "daemon/snapshots/snapshot_store.h"

namespace skydeck::service {
namespace {

constexpr size_t kMaxGitCommitBytes = 64;

absl::StatusOr<CodeEntryKind> KindFromProto(pb::CodeFile::Kind kind) {
  switch (kind) {
    case pb::CodeFile::KIND_UNSPECIFIED:
      return CodeEntryKind::kFile;
    case pb::CodeFile::KIND_EXECUTABLE:
      return CodeEntryKind::kExecutable;
    case pb::CodeFile::KIND_SYMLINK:
      return CodeEntryKind::kSymlink;
    default:
      return absl::InvalidArgumentError("files.kind: unknown");
  }
}

CodeSnapshotRef RefOf(const snapshots::StoredSnapshot& s) {
  CodeSnapshotRef r;
  r.id = s.id;
  r.size_bytes = s.size_bytes;
  r.file_count = s.file_count;
  r.file_name = s.file_name;
  return r;
}

void SnapshotToProto(const snapshots::StoredSnapshot& s, pb::CodeSnapshot* out) {
  ToProto(RefOf(s), out);
}

// The git fields a client reports with its snapshot: informational, but
// shown everywhere, so kept to what git prints.
absl::Status ValidateGit(const pb::CodeSnapshot& c, absl::string_view field) {
  if (c.git_commit().size() > kMaxGitCommitBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".git_commit: at most ", kMaxGitCommitBytes, " characters"));
  }
  for (char ch : c.git_commit()) {
    if (!absl::ascii_isxdigit(ch)) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".git_commit: hex digits only"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

void SkyDeckService::set_code_snapshots(snapshots::SnapshotStore* store, bool snapshot_backend) {
  snapshots_ = store;
  snapshot_backend_ = snapshot_backend && store != nullptr;
}

absl::Status SkyDeckService::NeedSnapshotStore() const {
  if (snapshots_ != nullptr) return absl::OkStatus();
  return absl::FailedPreconditionError("this daemon keeps no code snapshots");
}

grpc::Status SkyDeckService::PutCodeSnapshot(grpc::ServerContext* ctx,
                                             const pb::PutCodeSnapshotRequest* req,
                                             pb::PutCodeSnapshotResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    RETURN_IF_ERROR(NeedSnapshotStore());
    CodeManifest manifest;
    manifest.single_file = req->single_file();
    if (req->files_size() > snapshots_->limits().max_files) {
      return absl::InvalidArgumentError(absl::StrCat("files: at most ",
                                                     snapshots_->limits().max_files,
                                                     " in a snapshot; leave some out "
                                                     "with .skydeckignore"));
    }
    for (const pb::CodeFile& f : req->files()) {
      ASSIGN_OR_RETURN(CodeEntryKind kind, KindFromProto(f.kind()));
      manifest.entries.push_back(CodeEntry{f.path(), kind, f.size(), f.sha256()});
    }
    ASSIGN_OR_RETURN(snapshots::PutResult put,
                     snapshots_->Put(std::move(manifest), "code snapshot"));
    SnapshotToProto(put.snapshot, resp->mutable_snapshot());
    for (std::string& sha : put.missing) resp->add_missing(std::move(sha));
    return absl::OkStatus();
  });
}

grpc::Status SkyDeckService::PutCodeBlob(grpc::ServerContext* ctx,
                                         const pb::PutCodeBlobRequest* req,
                                         pb::PutCodeBlobResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    RETURN_IF_ERROR(NeedSnapshotStore());
    ASSIGN_OR_RETURN(
        snapshots::BlobProgress p,
        snapshots_->PutBlobChunk(req->sha256(), req->size(), req->offset(), req->data()));
    resp->set_next_offset(p.next_offset);
    resp->set_complete(p.complete);
    return absl::OkStatus();
  });
}

absl::StatusOr<CodeSnapshotRef> SkyDeckService::NamedSnapshot(const pb::CodeSnapshot& requested,
                                                              absl::string_view field) {
  RETURN_IF_ERROR(NeedSnapshotStore());
  RETURN_IF_ERROR(ValidateGit(requested, field));
  absl::StatusOr<snapshots::StoredSnapshot> stored = snapshots_->Get(requested.id());
  if (absl::IsNotFound(stored.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": code snapshot ", requested.id(),
                     " is not stored in skydeckd; upload it "
                     "first (PutCodeSnapshot, PutCodeBlob; the skydeck CLI does it)"));
  }
  if (absl::IsInvalidArgument(stored.status())) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", stored.status().message()));
  }
  RETURN_IF_ERROR(stored.status());
  CodeSnapshotRef ref = RefOf(*stored);
  ref.git_commit = requested.git_commit();
  ref.git_dirty = requested.git_dirty();
  return ref;
}

absl::StatusOr<CodeSnapshotRef> SkyDeckService::SnapshotHere(const std::string& path,
                                                             absl::string_view what, bool dry_run) {
  RETURN_IF_ERROR(NeedSnapshotStore());
  CodeSnapshotRef ref;
  if (dry_run) {
    // Validate-only requests write nothing, the snapshot store included.
    ASSIGN_OR_RETURN(CodeScan scan, ScanCode(path, snapshots_->limits(), what));
    ref = RefOf(snapshots::Describe(ManifestId(scan.manifest), scan.manifest));
  } else {
    ASSIGN_OR_RETURN(snapshots::LocalSnapshot taken,
                     snapshots::SnapshotLocalPath(*snapshots_, path, what));
    ref = RefOf(taken.snapshot);
  }
  // A file's git state is its repository's.
  CodeVersion version = InspectCode(
      ref.file_name.empty() ? path : std::filesystem::path(path).parent_path().string());
  ref.git_commit = version.commit;
  ref.git_dirty = version.dirty;
  return ref;
}

absl::StatusOr<CodeSnapshotRef> SkyDeckService::ResolveWorkdirCode(
    const std::string& workdir, const pb::CodeSnapshot& requested, absl::string_view field,
    bool dry_run) {
  ASSIGN_OR_RETURN(Workdir w, ParseWorkdir(workdir));
  if (w.kind != Workdir::Kind::kLocal) {
    if (!requested.id().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": a code snapshot goes with a local workdir only"));
    }
    return CodeSnapshotRef{};
  }
  // A backend that runs the directory in place runs no snapshot: a job
  // must not record one it did not run.
  if (!snapshot_backend_) return CodeSnapshotRef{};
  if (!requested.id().empty()) {
    ASSIGN_OR_RETURN(CodeSnapshotRef ref, NamedSnapshot(requested, field));
    if (!ref.file_name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": the snapshot of one file cannot be a workdir"));
    }
    return ref;
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(w.path, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("workdir ", w.path,
                     " is not a directory on the daemon's machine, and no code snapshot "
                     "of it was uploaded: the skydeck CLI uploads one; other clients upload it "
                     "(PutCodeSnapshot, PutCodeBlob) and name it in code_snapshot"));
  }
  return SnapshotHere(w.path, absl::StrCat("workdir ", w.path), dry_run);
}

absl::StatusOr<std::map<std::string, CodeSnapshotRef>> SkyDeckService::ResolveMountSnapshots(
    const TaskTemplate& parsed,
    const google::protobuf::Map<std::string, pb::CodeSnapshot>& requested, bool dry_run) {
  std::map<std::string, CodeSnapshotRef> out;
  for (const auto& [source, snapshot] : requested) {
    if (std::find(parsed.local_sources.begin(), parsed.local_sources.end(), source) ==
        parsed.local_sources.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("template.mount_snapshots: ", QuoteForError(source),
                       " is not a local file_mounts source of the template"));
    }
    ASSIGN_OR_RETURN(out[source],
                     NamedSnapshot(snapshot, absl::StrCat("template.mount_snapshots[",
                                                          QuoteForError(source), "]")));
  }
  if (!snapshot_backend_) return out;
  for (const std::string& source : parsed.local_sources) {
    if (out.count(source) > 0) continue;
    if (source.empty() || source[0] != '/') {
      return absl::InvalidArgumentError(absl::StrCat(
          "file_mounts source ", QuoteForError(source),
          " is relative to the machine that applies the template: apply it with the skydeck "
          "CLI (it uploads local sources), or use an absolute path on the daemon's machine"));
    }
    ASSIGN_OR_RETURN(out[source],
                     SnapshotHere(source, absl::StrCat("file_mounts source ", source), dry_run));
  }
  return out;
}

}  // namespace skydeck::service
