// File: ui/actions.ts
//
// Everything the user can do to experiments, with feedback: each action
// calls the API, puts the returned snapshot into the store at once (the
// Watch stream confirms it moments later), and reports success or the
// server's own error message in a toast. Bulk start, stop, terminate and
// delete are one request each, for ids or for the filter on screen, which
// the daemon applies all or nothing; duplicate and undo go one by one. Writes that a
// lenient flag schema let through with warnings (unknown flags) also show
// those in a warning toast.

import { api, ApiError, type MaskField } from "../api/client";
import type { BulkTarget, DesiredState, Experiment, FlagMap } from "../api/types";
import { store } from "../app";
import { stateLabel, plural } from "../logic/format";
import { matchesApiFilter } from "../logic/grouping";
import { duplicateNames } from "../logic/names";
import { toasts } from "./toasts";

export interface Outcome<T = unknown> {
  ok: boolean;
  value?: T;
  error?: ApiError;
}

function asApiError(err: unknown): ApiError {
  return err instanceof ApiError ? err : new ApiError(0, "UNKNOWN", String(err));
}

function nameOf(id: string): string {
  return store.get(id)?.name ?? `#${id}`;
}

/** The daemon's limit on ids named one by one in a request (a filter has none). */
export const MAX_IDS_PER_REQUEST = 1000;

const VERB: Record<string, string> = {
  RUNNING: "Started",
  STOPPED: "Stopped",
  TERMINATED: "Terminated",
};

/** "lr-a", or "3 experiments": what a bulk target names, for toasts. */
function describe(target: BulkTarget, count?: number): string {
  const ids = target.ids ?? [];
  if (!target.filter && ids.length === 1) return nameOf(ids[0]);
  return plural(count ?? ids.length, "experiment");
}

/**
 * Sets the desired state of a target (ids, or a filter the daemon
 * evaluates): one request, all of them or none.
 */
export async function setDesiredState(target: BulkTarget | string[], desired: DesiredState): Promise<Outcome> {
  const t = Array.isArray(target) ? { ids: target } : target;
  if (!t.filter && !t.ids?.length) return { ok: true };
  try {
    const answer = await api.setDesiredState(t, desired);
    answer.experiments.forEach((e) => store.upsertExperiment(e));
    toasts.ok(`${VERB[desired] ?? "Updated"} ${describe(t, answer.count)}`);
    return { ok: true };
  } catch (err) {
    const e = asApiError(err);
    toasts.error(`Could not set ${stateLabel(desired)}`, e.message);
    return { ok: false, error: e };
  }
}

/** Stars or unstars experiments: a mark, not a spec change (nothing relaunches). */
export async function setStarred(ids: string[], starred: boolean): Promise<Outcome> {
  if (!ids.length) return { ok: true };
  try {
    const answer = await api.setStarred({ ids }, starred);
    answer.experiments.forEach((e) => store.upsertExperiment(e));
    return { ok: true };
  } catch (err) {
    const e = asApiError(err);
    toasts.error(`Could not ${starred ? "star" : "unstar"} ${describe({ ids })}`, e.message);
    return { ok: false, error: e };
  }
}

/**
 * Writes new positions (logic/order.ts: usually one) in order, shown at
 * once; a failure stops and says so (the Watch stream keeps the rest true).
 */
export async function moveExperiments(moves: { id: string; position: number }[]): Promise<Outcome> {
  for (const m of moves) {
    const e = store.get(m.id);
    if (e) store.upsertExperiment({ ...e, position: m.position });
  }
  try {
    for (const m of moves) store.upsertExperiment(await api.moveExperiment(m.id, m.position));
    return { ok: true };
  } catch (err) {
    const e = asApiError(err);
    toasts.error("Could not reorder", e.message);
    return { ok: false, error: e };
  }
}

export async function cancelJob(jobId: string, experimentId: string): Promise<Outcome> {
  try {
    await api.cancelJob(jobId, "cancelled from the dashboard");
    toasts.ok(`Cancelling job ${jobId} of ${nameOf(experimentId)}`);
    return { ok: true };
  } catch (err) {
    const e = asApiError(err);
    toasts.error(`Could not cancel job ${jobId}`, e.message);
    return { ok: false, error: e };
  }
}

