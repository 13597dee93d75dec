// File: daemon/backend/local/local_task.h
//
// What a local job runs, from its JobSpec: the environment of each node,
// the directory its command runs in, the shell invocation that runs the
// template's setup before the command, and the task as `skydeck job get`
// shows it. Pure, except where a function says it reads the file system.
//
// A node's environment is clean and documented, never the daemon's own
// (which may hold SKYDECK_AUTH_TOKEN or SKYPILOT_SERVICE_ACCOUNT_TOKEN):
//   1. from skydeckd's environment, only PATH, HOME, USER, LOGNAME, SHELL,
//      LANG, LANGUAGE, TZ, TMPDIR and LC_*;
//   2. the spec's env (template envs, experiment envs, SKYDECK_*);
//   3. the spec's secrets;
//   4. what SkyPilot sets on every node: SKYPILOT_NUM_NODES,
//      SKYPILOT_NODE_IPS, SKYPILOT_NUM_GPUS_PER_NODE, SKYPILOT_TASK_ID
//      (SKYPILOT_NODE_RANK is added per node).
// Later steps win over earlier ones.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "daemon/backend/backend.h"

namespace skydeck::backend::local {

// Variables of skydeckd's environment a job inherits (besides LC_*).
inline constexpr const char* kInheritedEnv[] = {"PATH", "HOME",     "USER", "LOGNAME", "SHELL",
                                                "LANG", "LANGUAGE", "TZ",   "TMPDIR"};

// NodeEnvironment()
//
// "KEY=value" entries per the rules above, sorted by key, from `daemon_env`
// ("KEY=value" entries, e.g. environ) and the spec.
std::vector<std::string> NodeEnvironment(const JobSpec& spec,
                                         const std::vector<std::string>& daemon_env);

// LocalWorkdir()
//
// The directory the job's command runs in: spec.workdir when it is a local
// directory, "" for none (the job directory). Does not touch the disk.
// Errors: INVALID_ARGUMENT for a git workdir (the local backend runs code
// that is on this machine; it does not clone).
absl::StatusOr<std::string> LocalWorkdir(const JobSpec& spec);

// The argv of a node's shell: {"/bin/sh", "-c", spec.command} without a
// setup; with one, a script that runs the setup in its own shell and, if
// it succeeds, execs the command in another (so `exit` in the setup ends
// only the setup, as in SkyPilot, and a failing setup fails the node with
// its exit code).
std::vector<std::string> NodeArgv(const JobSpec& spec);

// RenderLocalTask()
//
// The task in SkyPilot's shape (name, num_nodes, workdir, envs, secrets
// with kRedactedSecret values, setup, run): what Backend::RenderTask
// records. Errors: as LocalWorkdir.
absl::StatusOr<std::string> RenderLocalTask(const JobSpec& spec);

}  // namespace skydeck::backend::local
