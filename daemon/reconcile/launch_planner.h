// File: daemon/reconcile/launch_planner.h
//
// Everything a launch needs besides the experiment's own fields, resolved
// in one place for the reconciler (at launch) and for the API edge (when
// an experiment is created or changed): the task template and its current
// version, the values of the secrets, the workdir and the version of the
// code in it, and whether the backend can run the result at all.
//
//   ASSIGN_OR_RETURN(JobRecord snapshot, planner.Snapshot(spec, Code::kInspect));
//   ...write the intent...
//   ASSIGN_OR_RETURN(backend::JobSpec job, planner.SpecFor(experiment, intent, Secrets::kValues));
//
// What stops a launch comes back as a *blocked* status (IsLaunchBlocked):
// FAILED_PRECONDITION (something is missing: a template, a secret, a
// workdir, a value the template requires) or INVALID_ARGUMENT (the backend
// can never run it as specified), with a CamelCase reason for the
// experiment's Stalled condition (BlockedReason) and a message that says
// how to fix it. Other errors (the store, a transient backend problem) are
// not blocked.
//
// Thread-safety: safe for concurrent use (the store, the secret source and
// the backend are).
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "common/code_version.h"
#include "common/model/conditions.h"
#include "common/model/records.h"
#include "daemon/backend/backend.h"
#include "daemon/store/store.h"
#include "daemon/workload/secret_source.h"

namespace skydeck::reconcile {

// Reasons of blocked statuses (the Stalled condition's reason), named in
// common/model/conditions.h.
using model::condition_reason::kCodeSnapshotMissing;
using model::condition_reason::kEnvMissing;
using model::condition_reason::kLaunchRefused;
using model::condition_reason::kSecretMissing;
using model::condition_reason::kTemplateNotFound;
using model::condition_reason::kWorkdirMissing;

// A status that stops a launch until the user (or the environment)
// changes something; see above.
absl::Status LaunchBlocked(absl::StatusCode code, absl::string_view reason,
                           absl::string_view message);
bool IsLaunchBlocked(const absl::Status& status);
// The reason of a blocked status; "" otherwise.
std::string BlockedReason(const absl::Status& status);

class LaunchPlanner {
 public:
  using CodeInspector = std::function<CodeVersion(const std::string& dir)>;
  // OK when code snapshot `id` is in skydeckd's store, NOT_FOUND when not.
  using SnapshotLookup = std::function<absl::Status(const std::string& id)>;
  enum class Code { kSkip, kInspect };
  enum class Secrets {
    kValues,    // read from the secret source: what the backend is given
    kRedacted,  // backend::kRedactedSecret: for rendering what is recorded
  };

  // None of the pointers are owned. `secrets` may be null (no secret can
  // be resolved). `inspect` defaults to InspectCode. `snapshots` null:
  // code snapshots are not checked (the backend finds out at launch).
  LaunchPlanner(store::Store* store, backend::Backend* backend, workload::SecretSource* secrets,
                CodeInspector inspect = nullptr, SnapshotLookup snapshots = nullptr);

  // What a launch of `spec` would record now: LaunchSnapshot(spec), the
  // template's current version and, for a local workdir the backend reads
  // in place (no snapshot, or a backend that does not use them), that the
  // directory exists and, with Code::kInspect, its git commit and dirty
  // flag; for one it runs from a snapshot, that the snapshot is stored.
  // Errors: blocked (TemplateNotFound, WorkdirMissing,
  // CodeSnapshotMissing); the store's.
  absl::StatusOr<JobRecord> Snapshot(const ExperimentSpec& spec, Code code);

  // The JobSpec of launch intent `job` of `experiment`: the job's own
  // fields, the template of the job's version (its envs, then the job's;
  // its secrets and the job's; its setup; its git workdir unless the job
  // has a workdir; the code snapshots of its local file mounts),
  // SkyDeck's SKYDECK_* variables, the job's code snapshot, and the
  // secrets' values (or placeholders).
  // Errors: blocked (TemplateNotFound, EnvMissing, SecretMissing,
  // CodeSnapshotMissing); the store's.
  absl::StatusOr<backend::JobSpec> SpecFor(const ExperimentRecord& experiment, const JobRecord& job,
                                           Secrets secrets);

  // Puts what depends on the job's row into `spec`: its name and
  // SKYDECK_JOB, SKYDECK_ATTEMPT (SpecFor does it too). Pure, so it may
  // run inside a store transaction (Store::RenderIntent).
  static void StampJob(const JobRecord& job, backend::JobSpec& spec);

  // Whether a launch of `job` (a snapshot) could start now: SpecFor with
  // the secrets' values read, and the backend renders it.
  // Errors: blocked (the above, LaunchRefused); the store's.
  absl::Status CheckReady(const ExperimentRecord& experiment, const JobRecord& job);

  // Snapshot + CheckReady for a spec that is not stored yet (the API
  // edge; no code inspection, no secret value kept), plus the rules that
  // span the experiment and its template (a name both an env and a secret).
  // Errors: blocked; the store's.
  absl::Status Check(const ExperimentSpec& spec);

 private:
  store::Store* store_;
  backend::Backend* backend_;
  workload::SecretSource* secrets_;
  CodeInspector inspect_;
  SnapshotLookup snapshots_;
};

}  // namespace skydeck::reconcile
