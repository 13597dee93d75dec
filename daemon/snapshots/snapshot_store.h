// File: daemon/snapshots/snapshot_store.h
//
// skydeckd's store of code snapshots (common/code_manifest.h), in its data
// directory, content-addressed:
//
//   DATA_DIR/snapshots/blobs/ab/ab12...   a file content, named by its SHA-256
//   DATA_DIR/snapshots/trees/9f3c...      a manifest, named by the snapshot id
//   DATA_DIR/snapshots/incoming/<sha>.part a content being uploaded
//   DATA_DIR/snapshots/tmp/               zips on their way to SkyPilot
//
// A content is stored once however many snapshots hold it, a tree once
// however many experiments name it. Everything is written to a temporary
// name and renamed, so a crash leaves either nothing or a whole file; a
// content is renamed into place only after its SHA-256 was checked.
//
// Uploads (the CLI sending a snapshot of a directory skydeckd cannot see)
// come in two steps: Put(manifest) answers which contents are missing and
// stores the tree once none is; PutBlobChunk appends pieces of one content
// at increasing offsets, resumable after a lost connection (an answer
// says where to continue), and checks the content's digest once whole.
//
// Garbage collection (Collect) removes trees no experiment, job or
// template version references, then contents no remaining tree holds, and
// abandoned partial uploads, each only when it has not been used for a
// grace period: every Put, Get and stored content "touches" what it
// names (its mtime), so what a client has just uploaded or been told is
// present survives until the create that names it.
//
// Thread-safety: safe for concurrent use (one mutex; content checks and
// collection run under it).
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#include "common/code_manifest.h"

namespace skydeck::snapshots {

// The most PutBlobChunk takes at once (a gRPC message stays far below
// its 4 MiB default).
inline constexpr int64_t kMaxBlobChunkBytes = 1 << 20;

// A stored snapshot, as callers see it.
struct StoredSnapshot {
  std::string id;
  bool single_file = false;
  // single_file: the one file's name (the snapshot's path); "" otherwise.
  std::string file_name;
  int64_t size_bytes = 0;
  int file_count = 0;
};

struct PutResult {
  // id, sizes; also when contents are missing.
  StoredSnapshot snapshot;
  // SHA-256 of contents still to upload, sorted, unique; empty when the
  // snapshot is stored.
  std::vector<std::string> missing;
};

struct BlobProgress {
  // Bytes of the content the store has: send from here.
  int64_t next_offset = 0;
  // The content is stored (checked).
  bool complete = false;
};

struct CollectResult {
  int trees = 0;
  int blobs = 0;
  int partials = 0;
  int64_t bytes = 0;
};

class SnapshotStore {
 public:
  // Creates the directories under `dir` (e.g. DATA_DIR/snapshots) and
  // empties its tmp/. Errors: INTERNAL naming what could not be created.
  static absl::StatusOr<std::unique_ptr<SnapshotStore>> Open(std::string dir,
                                                             SnapshotLimits limits);

  const SnapshotLimits& limits() const { return limits_; }
  // Where callers may write temporary files (removed at Open and by
  // Collect once older than the grace period).
  std::string temp_dir() const;

  // SnapshotStore::Put()
  //
  // Sorts and checks `manifest` (ValidateManifest with limits(); `what`
  // starts error messages) and stores its tree when every content is
  // present. Touches the tree or the contents that are present.
  // Idempotent. Errors: INVALID_ARGUMENT (a bad manifest, too big, a
  // symlink whose target leaves the snapshot); INTERNAL (disk).
  absl::StatusOr<PutResult> Put(CodeManifest manifest, absl::string_view what);

  // SnapshotStore::PutBlobChunk()
  //
  // Appends `data` to content `sha256` of `size` bytes at `offset`. An
  // offset other than what the store has writes nothing and answers
  // where to continue. A content already stored answers complete.
  // Errors: INVALID_ARGUMENT (a bad digest, size over the limit, more than
  // kMaxBlobChunkBytes, past the end); DATA_LOSS when the whole content
  // does not match its SHA-256 (the partial upload is dropped: send it
  // again); RESOURCE_EXHAUSTED when too many uploads are in progress.
  absl::StatusOr<BlobProgress> PutBlobChunk(absl::string_view sha256, int64_t size, int64_t offset,
                                            absl::string_view data);

  // Stores the content of local file `path`, which must have digest
  // `sha256` (checked while copying). Errors: DATA_LOSS when it changed;
  // those of reading it.
  absl::Status PutBlobFromFile(absl::string_view sha256, const std::string& path);
  // Stores `data` as content `sha256` (checked).
  absl::Status PutBlobData(absl::string_view sha256, absl::string_view data);
  bool HasBlob(absl::string_view sha256);

  // The stored snapshot `id`, touched. Errors: NOT_FOUND; INVALID_ARGUMENT
  // for an id that is not 64 hex digits.
  absl::StatusOr<StoredSnapshot> Get(absl::string_view id);
  // Its manifest. Errors: as Get.
  absl::StatusOr<CodeManifest> Manifest(absl::string_view id);
  // Where content `sha256` is stored (it may not exist).
  std::string BlobPath(absl::string_view sha256) const;

  // SnapshotStore::Collect()
  //
  // Removes trees not in `referenced` last used before `cutoff`, then
  // contents no remaining tree holds last used before `cutoff`, partial
  // uploads and temporary files last written before `cutoff`.
  absl::StatusOr<CollectResult> Collect(const std::set<std::string>& referenced, absl::Time cutoff);

 private:
  SnapshotStore(std::string dir, SnapshotLimits limits);

  std::string TreePath(absl::string_view id) const;
  std::string PartPath(absl::string_view sha256) const;
  absl::StatusOr<CodeManifest> ReadTreeLocked(absl::string_view id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Renames checked file `tmp` into place as content `sha256`.
  absl::Status InstallBlobLocked(absl::string_view sha256, const std::string& tmp)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckSymlinksLocked(const CodeManifest& manifest, absl::string_view what)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string NewTempPath();

  const std::string dir_;
  const SnapshotLimits limits_;
  absl::Mutex mu_;
};

// Describes a stored snapshot from its manifest.
StoredSnapshot Describe(absl::string_view id, const CodeManifest& manifest);

}  // namespace skydeck::snapshots
