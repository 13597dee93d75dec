// File: ui/Details.tsx
//
// One experiment in full: its state and conditions, the exact command its
// next job will run, editable configuration and flags, job history, events
// timeline and live log. Opened from the table; the URL names the tab.

import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api/client";
import { store } from "../app";
import type { Experiment, Job, SkyEvent } from "../api/types";
import { formatTimestamp, stateLabel } from "../logic/format";
import { declaredSchemaVersion } from "../logic/flagDraft";
import { renderCommand } from "../logic/flagText";
import { codeLabel, snapshotLabel, templateLabel } from "../logic/workloadText";
import { deleteExperiments, setDesiredState, cancelJob, undelete, updateFlags } from "./actions";
import { Ago, CopyButton, InStateFor, StatePair } from "./bits";
import { ConfigForm } from "./ConfigForm";
import { EventList } from "./EventList";
import { FlagsEditor } from "./FlagsEditor";
import { isLive, JobHistory } from "./JobHistory";
import { ExperimentLinks } from "./Links";
import { LogViewer } from "./LogViewer";
import { navigate, TABS, type Tab } from "./route";

const TAB_LABEL: Record<Tab, string> = { overview: "Overview", flags: "Flags", jobs: "Jobs", events: "Events", logs: "Logs" };

export function Details({ id, tab, jobParam, onClose }: { id: string; tab: Tab; jobParam?: string; onClose: () => void }) {
  const e = store.find(id);
  if (!e) {
    return (
      <aside class="panel details" aria-label="Experiment details">
        <header class="panel-head">
          <h2>{store.loaded ? `No experiment ${id}` : "Loading…"}</h2>
          <span class="spacer" />
          <button type="button" class="btn ghost small" onClick={onClose} aria-label="Close details">
            ✕
          </button>
        </header>
      </aside>
    );
  }
  return <ExperimentDetails key={e.id} e={e} tab={tab} jobParam={jobParam} onClose={onClose} />;
}

