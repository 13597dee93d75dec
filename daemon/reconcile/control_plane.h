// File: daemon/reconcile/control_plane.h
//
// What the gRPC service needs from the daemon's active side (reconciler,
// poller, backend) without knowing how they work. The service only writes
// desired state to the store and then tells the control plane; it never
// calls a backend itself.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "daemon/store/records.h"

namespace skydeck::reconcile {

struct BackendHealth {
  std::string backend;  // "local" or "skypilot"
  // Why this backend, e.g. "auto: recorded in the database at its first
  // start"; empty when unknown.
  std::string backend_reason;
  bool reachable = false;
  std::string api_version;
  std::string version;
  int64_t last_successful_poll_ms = 0;
  std::string last_poll_error;
};

class ControlPlane {
 public:
  virtual ~ControlPlane() = default;

  // Reconcile this experiment soon. Cheap; never blocks on the backend.
  // Thread-safety: callable from any thread.
  virtual void Enqueue(int64_t experiment_id) = 0;
  // Enqueue for many (e.g. a bulk change's), at once.
  virtual void EnqueueMany(const std::vector<int64_t>& experiment_ids) {
    for (int64_t id : experiment_ids) Enqueue(id);
  }

  // Polls the backend now. Returns the number of jobs queried.
  // Errors: UNAVAILABLE when the backend cannot be reached.
  virtual absl::StatusOr<int> Refresh() = 0;

  virtual BackendHealth Health() = 0;

  // Streams the job's log to `sink` (which returns false to stop). With
  // `follow`, keeps going until the job ends or `cancelled()` is true.
  // `tail_bytes` > 0 starts that many bytes from the end.
  virtual absl::Status StreamLogs(const store::JobRecord& job, bool follow, int64_t tail_bytes,
                                  const std::function<bool(absl::string_view)>& sink,
                                  const std::function<bool()>& cancelled) = 0;
};

}  // namespace skydeck::reconcile
