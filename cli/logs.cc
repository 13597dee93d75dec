#include "cli/logs.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <optional>

#include "absl/strings/str_cat.h"

#include "common/ansi_text.h"
#include "common/model/proto_convert.h"
#include "common/status_macros.h"

namespace skydeck::cli {

bool IsFailedJobStatus(pb::JobStatus status) {
  switch (status) {
    case pb::JOB_STATUS_FAILED:
    case pb::JOB_STATUS_FAILED_SETUP:
    case pb::JOB_STATUS_FAILED_PRECHECKS:
    case pb::JOB_STATUS_FAILED_NO_RESOURCE:
    case pb::JOB_STATUS_FAILED_CONTROLLER:
    case pb::JOB_STATUS_LOST:
      return true;
    default:
      return false;
  }
}

absl::Status PrintJobLogs(CommandContext& ctx, pb::GetJobLogsRequest req) {
  const int64_t job_id = req.id();
  // A terminal shows colours; a file or a pipe gets the text.
  std::optional<AnsiStripper> strip;
  if (isatty(fileno(stdout)) == 0) strip.emplace();
  pb::JobStatus final_status = pb::JOB_STATUS_UNSPECIFIED;
  std::string final_note;
  RETURN_IF_ERROR(ctx.client().StreamLogs(req, [&](const pb::GetJobLogsResponse& m) {
    if (!m.data().empty()) ctx.Write(strip ? strip->Feed(m.data()) : m.data());
    if (m.job_status() != pb::JOB_STATUS_UNSPECIFIED) {
      final_status = m.job_status();
      final_note = m.progress();
    } else if (!m.progress().empty()) {
      std::fflush(stdout);
      std::cerr << "skydeck: " << m.progress() << std::endl;
    }
  }));
  if (strip) ctx.Write(strip->Finish());
  if (IsFailedJobStatus(final_status)) {
    return JobFailedError(final_note.empty() ? absl::StrCat("job ", job_id, " failed")
                                             : final_note);
  }
  if (!final_note.empty()) {
    std::fflush(stdout);
    std::cerr << "skydeck: " << final_note << std::endl;
  }
  return absl::OkStatus();
}

}  // namespace skydeck::cli