function ExperimentDetails({ e, tab, jobParam, onClose }: { e: Experiment; tab: Tab; jobParam?: string; onClose: () => void }) {
  const id = e.id!;
  const latest = store.jobOf(e);
  const [jobs, setJobs] = useState<Job[]>([]);
  const [jobsError, setJobsError] = useState("");
  const [history, setHistory] = useState<SkyEvent[]>([]);

  // Re-read the job list whenever the newest job changes (the Watch stream
  // updates store.jobs), not on a timer.
  useEffect(() => {
    api.jobs(id, 100).then(
      (j) => {
        setJobs(j);
        setJobsError("");
      },
      (err) => setJobsError(err instanceof ApiError ? err.message : String(err)),
    );
  }, [id, latest?.id, latest?.status, latest?.start_time, latest?.end_time, e.job_count]);
  useEffect(() => {
    api.events(id, 200).then(setHistory, () => undefined);
  }, [id]);

  const events = mergeEvents(store.events.filter((ev) => ev.experiment_id === id), history);
  const current = e.current_job_id && e.current_job_id !== "0" ? e.current_job_id : undefined;
  const logJob = jobParam ?? current ?? jobs[0]?.id ?? latest?.id;
  const logJobInfo = jobs.find((j) => j.id === logJob) ?? (latest?.id === logJob ? latest : undefined);
  const go = (t: Tab) => navigate({ view: "exp", id, tab: t });

  return (
    <aside class="panel details" aria-label={`Experiment ${e.name}`} data-testid="details">
      <header class="panel-head">
        <div class="title-block">
          <h2>
            {e.name} <span class="muted small">#{id}</span>
          </h2>
          <StatePair e={e} />
        </div>
        <span class="spacer" />
        <button type="button" class="btn ghost small" onClick={onClose} aria-label="Close details" title="Close (Esc)">
          ✕
        </button>
      </header>
      <div class="actions" role="toolbar" aria-label="Actions">
        {e.delete_time ? (
          <button type="button" class="btn primary" onClick={() => void undelete([id])}>
            Restore
          </button>
        ) : (
          <>
            {e.desired_state !== "RUNNING" ? (
              <button type="button" class="btn primary" onClick={() => void setDesiredState([id], "RUNNING")} data-testid="start">
                Start
              </button>
            ) : (
              <button type="button" class="btn" onClick={() => void setDesiredState([id], "STOPPED")} data-testid="stop">
                Stop
              </button>
            )}
            <button
              type="button"
              class="btn"
              onClick={() => void setDesiredState([id], "TERMINATED")}
              disabled={e.desired_state === "TERMINATED"}
              title="Cancel the job and tear down everything it owns on the backend"
            >
              Terminate
            </button>
            {current && (
              <button type="button" class="btn" onClick={() => void cancelJob(current, id)} title="Cancel the live job; the experiment is set to stopped">
                Cancel job {current}
              </button>
            )}
            <button type="button" class="btn" onClick={() => navigate({ view: "new", from: id })} data-testid="duplicate">
              Duplicate
            </button>
            <button type="button" class="btn danger" onClick={() => void deleteExperiments([id])} data-testid="delete">
              Delete
            </button>
          </>
        )}
        <ExperimentLinks id={id} newestJob={jobs[0]?.id ?? latest?.id} />
      </div>
      <div class="tabs" role="tablist" aria-label="Details">
        {TABS.map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            id={`tab-${t}`}
            aria-selected={tab === t}
            aria-controls={`tabpanel-${t}`}
            tabIndex={tab === t ? 0 : -1}
            class={tab === t ? "active" : ""}
            onClick={() => go(t)}
            onKeyDown={(ev) => {
              const i = TABS.indexOf(t);
              const next = ev.key === "ArrowRight" ? TABS[(i + 1) % TABS.length] : ev.key === "ArrowLeft" ? TABS[(i + TABS.length - 1) % TABS.length] : undefined;
              if (next) {
                ev.preventDefault();
                go(next);
                setTimeout(() => document.getElementById(`tab-${next}`)?.focus(), 0);
              }
            }}
          >
            {TAB_LABEL[t]}
            {t === "jobs" && e.job_count ? <span class="muted small"> {e.job_count}</span> : null}
          </button>
        ))}
      </div>
      <div class="panel-body" role="tabpanel" id={`tabpanel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === "overview" && <Overview e={e} latest={jobs[0] ?? latest} />}
        {tab === "flags" && (
          <>
            <FlagsEditor
              key={id}
              idPrefix={`exp${id}`}
              base={e.flags ?? {}}
              baseCommand={e.base_command ?? ""}
              onSave={(set, unset) => updateFlags(id, set, unset, { inline: true })}
              check={{
                // The verdict also depends on the experiment's other flags and its command's schema.
                key: `${e.update_time}|${declaredSchemaVersion(store.schemas, e.base_command ?? "")}`,
                run: (set, unset) => api.updateFlags(id, set, unset, { validateOnly: true }),
              }}
            />
            <Command e={e} />
          </>
        )}
        {tab === "jobs" && <JobHistory jobs={jobs} experimentId={id} error={jobsError} />}
        {tab === "events" && <EventList events={events} showExperiment={false} />}
        {tab === "logs" &&
          (logJob ? (
            <>
              <div class="log-pick">
                <label>
                  Job{" "}
                  <select value={logJob} onChange={(ev) => navigate({ view: "exp", id, tab: "logs", job: ev.currentTarget.value })}>
                    {(jobs.length ? jobs : latest ? [latest] : []).map((j) => (
                      <option key={j.id} value={j.id}>
                        #{j.attempt ?? "?"} · job {j.id} · {stateLabel(j.status)}
                      </option>
                    ))}
                  </select>
                </label>
              </div>
              <LogViewer key={logJob} jobId={logJob} live={isLive(logJobInfo) || !logJobInfo} fileName={`${e.name}-job${logJob}.log`} />
            </>
          ) : (
            <p class="empty">No job has run yet, so there is no log.</p>
          ))}
      </div>
    </aside>
  );
}

function mergeEvents(live: SkyEvent[], fetched: SkyEvent[]): SkyEvent[] {
  const byId = new Map<string, SkyEvent>();
  for (const ev of [...fetched, ...live]) if (ev.id) byId.set(ev.id, ev);
  return [...byId.values()].sort((a, b) => Number(b.id) - Number(a.id));
}

function Command({ e }: { e: Experiment }) {
  const cmd = renderCommand(e.base_command ?? "", e.flags);
  return (
    <section class="command" aria-label="Command">
      <h3>
        Command the next job will run <CopyButton text={cmd} />
      </h3>
      <pre class="mono cmd" data-testid="command">
        {cmd}
      </pre>
    </section>
  );
}

function Overview({ e, latest }: { e: Experiment; latest: Job | undefined }) {
  const conds = e.conditions ?? [];
  return (
    <>
      <dl class="facts">
        <div>
          <dt>Desired</dt>
          <dd>{stateLabel(e.desired_state)}</dd>
        </div>
        <div>
          <dt>Observed</dt>
          <dd>
            {stateLabel(e.observed_state)} <span class="muted">for</span> <InStateFor since={e.state_since} />
          </dd>
        </div>
        <div>
          <dt>Generation</dt>
          <dd>
            {e.generation ?? 0} <span class="muted">(observed {e.observed_generation ?? 0})</span>
          </dd>
        </div>
        <div>
          <dt>Restarts</dt>
          <dd>
            {e.restart_count ?? 0}
            {e.max_restarts !== undefined ? ` of ${e.max_restarts}` : ""}
          </dd>
        </div>
        <div>
          <dt>Next retry</dt>
          <dd>{e.next_retry_time ? <Ago ts={e.next_retry_time} /> : "—"}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd title={formatTimestamp(e.create_time)}>
            <Ago ts={e.create_time} />
          </dd>
        </div>
        <div>
          <dt>Template</dt>
          <dd data-testid="fact-template">
            {e.template || "—"}
            {latest?.template ? <span class="muted"> (job {latest.id}: {templateLabel(latest.template, latest.template_version)})</span> : null}
          </dd>
        </div>
        <div>
          <dt>Code</dt>
          <dd class="mono small" title={e.code_snapshot?.id ? `${e.workdir} (snapshot ${e.code_snapshot.id})` : e.workdir} data-testid="fact-code">
            {e.workdir || "—"}
            {e.code_snapshot?.id ? (
              <span class="muted"> · {snapshotLabel(e.code_snapshot.id, e.code_snapshot.git_commit, e.code_snapshot.git_dirty)}</span>
            ) : latest?.code_commit ? (
              <span class="muted"> @ {codeLabel(latest.code_commit, latest.code_dirty)}</span>
            ) : null}
          </dd>
        </div>
        {(e.secrets ?? []).length > 0 && (
          <div>
            <dt>Secrets</dt>
            <dd class="mono small">{(e.secrets ?? []).join(", ")}</dd>
          </div>
        )}
      </dl>
      {conds.length > 0 && (
        <table class="conditions">
          <caption class="sr-only">Conditions</caption>
          <tbody>
            {conds.map((c) => (
              <tr key={c.type} class={c.status && /Stalled|Degraded/.test(c.type ?? "") ? "bad-text" : ""}>
                <th scope="row">{c.type}</th>
                <td>{c.status ? "yes" : "no"}</td>
                <td>{c.reason}</td>
                <td>{c.message}</td>
                <td class="muted small">
                  <Ago ts={c.last_transition_time} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Command e={e} />
      {latest?.command && latest.command !== renderCommand(e.base_command ?? "", e.flags) && (
        <section class="command">
          <h3>
            Command job {latest.id} ran <CopyButton text={latest.command} />
          </h3>
          <pre class="mono cmd">{latest.command}</pre>
        </section>
      )}
      <h3>Configuration</h3>
      <ConfigForm key={e.id} e={e} />
    </>
  );
}
