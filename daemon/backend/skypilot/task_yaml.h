// File: daemon/backend/skypilot/task_yaml.h
//
// Renders a JobSpec into the multi-document task YAML that SkyPilot's
// /jobs/launch takes: a first document holding only the DAG `name` (the
// managed job's name, so the deterministic intent name shows up in the
// queue), then the task itself.
//
//   name: "skydeck-a1b2-42-3"
//   ---
//   name: "skydeck-a1b2-42-3"
//   num_nodes: 2
//   resources:
//     accelerators: "H100:4"
//     infra: "aws"
//     use_spot: true
//     job_recovery:
//       strategy: "EAGER_NEXT_REGION"
//       max_restarts_on_errors: 0
//   envs:
//     SKYDECK_ATTEMPT: "3"
//   secrets:
//     WANDB_API_KEY: "..."
//   run: "python train.py 'trainer.lr=0.0003'"
//
// With a task template (JobSpec.template_yaml), the template's resources,
// file_mounts, volumes and config come first, as written, and the
// experiment's fields go on top: `accelerators` becomes "<gpu_type>:<gpus>"
// when both are set (also replacing those of any_of/ordered entries);
// gpus alone replaces the count of every accelerator of the template, a
// GPU type alone its type; infra replaces the template's (and its cloud,
// region and zone); spot forces use_spot; job_recovery keeps the
// template's strategy but SkyPilot never retries user-code failures
// (max_restarts_on_errors: 0: the restart budget is SkyDeck's). envs,
// secrets, setup and workdir come merged in the JobSpec.
//
// Local code travels as code snapshots (JobSpec.workdir_snapshot,
// mount_snapshots) uploaded to the API server under
// SnapshotServerPath(id) (snapshot_upload.h): the workdir becomes
//
//   workdir: "/skydeck/snapshots/9f3c..."
//
// each local file_mounts source "/skydeck/snapshots/<id>" (with "/<name>"
// for the snapshot of one file), and the task gets SkyPilot's
// `file_mounts_mapping` naming each of those paths (mapped to itself: the
// server finds the uploaded files under that path of its client
// directory), exactly as SkyPilot's own client marks uploaded paths
// (sky/client/common.py, upload_mounts_to_api_server).
//
// Every string SkyDeck writes is double-quoted so that values like "yes",
// "1e3" or "null" reach SkyPilot as strings, not booleans, numbers or
// nulls; the template's own values keep the style they were written in.
// The name, run, setup, envs and secrets are escaped so that PyYAML reads
// back exactly the recorded text, DEL, C1 controls and noncharacters
// included (common/yaml_scalar.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "daemon/backend/backend.h"
#include "daemon/backend/skypilot/skypilot_options.h"

namespace skydeck::backend::skypilot {

struct TaskYamlOptions {
  // Used when the spec has no setup / workdir of its own.
  std::string setup;
  std::optional<WorkdirSource> workdir;
  std::string job_recovery_strategy;  // empty: SkyPilot's default strategy
  // Why a local directory without a code snapshot cannot be the workdir
  // (SkyPilot reads it from the API server's file system, so only a
  // server on this machine can); empty: it can.
  std::string local_workdir_refusal;
};

enum class SecretMode {
  kValues,    // the secrets' values: what is sent
  kRedacted,  // kRedactedSecret instead: what is recorded and shown
};

// RenderTaskYaml(spec, options)
//
// `infra` is omitted when neither the spec nor the template sets it
// (SkyPilot chooses).
// Errors: INVALID_ARGUMENT for an empty name or command, nodes < 1,
// gpus_per_node < 0, GPUs without a GPU type when the template has no
// accelerators either, a template that does not parse, a local workdir
// without a snapshot while local_workdir_refusal is set, or a local file
// mount source without a snapshot.
absl::StatusOr<std::string> RenderTaskYaml(const JobSpec& spec, const TaskYamlOptions& options,
                                           SecretMode secrets = SecretMode::kValues);

// TaskYamlName(yaml)
//
// The `name` of the first document, i.e. the managed job's name; "" when
// the YAML has none or does not parse.
std::string TaskYamlName(absl::string_view yaml);

// SnapshotServerPath(id)
//
// Where code snapshot `id` is on the API server, as the task names it:
// "/skydeck/snapshots/<id>" (the server keeps it under
// ~/.sky/api_server/clients/<user>/file_mounts/skydeck/snapshots/<id>).
std::string SnapshotServerPath(absl::string_view snapshot_id);

// The code snapshots `spec` makes the task name (workdir, file mounts),
// each once, sorted.
std::vector<std::string> SnapshotIdsOf(const JobSpec& spec);

}  // namespace skydeck::backend::skypilot