/**
 * Soft-deletes a target in one request (all or none); the toast offers
 * Undo (restores every one deleted). A refusal because of live jobs offers
 * "Terminate and delete".
 */
export async function deleteExperiments(target: BulkTarget | string[]): Promise<Outcome> {
  const t = Array.isArray(target) ? { ids: target } : target;
  if (!t.filter && !t.ids?.length) return { ok: true };
  try {
    const answer = await api.deleteExperiments(t);
    answer.experiments.forEach((e) => store.upsertExperiment(e));
    toasts.ok(`Deleted ${describe(t, answer.count)}`, { label: "Undo", run: () => void undelete(answer.ids) });
    return { ok: true };
  } catch (err) {
    const error = asApiError(err);
    const live = error.code === "FAILED_PRECONDITION";
    toasts.error(
      `Could not delete ${describe(t)}`,
      error.message,
      live ? { label: "Terminate and delete", run: () => void forceDelete(t) } : undefined,
    );
    return { ok: false, error };
  }
}

/** Undeletes one by one, a few at a time (there is no bulk undelete). */
export async function undelete(ids: string[]): Promise<Outcome> {
  let failed: ApiError | undefined;
  const queue = [...ids];
  const worker = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      try {
        store.upsertExperiment(await api.undeleteExperiment(id));
      } catch (err) {
        failed = asApiError(err);
        toasts.error(`Could not restore ${nameOf(id)}`, failed.message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, ids.length) }, worker));
  if (!failed) toasts.ok(`Restored ${ids.length === 1 ? nameOf(ids[0]) : plural(ids.length, "experiment")}`);
  return { ok: !failed, error: failed };
}

/**
 * Terminates live jobs, then deletes. The daemon waits for the jobs to end
 * within its deadline; when it answers DEADLINE_EXCEEDED (or, from older
 * daemons, FAILED_PRECONDITION), the experiments the target named when the
 * user asked are deleted by id once the Watch stream shows none of them
 * with a live job (a filter is not used again: a state filter no longer
 * matches them once terminated).
 */
export async function forceDelete(target: BulkTarget | string): Promise<Outcome> {
  const t = typeof target === "string" ? { ids: [target] } : target;
  const what = describe(t);
  const named = store
    .list()
    .filter((e) => !e.delete_time && (t.ids?.includes(e.id ?? "") || (!!t.filter && matchesApiFilter(e, t.filter))))
    .map((e) => e.id ?? "");
  const note = toasts.show("info", `Terminating ${what}; deleted once the jobs have stopped`, { sticky: true });
  try {
    const answer = await api.deleteExperiments(t, true);
    answer.experiments.forEach((e) => store.upsertExperiment(e));
    toasts.dismiss(note);
    toasts.ok(`Deleted ${describe(t, answer.count)}`, { label: "Undo", run: () => void undelete(answer.ids) });
    return { ok: true };
  } catch (err) {
    const e = asApiError(err);
    if (e.code !== "DEADLINE_EXCEEDED" && e.code !== "FAILED_PRECONDITION") {
      toasts.dismiss(note);
      toasts.error(`Could not delete ${what}`, e.message);
      return { ok: false, error: e };
    }
  }
  const stopped = await waitFor(
    () =>
      named.every((id) => {
        const exp = store.get(id);
        return !exp || !exp.current_job_id || exp.current_job_id === "0";
      }),
    120_000,
  );
  toasts.dismiss(note);
  if (!stopped) {
    toasts.error(`Could not delete ${what}`, "the jobs did not stop within 2 minutes");
    return { ok: false };
  }
  let outcome: Outcome = { ok: true };
  for (let i = 0; i < named.length && outcome.ok; i += MAX_IDS_PER_REQUEST) {
    outcome = await deleteExperiments({ ids: named.slice(i, i + MAX_IDS_PER_REQUEST) });
  }
  return outcome;
}

/** Resolves true once `cond` holds (checked on every store change), false after `timeoutMs`. */
function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (cond()) return resolve(true);
    const timer = setTimeout(() => {
      unsubscribe();
      resolve(false);
    }, timeoutMs);
    const unsubscribe = store.subscribe(() => {
      if (!cond()) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(true);
    });
  });
}

