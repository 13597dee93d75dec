// File: daemon/backend/skypilot/managed_job_queue.h
//
// The managed-job queue request and its answer. At API version >= 18 the
// queue is `/jobs/queue/v2`, filtered on the server by `job_ids` and
// trimmed to `fields`; its answer is {"jobs": [...], "total", ...} (older
// v2 servers may answer a plain list). Below 18 it is `/jobs/queue`, a plain
// list. Never `refresh: true`: it restarts a stopped jobs controller VM.
//
//   QueueCall call = BuildQueueCall(31, {{7, 8}}, std::nullopt);
//   // call.route == "/jobs/queue/v2", call.body["job_ids"] == [7, 8]
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

#include "daemon/backend/backend.h"

namespace skydeck::backend::skypilot {

inline constexpr int kMinApiVersion = 11;
inline constexpr int kQueueV2ApiVersion = 18;

struct QueueCall {
  std::string route;
  nlohmann::json body;
};

// `job_ids` limits the answer (all jobs when absent); `name_match` asks a
// v2 server to filter by name (callers still compare names themselves).
QueueCall BuildQueueCall(int api_version, const std::optional<std::vector<int64_t>>& job_ids,
                         const std::optional<std::string>& name_match);

// One row of the queue, reduced to what SkyDeck uses.
struct ManagedJobRecord {
  int64_t job_id = -1;
  int64_t task_id = 0;
  std::string name;
  std::string status;  // verbatim
  int recovery_count = 0;
  double submitted_at = 0;  // seconds since the epoch; 0 = unknown
  double start_at = 0;
  double end_at = 0;
  // Seconds it ran, recovery time excluded; unset when not reported.
  std::optional<double> job_duration;
  std::string failure_reason;
};

// Parses a decoded queue return value (v1 list, v2 object or v2 list).
// Rows without a job id are skipped; unknown keys are ignored. A job with
// several tasks becomes one record: the first task not yet terminal, else
// the last task. Sorted by job id, ascending.
// Errors: INTERNAL when the value is neither a list nor {"jobs": [...]}.
absl::StatusOr<std::vector<ManagedJobRecord>> ParseQueueResult(const nlohmann::json& value);

// The observation of `record`, with backend_job_id = its job id.
JobObservation ToObservation(const ManagedJobRecord& record);

}  // namespace skydeck::backend::skypilot
