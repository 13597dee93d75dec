// File: cli/backup.cc
//
// `skydeck backup FILE`: a consistent copy of the daemon's database,
// streamed over the API (so it works from another machine), written to
// FILE only once it arrived whole (backup_file_writer.h).
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "cli/backup_file_writer.h"
#include "cli/command.h"
#include "common/status_macros.h"

namespace skydeck::cli {

void AddBackupCommand(CLI::App* app, CommandContext* ctx) {
  auto file = std::make_shared<std::string>();
  CLI::App* cmd = app->add_subcommand(
      "backup",
      "Copy the daemon's database to FILE while it runs (consistent; writes go on). "
      "Restore with: skydeckd --restore-from FILE");
  cmd->add_option("FILE", *file, "Where to write the backup; replaced only once it is complete")
      ->required();
  SetExamples(cmd, {"skydeck backup skydeck-$(date +%F).db",
                    "skydeck --server gpu-box:50051 backup /backups/skydeck.db -o json"});
  OnParsed(cmd, ctx, [ctx, file]() -> absl::Status {
    BackupFileWriter out(*file);
    RETURN_IF_ERROR(AsUsageError(out.Open()));
    int64_t size = -1, revision = 0;
    std::string sha256;
    auto on_message = [&](const pb::BackupResponse& m) -> absl::Status {
      if (size < 0) {
        size = m.size_bytes();
        revision = m.revision();
      }
      RETURN_IF_ERROR(out.Append(m.data()));
      if (!m.sha256().empty()) sha256 = m.sha256();
      return absl::OkStatus();
    };
    RETURN_IF_ERROR(ctx->client().Backup(on_message));
    if (sha256.empty()) {
      return absl::DataLossError(absl::StrCat("the backup stream ended early (",
                                              out.bytes_written(), " bytes); ", *file,
                                              " was not written"));
    }
    RETURN_IF_ERROR(out.Commit(size, sha256));
    if (ctx->human()) {
      ctx->Write(absl::StrFormat("wrote %s: %.1f MB, revision %d, sha256 %s\n", *file,
                                 static_cast<double>(size) / 1e6, revision, sha256));
    } else {
      nlohmann::ordered_json doc = {
          {"file", *file}, {"size_bytes", size}, {"revision", revision}, {"sha256", sha256}};
      ctx->WriteDocument(doc);
    }
    return absl::OkStatus();
  });
}

}  // namespace skydeck::cli
