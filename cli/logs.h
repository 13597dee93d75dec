// File: cli/logs.h
//
// `skydeck exp logs` and `skydeck job logs`: one job's log on stdout,
// lines about it (the job has not started and the stream waits, how it
// ended) on stderr, and an exit code that says whether the job failed.
//
//   RETURN_IF_ERROR(PrintJobLogs(ctx, job_id, /*follow=*/true, /*tail_bytes=*/0));
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "cli/command.h"

namespace skydeck::cli {

// Streams job `job_id`'s log to stdout. Terminal escape codes (SkyPilot
// colours its messages) are removed unless stdout is a terminal. Progress
// lines go to stderr as "skydeck: <line>".
// Errors: the daemon's (e.g. FAILED_PRECONDITION for a job that has not
// started, without `follow`); JobFailedError (exit 5) when the job ended
// in failure (FAILED*, LOST), after its log was printed.
absl::Status PrintJobLogs(CommandContext& ctx, int64_t job_id, bool follow, int64_t tail_bytes);

// True for the final statuses `logs` exits 5 for: the FAILED_* ones and LOST.
bool IsFailedJobStatus(pb::JobStatus status);

}  // namespace skydeck::cli
