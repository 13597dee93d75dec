// File: state/store.ts
//
// The dashboard's one source of truth: experiments, the latest job of each,
// recent events, health, flag schemas and the state of the live connection.
// Writers (initial load, Watch stream, action responses) call its methods;
// views subscribe and re-render once per batch of changes, so a burst of
// Watch messages costs one render.
//
// Ordering: Watch messages carry the experiment as it is after the change,
// and an action's response is also a snapshot; whichever arrives later may
// be older. A snapshot never replaces one with a later update_time.

import type { CommandFlagSchema, Experiment, Health, Job, SkyEvent, WatchMessage } from "../api/types";
import { isJobStatus } from "../api/types";
import { millis } from "../logic/format";

export type ConnectionStatus = "connecting" | "live" | "reconnecting";

export interface Connection {
  status: ConnectionStatus;
  /** Why the last attempt failed; empty while live. */
  error: string;
  /** When the stream last delivered anything (ms since epoch); 0 before. */
  lastActivity: number;
  /** When the next reconnect is due (ms since epoch) while reconnecting. */
  retryAt: number;
}

export const MAX_EVENTS = 1000;

type Scheduler = (flush: () => void) => void;

const defaultScheduler: Scheduler = (flush) =>
  typeof requestAnimationFrame === "function" && typeof document !== "undefined" && !document.hidden
    ? requestAnimationFrame(flush)
    : setTimeout(flush, 0);

export class Store {
  readonly experiments = new Map<string, Experiment>();
  /** The newest job of each experiment, by experiment id. */
  readonly jobs = new Map<string, Job>();
  /** Newest first, at most MAX_EVENTS. */
  events: SkyEvent[] = [];
  health: Health | null = null;
  healthError = "";
  /** When health was last fetched successfully (ms since epoch). */
  healthAt = 0;
  schemas: CommandFlagSchema[] = [];
  connection: Connection = { status: "connecting", error: "", lastActivity: 0, retryAt: 0 };
  /** Id of the newest event applied: Watch resumes after it. */
  revision = 0;
  loaded = false;
  /** Bumped on every change; views use it as a cache key. */
  version = 0;

  private listeners = new Set<() => void>();
  private scheduled = false;

  constructor(private readonly schedule: Scheduler = defaultScheduler) {}

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Marks the store changed; listeners run once per batch. */
  changed(): void {
    this.version++;
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => {
      this.scheduled = false;
      for (const fn of [...this.listeners]) fn();
    });
  }

  list(): Experiment[] {
    return [...this.experiments.values()];
  }

  get(id: string | undefined): Experiment | undefined {
    return id ? this.experiments.get(id) : undefined;
  }

  /** The live name lookup the API accepts too ("lr-3" or "42"). */
  find(idOrName: string): Experiment | undefined {
    return this.experiments.get(idOrName) ?? this.list().find((e) => e.name === idOrName && !e.delete_time);
  }

  /** Replaces every experiment, and the newest jobs when given (a full load). */
  setExperiments(list: Experiment[], latestJobs?: Job[]): void {
    this.experiments.clear();
    for (const e of list) if (e.id) this.experiments.set(e.id, e);
    if (latestJobs) {
      this.jobs.clear();
      for (const j of latestJobs) if (j.id && j.experiment_id) this.jobs.set(j.experiment_id, j);
    }
    this.loaded = true;
    this.changed();
  }

  /** Adds or replaces one experiment unless the stored copy is newer. Returns whether it changed. */
  upsertExperiment(e: Experiment | undefined): boolean {
    if (!e?.id) return false;
    const old = this.experiments.get(e.id);
    if (old && millis(e.update_time) < millis(old.update_time)) return false;
    this.experiments.set(e.id, e);
    this.changed();
    return true;
  }

  removeExperiment(id: string): void {
    if (this.experiments.delete(id)) this.changed();
  }

  /** Applies one Watch message; false when it was already seen (a replay after resume). */
  applyWatch(msg: WatchMessage): boolean {
    const ev = msg.event;
    const id = Number(ev?.id ?? 0);
    if (ev && id && id <= this.revision) return false;
    if (id) this.revision = id;
    if (ev) this.addEvents([ev]);
    if (msg.experiment) {
      this.upsertExperiment(msg.experiment);
    } else if (ev?.experiment_id && /^(Purged|Deleted)$/.test(ev.type ?? "")) {
      this.removeExperiment(ev.experiment_id);
    }
    this.noteJobEvent(ev);
    this.changed();
    return true;
  }

  /** A job status change names the new status in `reason`: show it before the job is re-read. */
  private noteJobEvent(ev: SkyEvent | undefined): void {
    if (!ev?.experiment_id || !ev.job_id || ev.job_id === "0") return;
    const job = this.jobs.get(ev.experiment_id);
    if (ev.type === "JobStatusChanged" && job?.id === ev.job_id && ev.reason && isJobStatus(ev.reason)) {
      this.jobs.set(ev.experiment_id, { ...job, status: ev.reason });
    } else if (ev.type === "LaunchIntent" && (!job || Number(job.id) < Number(ev.job_id))) {
      this.jobs.set(ev.experiment_id, {
        id: ev.job_id,
        experiment_id: ev.experiment_id,
        status: "LAUNCHING",
        submit_time: ev.time,
      });
    }
  }

  /** Merges events (from a list call or the stream), newest first, without duplicates. */
  addEvents(events: SkyEvent[]): void {
    if (!events.length) return;
    const seen = new Set(this.events.map((e) => e.id));
    const fresh = events.filter((e) => e.id && !seen.has(e.id));
    if (!fresh.length) return;
    this.events = [...fresh, ...this.events]
      .sort((a, b) => Number(b.id) - Number(a.id))
      .slice(0, MAX_EVENTS);
    this.changed();
  }

  /** Records the newest job of an experiment; an older job never replaces a newer one. */
  setJob(experimentId: string, job: Job | undefined): void {
    if (!job?.id) return;
    const old = this.jobs.get(experimentId);
    if (old && Number(old.id) > Number(job.id)) return;
    this.jobs.set(experimentId, job);
    this.changed();
  }

  jobOf(e: Experiment): Job | undefined {
    return e.id ? this.jobs.get(e.id) : undefined;
  }

  setHealth(health: Health | null, error = ""): void {
    if (health) {
      this.health = health;
      this.healthAt = Date.now();
    }
    this.healthError = error;
    this.changed();
  }

  setSchemas(schemas: CommandFlagSchema[]): void {
    this.schemas = schemas;
    this.changed();
  }

  setConnection(patch: Partial<Connection>): void {
    this.connection = { ...this.connection, ...patch };
    this.changed();
  }

  /** Every experiment name in use (live ones), for picking free names. */
  names(): Set<string> {
    const out = new Set<string>();
    for (const e of this.experiments.values()) if (!e.delete_time && e.name) out.add(e.name);
    return out;
  }
}
