// File: cli/code_upload.h
//
// Sends code snapshots of local directories (an experiment's workdir) and
// files (a template's file mount sources) to skydeckd, when its backend
// runs local code from snapshots (SkyPilot: Health.code_snapshots). The
// CLI always sends the snapshot itself instead of letting the daemon read
// the path: the daemon may be on another machine, or see another directory
// under the same path. Content-addressed, so sending costs one round trip
// when the daemon already has everything ("have it"):
//
//   1. scan the directory here (common/code_scan.h: .gitignore and
//      .skydeckignore honoured, the daemon's size limit checked before any
//      file is read);
//   2. PutCodeSnapshot with the manifest: the daemon answers which file
//      contents it lacks;
//   3. PutCodeBlob for each, in 1 MiB chunks (resumed from where the daemon
//      says it is);
//   4. PutCodeSnapshot again: stored. The id the daemon computed must be
//      the one computed here.
//
//   CodeUploader uploader(ctx);
//   ASSIGN_OR_RETURN(std::optional<pb::CodeSnapshot> s, uploader.Upload("/home/me/p", "workdir
//   /home/me/p")); if (s) *experiment.mutable_code_snapshot() = *s;
//
// Thread-safety: one thread (the CLI's).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "cli/command.h"
#include "skydeck/v1/resources.pb.h"

namespace skydeck::cli {

class CodeUploader {
 public:
  explicit CodeUploader(CommandContext& ctx) : ctx_(ctx) {}

  // Whether the daemon wants snapshots of local paths (asked once).
  absl::StatusOr<bool> Wanted();

  // CodeUploader::Upload()
  //
  // The snapshot of absolute `path` (a directory, or a file), uploaded;
  // nullopt when the daemon does not want snapshots. The same path twice
  // is scanned and sent once. Warns on stderr about what the scan left out
  // besides ignored paths (e.g. symlinks out of the directory). `what`
  // starts error messages ("workdir /home/me/p").
  // Errors: the scan's (INVALID_ARGUMENT naming the size and the biggest
  // paths when over the daemon's limit; NOT_FOUND); the daemon's.
  absl::StatusOr<std::optional<pb::CodeSnapshot>> Upload(const std::string& path,
                                                         absl::string_view what);

 private:
  CommandContext& ctx_;
  std::optional<bool> wanted_;
  int64_t max_bytes_ = 0;
  std::map<std::string, pb::CodeSnapshot> done_;
};

// UploadDefaultWorkdir()
//
// For creates: the snapshot of the current directory `dir` sent as
// default_workdir. The directory is only a default, so a snapshot that
// cannot be taken (too big, unreadable) is a warning, and the directory is
// then not sent: returns false for "send no default_workdir". REQUIRES:
// `dir` is not empty.
absl::StatusOr<bool> UploadDefaultWorkdir(CodeUploader& uploader, const std::string& dir,
                                          pb::CodeSnapshot* out);

// Sets e->code_snapshot to the uploaded snapshot of e->workdir() when that
// is a local directory (nothing otherwise). Errors: Upload's.
absl::Status AttachWorkdirCode(CodeUploader& uploader, pb::Experiment* e);

// For a create request: the snapshot of experiment.workdir, else of
// default_workdir (which is cleared when it cannot be taken, with a
// warning: UploadDefaultWorkdir).
absl::Status AttachCreateCode(CodeUploader& uploader, pb::CreateExperimentRequest* req);

}  // namespace skydeck::cli
