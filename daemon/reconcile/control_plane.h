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

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "common/model/records.h"
#include "daemon/backend/log_tail.h"

namespace skydeck::reconcile {

struct BackendHealth {
  std::string backend;  // "local" or "skypilot"
  // Why this backend, e.g. "auto: recorded in the database at its first
  // start"; empty when unknown.
  std::string backend_reason;
  bool reachable = false;
  std::string api_version;
  std::string version;
  // Where the backend is, e.g. "http://127.0.0.1:46580"; empty for local.
  std::string endpoint;
  // The last successful exchange with the backend: a poll of the live
  // jobs, or with none live, a health check that answered.
  int64_t last_successful_poll_ms = 0;
  std::string last_poll_error;
};

// Where a log stream goes: the log itself, and lines for people about it
// (e.g. that the job has not started and the stream waits for it), which
// clients show apart from the log (the CLI on stderr). Either returns false
// to stop the stream.
struct LogSinks {
  std::function<bool(absl::string_view)> data;
  std::function<bool(absl::string_view)> progress;
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

  // Whether a launch of `spec` could start now: its template exists, its
  // secrets are in the daemon's secrets source, its workdir exists, the
  // values its template requires are set, and the backend can run it
  // (launch_planner.h). Reads no secret value beyond this call.
  // Errors: FAILED_PRECONDITION (something is missing) or INVALID_ARGUMENT
  // (this backend can never run it), with a message that says how to fix
  // it; the store's.
  virtual absl::Status CheckLaunchable(const ExperimentSpec& spec) = 0;

  // Why a client's working directory should not become a new experiment's
  // workdir by default (CreateExperimentRequest.default_workdir), e.g. the
  // SkyPilot API server is on another machine; "" when it should.
  virtual std::string DefaultWorkdirRefusal() = 0;

  // Streams the job's log to `sinks.data`. With `follow`, keeps going until
  // the job ends or `cancelled()` is true; a job that has not started yet
  // (launching, pending, recovering from a preemption) is waited for, with
  // a progress line each time its status changes. It starts with the log's
  // last `tail` (backend/log_tail.h). Returns the job as known when the
  // stream ended (its final status once it has ended), so the caller can
  // tell how it ended.
  // Errors: FAILED_PRECONDITION without `follow` for a job that has not
  // started (its status in the message), and for a job that ended without
  // a log on the backend (its recorded failure in the message); the
  // backend's.
  virtual absl::StatusOr<JobRecord> StreamLogs(const JobRecord& job, bool follow,
                                               const backend::LogTail& tail, const LogSinks& sinks,
                                               const std::function<bool()>& cancelled) = 0;
};

}  // namespace skydeck::reconcile
