// File: common/model/records.h
//
// Plain structs the store reads and writes: no SQL, no protobuf. Times are
// UTC unix milliseconds, 0 meaning unset.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/model/flag_value.h"
#include "common/model/states.h"

namespace skydeck {

using Labels = std::map<std::string, std::string>;

// A code snapshot a spec or template names (daemon/snapshots/): its id
// and what is shown with it. Empty id: none.
struct CodeSnapshotRef {
  std::string id;
  int64_t size_bytes = 0;
  int file_count = 0;
  // The snapshot of one file: its name; "" for a directory.
  std::string file_name;
  // The directory's git state when the snapshot was taken.
  std::string git_commit;
  bool git_dirty = false;

  bool empty() const { return id.empty(); }
  bool operator==(const CodeSnapshotRef&) const = default;
};

// What the user controls. Every change bumps the experiment's generation.
struct ExperimentSpec {
  std::string name;
  std::string description;
  std::string base_command;
  FlagMap flags;
  std::string run_name;
  int nodes = 1;
  int gpus = 0;
  std::string gpu_type;
  std::string infra;
  bool spot = false;
  Labels labels;
  int max_restarts = 3;
  DesiredState desired_state = DesiredState::kStopped;
  // Task template name; "" for none.
  std::string template_name;
  // Environment variables and secret names (never values) of the job.
  std::map<std::string, std::string> envs;
  std::vector<std::string> secrets;
  // Local directory or git URL[@REF] (common/model/workdir.h); "" for none.
  std::string workdir;
  // The snapshot of a local workdir, taken when the workdir was set.
  CodeSnapshotRef code;
  // A page about the experiment the user attached (the seed's wandb_link):
  // an http(s) URL, "" for none (common/model/link_template.h).
  std::string link;

  bool operator==(const ExperimentSpec&) const = default;
};

struct Condition {
  std::string type;
  bool status = false;
  std::string reason;
  std::string message;
  int64_t last_transition_ms = 0;

  bool operator==(const Condition&) const = default;
};

struct ExperimentRecord {
  int64_t id = 0;
  ExperimentSpec spec;
  int64_t generation = 0;
  int64_t observed_generation = 0;
  ObservedState observed_state = ObservedState::kIdle;
  std::vector<Condition> conditions;
  int restart_count = 0;
  int64_t next_retry_ms = 0;
  // Jobs with a greater id belong to the current run (see migrations.cc).
  int64_t run_after_job_id = 0;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  int64_t deleted_ms = 0;
  // When observed_state last changed (the store sets it; ignored on write).
  int64_t state_since_ms = 0;
  // Marks of the user that are not part of the spec: changing them bumps no
  // generation and launches nothing. Written only by Store::SetStarred and
  // Store::SetPosition. `position` orders experiments within a dashboard
  // group (ascending); an experiment never moved has its id as position.
  bool starred = false;
  double position = 0;
  // Derived from the jobs table when read; ignored on write.
  int64_t current_job_id = 0;
  int job_count = 0;

  bool deleted() const { return deleted_ms != 0; }
  // Same observed fields (what the reconciler writes).
  bool SameObserved(const ExperimentRecord& o) const {
    return observed_generation == o.observed_generation && observed_state == o.observed_state &&
           conditions == o.conditions && restart_count == o.restart_count &&
           next_retry_ms == o.next_retry_ms;
  }
};

struct JobRecord {
  int64_t id = 0;
  int64_t experiment_id = 0;
  int attempt = 0;
  std::string backend;
  std::string backend_name;
  std::string backend_job_id;
  JobStatus status = JobStatus::kLaunching;
  std::string backend_status;
  std::string command;
  FlagMap flags;
  int nodes = 1;
  int gpus = 0;
  std::string gpu_type;
  std::string infra;
  bool spot = false;
  std::string run_name;
  int64_t submitted_ms = 0;
  int64_t started_ms = 0;
  int64_t ended_ms = 0;
  std::optional<int> exit_code;
  std::string failure_reason;
  int recovery_count = 0;
  // Time between start and end the backend reported the job was not
  // running (preemption gaps, while it recovered), and when the pause
  // going on now began (0: none). See common/model/gpu_usage.h.
  int64_t paused_ms = 0;
  int64_t paused_since_ms = 0;
  // The backend stopped reporting this job while it was live (status LOST):
  // how it ended is unknown, so it is never relaunched automatically.
  bool outcome_unknown = false;
  // What it ran besides the command (the spec's fields of the same names),
  // and the template version at launch.
  std::string template_name;
  int64_t template_version = 0;
  std::map<std::string, std::string> envs;
  std::vector<std::string> secrets;
  std::string workdir;
  // The local workdir's git commit and whether it had changes, at launch
  // (or, with a code snapshot, when the snapshot was taken).
  std::string code_commit;
  bool code_dirty = false;
  // The code snapshot it ran (the spec's); "" for none.
  std::string code_snapshot;
  // The task as given to the backend, secret values redacted.
  std::string rendered_task;
  // When status last changed (the store sets it; ignored on write).
  int64_t status_since_ms = 0;

  bool live() const { return ended_ms == 0; }
  bool operator==(const JobRecord&) const = default;
};

// One stored version of a task template (common/model/task_template.h).
struct TaskTemplateRecord {
  std::string name;
  int64_t version = 0;
  std::string yaml;
  std::string actor;
  int64_t created_ms = 0;
  // The code snapshot of each local file mount source, by the source as
  // written in the YAML.
  std::map<std::string, CodeSnapshotRef> mount_snapshots;
};

// An event to append; the store assigns id and time.
struct NewEvent {
  int64_t experiment_id = 0;
  int64_t job_id = 0;
  std::string type;
  std::string reason;
  std::string message;
  std::string actor;
};

struct EventRecord {
  int64_t id = 0;
  int64_t time_ms = 0;
  int64_t experiment_id = 0;
  int64_t job_id = 0;
  std::string type;
  std::string reason;
  std::string message;
  std::string actor;
};

}  // namespace skydeck
