#include "daemon/reconcile/launch_snapshot.h"

#include "common/model/command_line.h"

namespace skydeck::reconcile {

JobRecord LaunchSnapshot(const ExperimentSpec& spec) {
  JobRecord job;
  job.command = RenderCommand(spec.base_command, spec.flags);
  job.flags = spec.flags;
  job.nodes = spec.nodes;
  job.gpus = spec.gpus;
  job.gpu_type = spec.gpu_type;
  job.infra = spec.infra;
  job.spot = spec.spot;
  job.run_name = spec.run_name.empty() ? spec.name : spec.run_name;
  job.template_name = spec.template_name;
  job.envs = spec.envs;
  job.secrets = spec.secrets;
  job.workdir = spec.workdir;
  if (!spec.code.empty()) {
    // The snapshot's git state is what the job runs; a directory run in
    // place is inspected at launch instead (launch_planner.h).
    job.code_snapshot = spec.code.id;
    job.code_commit = spec.code.git_commit;
    job.code_dirty = spec.code.git_dirty;
  }
  return job;
}

bool RunsCurrentSpec(const JobRecord& job, const ExperimentSpec& spec) {
  JobRecord now = LaunchSnapshot(spec);
  return job.command == now.command && job.flags == now.flags && job.nodes == now.nodes &&
         job.gpus == now.gpus && job.gpu_type == now.gpu_type && job.infra == now.infra &&
         job.spot == now.spot && job.run_name == now.run_name &&
         job.template_name == now.template_name && job.envs == now.envs &&
         job.secrets == now.secrets && job.workdir == now.workdir &&
         job.code_snapshot == now.code_snapshot;
}

}  // namespace skydeck::reconcile