/** The configuration a duplicate copies (not its state, history or run name). */
export function configOf(e: Experiment): Experiment {
  return {
    name: e.name,
    description: e.description,
    base_command: e.base_command,
    flags: { ...(e.flags ?? {}) },
    nodes: e.nodes,
    gpus: e.gpus,
    gpu_type: e.gpu_type,
    infra: e.infra,
    spot: e.spot,
    labels: { ...(e.labels ?? {}) },
    max_restarts: e.max_restarts,
    // A duplicate runs the same workload (an absent template means none).
    template: e.template ?? "",
    envs: { ...(e.envs ?? {}) },
    secrets: [...(e.secrets ?? [])],
    workdir: e.workdir,
  };
}

/** The daemon's flag-schema warnings for a write, in one toast that stays until dismissed. */
export function showWarnings(name: string | undefined, warnings: string[]): void {
  if (!warnings.length) return;
  toasts.warn(`${name || "The experiment"}: ${plural(warnings.length, "flag schema warning")}`, warnings.join("\n"));
}

/** For actions started from a form: the form shows a refusal inline, so no error toast. */
export interface FormOptions {
  inline?: boolean;
}

export async function createExperiment(exp: Experiment, start: boolean, opts: FormOptions = {}): Promise<Outcome<Experiment>> {
  try {
    const { experiment: created, warnings } = await api.createExperiment(exp, start);
    store.upsertExperiment(created);
    toasts.ok(`Created ${created.name}${start ? " and started it" : ""}`);
    showWarnings(created.name, warnings);
    return { ok: true, value: created };
  } catch (err) {
    const e = asApiError(err);
    if (!opts.inline) toasts.error(`Could not create ${exp.name || "the experiment"}`, e.message);
    return { ok: false, error: e };
  }
}

/** Duplicates each experiment under the next free name in its series; none is started. */
export async function duplicateExperiments(ids: string[]): Promise<Outcome> {
  const sources = ids.map((id) => store.get(id)).filter((e): e is Experiment => !!e);
  const names = duplicateNames(sources.map((e) => e.name ?? "experiment"), store.names());
  const created: string[] = [];
  let failed: ApiError | undefined;
  for (let i = 0; i < sources.length; i++) {
    try {
      const { experiment: e, warnings } = await api.createExperiment({ ...configOf(sources[i]), name: names[i] }, false);
      store.upsertExperiment(e);
      created.push(e.name ?? names[i]);
      showWarnings(e.name, warnings);
    } catch (err) {
      failed = asApiError(err);
      toasts.error(`Could not duplicate ${sources[i].name}`, failed.message);
    }
  }
  if (created.length) toasts.ok(created.length === 1 ? `Duplicated as ${created[0]}` : `Created ${created.join(", ")}`);
  return { ok: !failed, error: failed };
}

export async function updateExperiment(id: string, patch: Experiment, mask: MaskField[], opts: FormOptions = {}): Promise<Outcome<Experiment>> {
  try {
    const { experiment: e, warnings } = await api.updateExperiment(id, patch, mask);
    store.upsertExperiment(e);
    toasts.ok(`Saved ${e.name}`);
    showWarnings(e.name, warnings);
    return { ok: true, value: e };
  } catch (err) {
    const e = asApiError(err);
    if (!opts.inline) toasts.error(`Could not save ${nameOf(id)}`, e.message);
    return { ok: false, error: e };
  }
}

export async function updateFlags(id: string, set: FlagMap, unset: string[], opts: FormOptions = {}): Promise<Outcome<Experiment>> {
  try {
    const { experiment: e, warnings } = await api.updateFlags(id, set, unset);
    store.upsertExperiment(e);
    toasts.ok(`Saved flags of ${e.name}`);
    showWarnings(e.name, warnings);
    return { ok: true, value: e };
  } catch (err) {
    const e = asApiError(err);
    if (!opts.inline) toasts.error(`Could not save flags of ${nameOf(id)}`, e.message);
    return { ok: false, error: e };
  }
}
