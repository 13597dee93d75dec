// File: cli/log_options.h
//
// The options `exp logs` and `job logs` share: `-f`, `--tail N` (lines,
// like `tail -n`) and `--tail-bytes SIZE` (byte_size.h), and how they fill a
// GetJobLogsRequest.
//
//   auto args = std::make_shared<LogOptions>();
//   AddLogOptions(cmd, args.get());
//   ... RETURN_IF_ERROR(FillLogsRequest(*args, &request));  // usage errors, exit 2
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"

#include "CLI/CLI.hpp"
#include "skydeck/v1/service.pb.h"

namespace skydeck::cli {

struct LogOptions {
  bool follow = false;
  // --tail: last N lines; 0: no line limit.
  int64_t tail_lines = 0;
  // --tail-bytes as typed; empty: no byte limit.
  std::string tail_bytes;
};

// Registers -f/--follow, --tail and --tail-bytes on `cmd`, writing into
// `options`. REQUIRES: `options` outlives parsing.
void AddLogOptions(CLI::App* cmd, LogOptions* options);

// Sets follow, tail_lines and tail_bytes of `request`.
// Errors: a UsageError when --tail-bytes is not a size.
absl::Status FillLogsRequest(const LogOptions& options, skydeck::v1::GetJobLogsRequest* request);

}  // namespace skydeck::cli
