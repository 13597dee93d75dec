// File: live/sync.ts
//
// Keeps the store in step with the daemon: one initial load (health,
// experiments with the newest job of each, recent events, flag schemas),
// then the Watch stream for every change. The load's request count does not
// depend on the number of experiments: the list comes in one streamed
// request (api/experimentList.ts). Jobs are re-read only for the experiment
// a job event names, a moment after it (a burst of events costs one
// request). Flag schemas are re-read at once when one is applied or deleted
// (the daemon-wide FlagSchemaApplied/FlagSchemaDeleted events) and a moment
// after flags change (inferred schemas follow the flags in use). Health,
// which has no stream, is re-read every few seconds for the poll age and
// backend reachability; nothing else is polled.

import { api, ApiError } from "../api/client";
import { loadExperimentList } from "../api/experimentList";
import type { Experiment, WatchMessage } from "../api/types";
import { isReconciling } from "../logic/conditions";
import type { Store } from "../state/store";
import { browserNotifier } from "./browserNotify";
import { WatchConnection } from "./watch";

const HEALTH_EVERY_MS = 10_000;
const JOB_REFRESH_DELAY_MS = 150;
const SCHEMA_REFRESH_DELAY_MS = 1_000;
// When the reconciler finishes without recording an event, no Watch message
// carries the settled experiment; it is re-read at these delays after the
// last snapshot that showed it reconciling, then left alone.
const SETTLE_CHECKS_MS = [1_000, 3_000, 10_000, 30_000];

function message(err: unknown): string {
  return err instanceof ApiError ? err.message : String(err);
}

/**
 * How soon the flag schemas must be re-read after an event of `type` (ms),
 * or undefined when it cannot have changed them.
 */
export function schemaRefreshDelay(type: string | undefined): number | undefined {
  if (type === "FlagSchemaApplied" || type === "FlagSchemaDeleted") return 0;
  if (type && /^(Created|Updated|FlagsUpdated|FlagsChanged|Undeleted)$/.test(type)) return SCHEMA_REFRESH_DELAY_MS;
  return undefined;
}

export class Sync {
  private watch: WatchConnection | null = null;
  private healthTimer: ReturnType<typeof setInterval> | undefined;
  private jobTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private schemaTimer: ReturnType<typeof setTimeout> | undefined;
  /** Numbers schema reads, so an older answer never replaces a newer one. */
  private schemaReads = 0;
  private settleTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private stopped = false;

  constructor(private readonly store: Store) {}

  async start(): Promise<void> {
    this.healthTimer = setInterval(() => void this.refreshHealth(), HEALTH_EVERY_MS);
    await this.loadAll();
    this.openWatch();
  }

  private openWatch(): void {
    this.watch = new WatchConnection({
      revision: () => this.store.revision,
      onMessage: (m) => this.onWatch(m),
      onOpen: (resumed) => {
        this.store.setConnection({ status: "live", error: "", lastActivity: Date.now(), retryAt: 0 });
        if (resumed) void this.afterReconnect();
      },
      onActivity: () => {
        this.store.connection.lastActivity = Date.now();
      },
      onDrop: (error, retryAt) => {
        this.store.setConnection({ status: "reconnecting", error, retryAt });
        void this.refreshHealth(); // is the daemon down, or only the stream?
      },
    });
    this.watch.start();
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
    clearInterval(this.healthTimer);
  }

  reconnectNow(): void {
    this.watch?.reconnectNow();
  }

  /** Loads everything; retried with backoff until the daemon answers. */
  private async loadAll(): Promise<void> {
    for (let delay = 500; !this.stopped; delay = Math.min(delay * 2, 10_000)) {
      try {
        const health = await api.health();
        this.store.setHealth(health);
        const [{ experiments, latestJobs }, events] = await Promise.all([loadExperimentList(), api.events(undefined, 200)]);
        // Watch from the revision read before the list, not from the newest
        // event read with it: a change made while the list's pages were read
        // is then replayed rather than missed (replaying one twice is harmless).
        this.store.revision = Number(health.revision ?? 0);
        this.store.setExperiments(experiments, latestJobs);
        this.store.addEvents(events);
        void this.refreshSchemas();
        experiments.forEach((e) => this.checkSettled(e));
        return;
      } catch (err) {
        this.store.setHealth(null, message(err));
        this.store.setConnection({ status: "reconnecting", error: message(err), retryAt: Date.now() + delay });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** After a reconnect: a daemon whose history is behind ours has a new database; start over. */
  private async afterReconnect(): Promise<void> {
    const health = await this.refreshHealth();
    if (health && Number(health.revision ?? 0) < this.store.revision) {
      this.store.revision = 0;
      this.store.events = [];
      this.store.jobs.clear();
      this.watch?.stop();
      await this.loadAll();
      this.openWatch();
    }
  }

  private onWatch(m: WatchMessage): void {
    if (!this.store.applyWatch(m)) return;
    if (m.experiment) this.checkSettled(m.experiment);
    const ev = m.event;
    browserNotifier.onEvent(ev, m.experiment?.name);
    if (ev?.experiment_id && ev.experiment_id !== "0" && ev.job_id && ev.job_id !== "0") {
      this.refreshJobSoon(ev.experiment_id);
    }
    const schemaDelay = schemaRefreshDelay(ev?.type);
    if (schemaDelay === 0) {
      void this.refreshSchemas();
    } else if (schemaDelay !== undefined) {
      // A burst of flag changes costs one read.
      clearTimeout(this.schemaTimer);
      this.schemaTimer = setTimeout(() => void this.refreshSchemas(), schemaDelay);
    }
  }

  /** Re-reads a reconciling experiment a few times until it has settled (see SETTLE_CHECKS_MS). */
  private checkSettled(e: Experiment, attempt = 0): void {
    const id = e.id;
    if (!id) return;
    clearTimeout(this.settleTimers.get(id));
    this.settleTimers.delete(id);
    if (!isReconciling(e) || e.delete_time || attempt >= SETTLE_CHECKS_MS.length) return;
    this.settleTimers.set(
      id,
      setTimeout(async () => {
        this.settleTimers.delete(id);
        try {
          const fresh = await api.getExperiment(id);
          this.store.upsertExperiment(fresh);
          const e = this.store.get(id) ?? fresh;
          if (e) this.checkSettled(e, attempt + 1);
        } catch {
          // gone or unreachable: the stream will tell
        }
      }, SETTLE_CHECKS_MS[attempt]),
    );
  }

  refreshJobSoon(experimentId: string): void {
    clearTimeout(this.jobTimers.get(experimentId));
    this.jobTimers.set(
      experimentId,
      setTimeout(() => {
        this.jobTimers.delete(experimentId);
        void this.loadJob(experimentId);
      }, JOB_REFRESH_DELAY_MS),
    );
  }

  /** Reads the newest job of one experiment (after an event names one of its jobs). */
  private async loadJob(id: string): Promise<void> {
    try {
      const [job] = await api.jobs(id, 1);
      this.store.setJob(id, job);
    } catch {
      // the row keeps its job; the next event for it retries
    }
  }

  async refreshHealth() {
    try {
      const health = await api.health();
      this.store.setHealth(health);
      return health;
    } catch (err) {
      this.store.setHealth(null, message(err));
      return null;
    }
  }

  async refreshSchemas(): Promise<void> {
    const read = ++this.schemaReads;
    try {
      const schemas = await api.flagSchemas();
      if (read === this.schemaReads) this.store.setSchemas(schemas);
    } catch {
      // typeahead works without schemas; keep the last ones
    }
  }
}
