// File: daemon/backend/local/job_state.h
//
// What a local job's status is, given what each of its nodes left behind.
// Pure: no files, no processes, no clock, so every rule is unit-testable.
//
//   any node still live     → RUNNING, or CANCELLING once cancel was asked
//   else a node vanished    → LOST ("process vanished without recording an
//                             exit code")
//   else cancel was asked   → CANCELLED
//     before the last end
//   else a node exited ≠ 0  → FAILED, exit code and reason of the node that
//                             failed FIRST (its peers are then stopped and
//                             end with SIGTERM/SIGKILL codes of their own)
//   else                    → SUCCEEDED, exit code 0
//
// A live job whose nodes should all stop (cancel requested, or one node
// already failed or vanished, as SkyPilot fails a job when any node does)
// is flagged with stop_remaining and the time the stop became due.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/model/states.h"
#include "daemon/backend/local/job_dir.h"

namespace skydeck::backend::local {

struct NodeState {
  // Set once the node's monitor recorded how the shell ended.
  std::optional<NodeResult> result;
  // Without a result: whether its monitor or its shell is still running.
  bool live = false;
};

struct JobState {
  JobStatus status = JobStatus::kUnknown;
  std::optional<int> exit_code;
  std::string failure_reason;
  // Unix ms of the last node's end; 0 while live or when unknown (LOST).
  int64_t end_ms = 0;
  // Live, but every node should be stopped since stop_since_ms.
  bool stop_remaining = false;
  int64_t stop_since_ms = 0;
};

// `nodes[r]` is node r. `cancel_requested_ms` is when Cancel was first
// called, if ever. `now_ms` dates a stop caused by a vanished node, which
// left no time behind.
JobState SummarizeNodes(const std::vector<NodeState>& nodes,
                        std::optional<int64_t> cancel_requested_ms, int64_t now_ms);

}  // namespace skydeck::backend::local
