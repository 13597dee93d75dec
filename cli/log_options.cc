#include "cli/log_options.h"

#include "cli/byte_size.h"
#include "cli/command.h"
#include "common/status_macros.h"

namespace skydeck::cli {

void AddLogOptions(CLI::App* cmd, LogOptions* options) {
  cmd->add_flag("-f,--follow", options->follow, "Keep printing until the job ends");
  cmd->add_option("--tail", options->tail_lines,
                  "Start with the last N lines, like tail -n (default: the whole log)")
      ->check(NonNegative());
  cmd->add_option("--tail-bytes", options->tail_bytes,
                  "Start with at most the last SIZE bytes (65536, 64K, 10KiB, 1M, 1MB)");
}

absl::Status FillLogsRequest(const LogOptions& options, skydeck::v1::GetJobLogsRequest* request) {
  request->set_follow(options.follow);
  request->set_tail_lines(options.tail_lines);
  if (!options.tail_bytes.empty()) {
    ASSIGN_OR_RETURN(int64_t bytes, AsUsage(ParseByteSize("--tail-bytes", options.tail_bytes)));
    request->set_tail_bytes(bytes);
  }
  return absl::OkStatus();
}

}  // namespace skydeck::cli
