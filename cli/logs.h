// File: cli/logs.h
//
// `skydeck exp logs` and `skydeck job logs`: one job's log on stdout,
// lines about it (the job has not started and the stream waits, how it
// ended) on stderr, and an exit code that says whether the job failed.
//
//   pb::GetJobLogsRequest req;  // id, follow, tail (cli/log_options.h)
//   RETURN_IF_ERROR(PrintJobLogs(ctx, std::move(req)));
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"

#include "cli/command.h"

namespace skydeck::cli {

// Streams the log `req` asks for (its job, follow, tail) to stdout. Terminal escape codes (SkyPilot
// colours its messages) are removed unless stdout is a terminal. Progress
// lines go to stderr as "skydeck: <line>".
// Errors: the daemon's (e.g. FAILED_PRECONDITION for a job that has not
// started, without `follow`); JobFailedError (exit 5) when the job ended
// in failure (FAILED*, LOST), after its log was printed.
absl::Status PrintJobLogs(CommandContext& ctx, pb::GetJobLogsRequest req);

// True for the final statuses `logs` exits 5 for: the FAILED_* ones and LOST.
bool IsFailedJobStatus(pb::JobStatus status);

}  // namespace skydeck::cli
