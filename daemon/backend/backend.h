// File: daemon/backend/backend.h
//
// The only seam between SkyDeck and the outside world: something that can
// run a rendered job, report on many jobs at once, find a job by the
// deterministic name it was launched under, cancel it, tear down what it
// owns and stream its logs. Two implementations: `local` (processes on this
// machine) and `skypilot` (managed jobs over SkyPilot's REST API).
//
// Codes, for every method: UNAVAILABLE means the backend could not be
// reached or is overloaded: retry with backoff. FAILED_PRECONDITION and
// INVALID_ARGUMENT mean retrying the same call will not help. NOT_FOUND
// means the backend does not know the job.
//
// Thread-safety: implementations are safe for concurrent use.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/states.h"
#include "common/workdir.h"
#include "daemon/backend/log_tail.h"

namespace skydeck::backend {

// Everything a backend needs to run one job.
struct JobSpec {
  // Deterministic and unique per (experiment, attempt), e.g. "skydeck-42-3";
  // the key for Find after a crash.
  std::string name;
  // The exact command line, flags rendered and shell-quoted
  // (common/command_line.h). Run by /bin/sh.
  std::string command;
  int nodes = 1;
  int gpus_per_node = 0;
  std::string gpu_type;
  std::string infra;
  bool spot = false;
  // The job's environment variables: the template's envs, then the
  // experiment's, then SKYDECK_EXPERIMENT, SKYDECK_EXPERIMENT_ID,
  // SKYDECK_JOB, SKYDECK_ATTEMPT, SKYDECK_RUN_NAME.
  std::map<std::string, std::string> env;
  // Secret values by name, also environment variables of the job. A
  // backend passes them only to the job (SkyPilot: the task's `secrets`;
  // local: the node's environment) and never writes them to disk, a log or
  // an error message.
  std::map<std::string, std::string> secrets;
  // Commands run on every node before `command` (the template's setup);
  // empty: the backend's default (SkyPilot: --skypilot-setup).
  std::string setup;
  // Where the code is: a local directory or a git repository; kNone: the
  // backend's default.
  Workdir workdir;
  // The task template's YAML (common/task_template.h) whose SkyPilot-only
  // fields (resources, file_mounts, volumes, config) the task starts from;
  // its envs, secrets, setup and workdir are already merged into the
  // fields above. Empty: no template.
  std::string template_yaml;
};

// What RenderTask puts where a secret's value goes.
inline constexpr char kRedactedSecret[] = "<redacted>";

// What the backend knows about one job.
struct JobObservation {
  // The id the job was queried or found by.
  std::string backend_job_id;
  // Set when the backend now knows the job by a different id (e.g. a
  // SkyPilot launch request resolved to a managed job id); store it.
  std::string resolved_job_id;
  // The backend's deterministic name for the job (JobSpec.name).
  std::string name;
  JobStatus status = JobStatus::kUnknown;
  // Verbatim backend status string.
  std::string raw_status;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::optional<int> exit_code;
  std::string failure_reason;
  // Times the backend recovered the job from preemption.
  int recovery_count = 0;
};

struct BackendInfo {
  std::string name;
  bool reachable = false;
  std::string api_version;
  std::string version;
  // Why it is unreachable, when it is.
  std::string error;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // "local" or "skypilot".
  virtual std::string name() const = 0;

  // Suggested poll interval when the user did not set one, in ms.
  virtual int64_t DefaultPollIntervalMs() const = 0;

  // The task exactly as Launch would give it to the backend (SkyPilot's
  // task YAML; the local backend describes what it runs in the same
  // shape), every secret value replaced by kRedactedSecret: recorded on
  // the job and shown by `skydeck job get`. Pure: no I/O beyond reading
  // the spec. Errors: INVALID_ARGUMENT when this backend can never run
  // `spec` (Launch would refuse it the same way), e.g. GPUs without a type
  // on SkyPilot, or a git workdir on the local backend.
  virtual absl::StatusOr<std::string> RenderTask(const JobSpec& spec) = 0;

  // Starts a job and returns its backend id. Returns quickly: a backend
  // whose launches are slow returns a provisional id and reports the final
  // one later through JobObservation.resolved_job_id.
  // Idempotent: NO. A second call launches a second job; after a crash, use
  // Find(spec.name) to learn whether the first one exists.
  virtual absl::StatusOr<std::string> Launch(const JobSpec& spec) = 0;

  // Observes many jobs in ONE backend round trip. Jobs the backend does not
  // know are absent from the result (the caller decides they are lost).
  virtual absl::StatusOr<std::vector<JobObservation>> Query(
      const std::vector<std::string>& backend_job_ids) = 0;

  // Jobs launched under `name`, oldest first; empty when none exists.
  // Errors: UNAVAILABLE also when the backend cannot tell yet (a launch of
  // `name` may still be on its way to it): ask again later.
  virtual absl::StatusOr<std::vector<JobObservation>> Find(const std::string& name) = 0;

  // Asks the job to stop. Idempotent: cancelling a finished or unknown job
  // is OK. Returns once the request is delivered, not when the job ended.
  virtual absl::Status Cancel(const std::string& backend_job_id) = 0;

  // Removes what the job owns besides its logs and history (clusters,
  // scratch directories). Idempotent. REQUIRES: the job is terminal.
  virtual absl::Status Teardown(const std::string& backend_job_id) = 0;

  // Streams the job's log to `sink` (false from sink stops), starting with
  // its last `tail` (log_tail.h; measured when the stream starts). With
  // `follow`, keeps streaming until the job is terminal or `cancelled()`
  // returns true.
  virtual absl::Status StreamLogs(const std::string& backend_job_id, bool follow,
                                  const LogTail& tail,
                                  const std::function<bool(absl::string_view)>& sink,
                                  const std::function<bool()>& cancelled) = 0;

  // Cheap reachability and version check.
  virtual BackendInfo Probe() = 0;
};

}  // namespace skydeck::backend
