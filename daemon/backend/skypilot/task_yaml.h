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
//   run: "python train.py 'trainer.lr=0.0003'"
//
// Every string is double-quoted so that values like "yes", "1e3" or "null"
// reach SkyPilot as strings, not booleans, numbers or nulls, and escaped so
// that PyYAML reads back exactly the recorded text, DEL, C1 controls and
// noncharacters included (common/yaml_scalar.h).
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/backend/backend.h"
#include "daemon/backend/skypilot/skypilot_options.h"

namespace skydeck::backend::skypilot {

struct TaskYamlOptions {
  std::string setup;
  std::optional<WorkdirSource> workdir;
  std::string job_recovery_strategy;  // empty: SkyPilot's default strategy
};

// RenderTaskYaml(spec, options)
//
// `accelerators` is "<gpu_type>:<gpus_per_node>" when gpus_per_node > 0;
// `infra` is omitted when empty (SkyPilot chooses). SkyPilot never retries
// user-code failures (max_restarts_on_errors: 0): the restart budget is
// SkyDeck's.
// Errors: INVALID_ARGUMENT for an empty name or command, nodes < 1,
// gpus_per_node < 0, or GPUs without a GPU type.
absl::StatusOr<std::string> RenderTaskYaml(const JobSpec& spec, const TaskYamlOptions& options);

// TaskYamlName(yaml)
//
// The `name` of the first document, i.e. the managed job's name; "" when
// the YAML has none or does not parse.
std::string TaskYamlName(absl::string_view yaml);

}  // namespace skydeck::backend::skypilot
