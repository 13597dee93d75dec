// File: ui/JobHistory.tsx
//
// Every job of an experiment, newest first: attempt, status, submitted,
// started, ended, duration, exit code, failure reason, backend id, the
// template version and code commit it ran; a live job can be cancelled,
// any job's log opened and the task it was launched with shown.

import { useState } from "preact/hooks";
import type { Job } from "../api/types";
import { formatTimestamp } from "../logic/format";
import { snapshotLabel, templateLabel } from "../logic/workloadText";
import { cancelJob } from "./actions";
import { Ago, CopyButton, InStateFor, JobDuration, StateBadge } from "./bits";
import { navigate } from "./route";
import { formatCost, formatGpuHours } from "../logic/cost";
import { LinkButtons } from "./Links";

const TERMINAL = /SUCCEEDED|CANCELLED|FAILED|LOST/;

export function isLive(job: Job | undefined): boolean {
  return !!job && !TERMINAL.test(job.status ?? "");
}

export function JobHistory({ jobs, experimentId, error }: { jobs: Job[]; experimentId: string; error: string }) {
  // Which job's rendered task is open ("" for none).
  const [shown, setShown] = useState("");
  const shownJob = jobs.find((j) => j.id === shown);
  if (error) return <div class="form-error">{error}</div>;
  if (!jobs.length) return <p class="empty">No jobs yet: start the experiment to launch one.</p>;
  return (
    <>
      <div class="table-wrap">
        <table class="jobs">
          <thead>
            <tr>
              <th scope="col">Attempt</th>
              <th scope="col">Status</th>
              <th scope="col">Submitted</th>
              <th scope="col">Started</th>
              <th scope="col">Ended</th>
              <th scope="col">Duration</th>
              <th scope="col" title="nodes × GPUs × running time, preemption gaps excluded; cost by skydeckd --prices">
                GPU-h · cost
              </th>
              <th scope="col">Exit</th>
              <th scope="col">Failure reason</th>
              <th scope="col">Backend id</th>
              <th scope="col">Template</th>
              <th scope="col">Code</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((j) => (
              <tr key={j.id} data-job={j.id}>
                <td>
                  #{j.attempt} <span class="muted small">job {j.id}</span>
                </td>
                <td>
                  <StateBadge state={j.status} title={j.backend_status ? `backend: ${j.backend_status}` : undefined} />
                  {j.recovery_count ? <span class="muted small"> recovered {j.recovery_count}×</span> : null}
                  <span class="muted small">
                    {" "}
                    for <InStateFor since={j.status_since} label="in this status since" />
                  </span>
                </td>
                <td title={formatTimestamp(j.submit_time)}>
                  <Ago ts={j.submit_time} />
                </td>
                <td>
                  <Ago ts={j.start_time} />
                </td>
                <td>
                  <Ago ts={j.end_time} />
                </td>
                <td>
                  <JobDuration job={j} />
                </td>
                <td class="nowrap small" data-testid="job-cost">
                  {formatGpuHours(j.gpu_hours) || "—"}
                  {j.cost !== undefined && j.gpu_hours ? <span class="muted"> · {formatCost(j.cost)}</span> : null}
                </td>
                <td class={j.exit_code ? "bad-text" : ""}>{j.exit_code ?? (j.end_time ? "?" : "")}</td>
                <td class="reason">{j.failure_reason}</td>
                <td class="mono small" title={`${j.backend}: ${j.backend_name}`}>
                  {j.backend_job_id || "—"}
                </td>
                <td class="small" data-testid="job-template">{templateLabel(j.template, j.template_version) || "—"}</td>
                <td
                  class="mono small"
                  data-testid="job-code"
                  title={j.workdir ? `${j.workdir}${j.code_snapshot ? ` (snapshot ${j.code_snapshot})` : ""}${j.code_commit ? ` @ ${j.code_commit}` : ""}` : undefined}
                >
                  {snapshotLabel(j.code_snapshot, j.code_commit, j.code_dirty) || "—"}
                </td>
                <td class="nowrap">
                  <button type="button" class="btn small ghost" onClick={() => navigate({ view: "exp", id: experimentId, tab: "logs", job: j.id })}>
                    Log
                  </button>
                  {isLive(j) && (
                    <button type="button" class="btn small" onClick={() => void cancelJob(j.id!, experimentId)}>
                      Cancel
                    </button>
                  )}
                  <LinkButtons links={j.links} label={`Links of job ${j.id}`} />
                  {j.rendered_task && (
                    <button type="button" class="btn small ghost" aria-expanded={shown === j.id} data-testid="show-task" onClick={() => setShown(shown === j.id ? "" : j.id!)}>
                      Task
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {shownJob?.rendered_task && (
        <section class="command" aria-label={`Task of job ${shownJob.id}`}>
          <h3>
            Task job {shownJob.id} ran <span class="muted small">(as the backend got it; secret values redacted)</span> <CopyButton text={shownJob.rendered_task} />
          </h3>
          <pre class="mono cmd" data-testid="rendered-task">
            {shownJob.rendered_task}
          </pre>
        </section>
      )}
    </>
  );
}
