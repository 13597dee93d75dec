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

#include "common/model/states.h"
#include "common/model/workdir.h"
#include "daemon/backend/log_tail.h"

namespace skydeck::backend {

// A code snapshot (daemon/snapshots/) a job's code comes from.
struct CodeRef {
  // 64 hex digits; "" for none.
  std::string snapshot_id;
  // The snapshot of one file (a file mount source): its name; "" for a
  // directory.
  std::string file_name;

  bool empty() const { return snapshot_id.empty(); }
  bool operator==(const CodeRef&) const = default;
};

// Everything a backend needs to run one job.
struct JobSpec {
  // Deterministic and unique per (experiment, attempt), e.g. "skydeck-42-3";
  // the key for Find after a crash.
  std::string name;
  // The exact command line, flags rendered and shell-quoted
  // (common/model/command_line.h). Run by /bin/sh.
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
  // The code snapshot of a local `workdir`, for a backend that runs
  // snapshots (UsesCodeSnapshots); empty: the directory itself.
  CodeRef workdir_snapshot;
  // The code snapshot of each local file_mounts source of the template,
  // by the source as written in template_yaml.
  std::map<std::string, CodeRef> mount_snapshots;
  // The task template's YAML (common/model/task_template.h) whose SkyPilot-only
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
  // How long the job has run (to end_ms, or to when the backend answered
  // while live) without the time it spent being recovered, when the
  // backend says (SkyPilot's job_duration); unset otherwise. Preemption
  // gaps are (end - start) - run_ms (common/model/gpu_usage.h).
  std::optional<int64_t> run_ms;
};

struct BackendInfo {
  std::string name;
  bool reachable = false;
  std::string api_version;
  std::string version;
  // Why it is unreachable, when it is.
  std::string error;
  // Where the backend is, e.g. "http://127.0.0.1:46580"; empty for local.
  std::string endpoint;
};

// Why a job ended without succeeding, as the backend that ran it
// understands its failure; the reconciler's handling follows from the kind
// alone (daemon/reconcile/restart_policy.h), so one cause is handled one way
// whichever way the backend reported it.
enum class FailureKind {
  kNone,         // succeeded, or still live
  kUserCode,     // the job's own command or setup failed
  kInvalidSpec,  // the backend refused the job as specified: the same spec fails again
  kEnvironment,  // the backend's environment is not set up (cloud access,
                 // credentials): a person must fix it outside SkyDeck
  kCapacity,     // no machines right now (capacity, quota, preemption limits)
  kBackend,      // the backend's own machinery failed (e.g. its controller)
  kCancelled,    // cancelled, by SkyDeck or someone else
  kLost,         // the backend lost the job (it did not finish)
};

struct FailureClass {
  FailureKind kind = FailureKind::kNone;
  // A CamelCase word for conditions and events, e.g. "NoCloudAccess";
  // empty means the reconciler's default for the kind.
  std::string reason;
  // What a person should do about it, e.g. "run `sky check` ..."; may be empty.
  std::string hint;
};

// DefaultFailureClass()
//
// The kind a job status implies by itself: FAILED and FAILED_SETUP are the
// user's code, FAILED_PRECHECKS an invalid spec, FAILED_NO_RESOURCE
// capacity, FAILED_CONTROLLER the backend, CANCELLED and LOST themselves;
// everything else kNone.
inline FailureClass DefaultFailureClass(JobStatus status) {
  switch (status) {
    case JobStatus::kFailed:
    case JobStatus::kFailedSetup:
      return {FailureKind::kUserCode, "", ""};
    case JobStatus::kFailedPrechecks:
      return {FailureKind::kInvalidSpec, "", ""};
    case JobStatus::kFailedNoResource:
      return {FailureKind::kCapacity, "", ""};
    case JobStatus::kFailedController:
      return {FailureKind::kBackend, "", ""};
    case JobStatus::kCancelled:
      return {FailureKind::kCancelled, "", ""};
    case JobStatus::kLost:
      return {FailureKind::kLost, "", ""};
    default:
      return {FailureKind::kNone, "", ""};
  }
}

class Backend {
 public:
  virtual ~Backend() = default;

  // "local" or "skypilot".
  virtual std::string name() const = 0;

  // Suggested poll interval when the user did not set one, in ms.
  virtual int64_t DefaultPollIntervalMs() const = 0;

  // Whether this backend runs local workdirs and template file mounts
  // from code snapshots (JobSpec.workdir_snapshot, mount_snapshots)
  // rather than reading the directories in place: the API then takes a
  // snapshot whenever a local workdir is set.
  virtual bool UsesCodeSnapshots() const { return false; }

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

  // What a job that ended with `status` and `failure_reason` (both as this
  // backend reported them) failed of. Pure: no I/O. The default is
  // DefaultFailureClass(status); backends whose statuses carry less than
  // their failure reasons override it.
  virtual FailureClass ClassifyFailure(JobStatus status, absl::string_view failure_reason) const {
    (void)failure_reason;
    return DefaultFailureClass(status);
  }
};

}  // namespace skydeck::backend
