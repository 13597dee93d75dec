#include "daemon/backend/local/job_state.h"

#include <string.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace skydeck::backend::local {
namespace {

constexpr char kVanished[] = "process vanished without recording an exit code";

std::string NodePrefix(size_t nodes, size_t rank) {
  return nodes > 1 ? absl::StrCat("node ", rank, " ") : std::string();
}

std::string DescribeEnd(size_t nodes, size_t rank, const NodeResult& result) {
  if (result.signal != 0) {
    const char* abbrev = sigabbrev_np(result.signal);
    return abbrev != nullptr
               ? absl::StrCat(NodePrefix(nodes, rank), "was killed by SIG", abbrev)
               : absl::StrCat(NodePrefix(nodes, rank), "was killed by signal ", result.signal);
  }
  return absl::StrCat(NodePrefix(nodes, rank), "exited with code ", result.exit_code);
}

}  // namespace

JobState SummarizeNodes(const std::vector<NodeState>& nodes,
                        std::optional<int64_t> cancel_requested_ms, int64_t now_ms) {
  bool any_live = false;
  std::optional<size_t> first_lost;
  std::optional<size_t> first_failed;  // earliest end among non-zero exits
  int64_t last_end_ns = 0;
  for (size_t rank = 0; rank < nodes.size(); ++rank) {
    const NodeState& node = nodes[rank];
    if (!node.result) {
      if (node.live) {
        any_live = true;
      } else if (!first_lost) {
        first_lost = rank;
      }
      continue;
    }
    last_end_ns = std::max(last_end_ns, node.result->end_ns);
    if (node.result->exit_code != 0 &&
        (!first_failed || node.result->end_ns < nodes[*first_failed].result->end_ns)) {
      first_failed = rank;
    }
  }

  JobState state;
  if (any_live) {
    state.status = cancel_requested_ms ? JobStatus::kCancelling : JobStatus::kRunning;
    if (cancel_requested_ms) {
      state.stop_remaining = true;
      state.stop_since_ms = *cancel_requested_ms;
    } else if (first_failed) {
      state.stop_remaining = true;
      state.stop_since_ms = nodes[*first_failed].result->end_ns / 1'000'000;
    } else if (first_lost) {
      state.stop_remaining = true;
      state.stop_since_ms = now_ms;
    }
    return state;
  }
  if (first_lost) {
    state.status = JobStatus::kLost;
    state.failure_reason =
        nodes.size() > 1 ? absl::StrCat("node ", *first_lost, ": ", kVanished) : kVanished;
    return state;
  }
  state.end_ms = last_end_ns / 1'000'000;
  // A cancel that came after the job had ended does not rewrite its outcome.
  bool cancelled = cancel_requested_ms && *cancel_requested_ms <= state.end_ms;
  state.exit_code = first_failed ? nodes[*first_failed].result->exit_code : 0;
  if (cancelled) {
    state.status = JobStatus::kCancelled;
  } else if (first_failed) {
    state.status = JobStatus::kFailed;
    state.failure_reason = DescribeEnd(nodes.size(), *first_failed, *nodes[*first_failed].result);
  } else {
    state.status = JobStatus::kSucceeded;
  }
  return state;
}

}  // namespace skydeck::backend::local
