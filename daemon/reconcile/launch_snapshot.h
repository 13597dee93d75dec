// File: daemon/reconcile/launch_snapshot.h
//
// What a job runs is copied from the experiment's spec when its launch
// intent is written (the rendered command line, flags, resources, run
// name), so a later spec change never alters a job. These two functions
// make that copy and tell whether a job still matches the spec.
//
//   JobRecord intent = LaunchSnapshot(experiment.spec);
//   ...
//   if (!RunsCurrentSpec(live_job, experiment.spec)) { /* Outdated */ }
#pragma once

#include "common/model/records.h"

namespace skydeck::reconcile {

// LaunchSnapshot()
//
// A job record holding what a launch of `spec` would run now: command
// (flags rendered and shell-quoted), flags, nodes, GPUs, GPU type, infra,
// spot, run name (the experiment's name when run_name is empty), template
// name, envs, secret names, workdir, and the workdir's code snapshot with
// the git commit and dirty flag recorded with it. Every other field is
// left at its default (the template version and the code version of a
// directory run in place are the planner's: launch_planner.h).
JobRecord LaunchSnapshot(const ExperimentSpec& spec);

// RunsCurrentSpec()
//
// True when `job` runs exactly what LaunchSnapshot(spec) would. Only the
// fields a job runs with count: changing labels, the description or the
// restart budget never makes a running job outdated. A new version of the
// template does not either (the next attempt runs it; the job records the
// version it ran).
bool RunsCurrentSpec(const JobRecord& job, const ExperimentSpec& spec);

}  // namespace skydeck::reconcile
