// File: ui/JobHistory.tsx
//
// Every job of an experiment, newest first: attempt, status, submitted,
// started, ended, duration, exit code, failure reason, backend id; a live
// job can be cancelled and any job's log opened.

import type { Job } from "../api/types";
import { formatTimestamp } from "../logic/format";
import { cancelJob } from "./actions";
import { Ago, JobDuration, StateBadge } from "./bits";
import { navigate } from "./route";

const TERMINAL = /SUCCEEDED|CANCELLED|FAILED|LOST/;

export function isLive(job: Job | undefined): boolean {
  return !!job && !TERMINAL.test(job.status ?? "");
}

export function JobHistory({ jobs, experimentId, error }: { jobs: Job[]; experimentId: string; error: string }) {
  if (error) return <div class="form-error">{error}</div>;
  if (!jobs.length) return <p class="empty">No jobs yet: start the experiment to launch one.</p>;
  return (
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
            <th scope="col">Exit</th>
            <th scope="col">Failure reason</th>
            <th scope="col">Backend id</th>
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
              <td class={j.exit_code ? "bad-text" : ""}>{j.exit_code ?? (j.end_time ? "?" : "")}</td>
              <td class="reason">{j.failure_reason}</td>
              <td class="mono small" title={`${j.backend}: ${j.backend_name}`}>
                {j.backend_job_id || "—"}
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
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
