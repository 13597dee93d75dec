// File: logic/grouping.ts
//
// What the experiments table shows and in which order: filtering (text,
// label selector, desired and observed state, archived), grouping by one
// label key (experiments without it form a last group), and sorting by a
// column. Pure functions of the experiments and the view settings.

import type { DesiredState, Experiment, ExperimentFilter, Job, ObservedState } from "../api/types";
import { flagKind, formatFlagValue, millis } from "./format";
import { parseLabelSelector } from "./labelSelector";

export interface Filter {
  text: string;
  labelSelector: string;
  desired: string; // a desired state ("RUNNING"), or "" for any
  observed: string; // an observed state ("FAILED"), or "" for any
  showDeleted: boolean;
  starred?: boolean; // only starred experiments
}

export const EMPTY_FILTER: Filter = { text: "", labelSelector: "", desired: "", observed: "", showDeleted: false, starred: false };

/**
 * The experiments that pass, in their order; `error` explains a selector
 * that cannot be read (then it is ignored). When every one passes, `exps`
 * itself is returned, so what is derived from the result (groups, their
 * columns) is kept as is.
 */
export function filterExperiments(exps: Experiment[], f: Filter, now: number = Date.now()): { experiments: Experiment[]; error: string } {
  let error = "";
  let labelsMatch = (_: Record<string, string>) => true;
  try {
    if (f.labelSelector.trim()) labelsMatch = parseLabelSelector(f.labelSelector);
  } catch (err) {
    error = (err as Error).message;
  }
  const words = searchWords(f.text);
  const experiments = exps.filter((e) => {
    if (!f.showDeleted && e.delete_time) return false;
    if (f.desired && e.desired_state !== f.desired) return false;
    if (f.observed && e.observed_state !== f.observed) return false;
    if (f.starred && !e.starred) return false;
    if (!labelsMatch(e.labels ?? {})) return false;
    return matchesSearch(e, words, now);
  });
  return { experiments: experiments.length === exps.length ? exps : experiments, error };
}

/**
 * The filter as the API's ExperimentFilter, for bulk actions on "what is
 * shown": the daemon then selects the same live experiments (archived ones
 * are never acted on).
 */
export function filterToApi(f: Filter): ExperimentFilter {
  const out: ExperimentFilter = {};
  if (f.labelSelector.trim()) out.label_selector = f.labelSelector.trim();
  if (f.desired) out.desired_states = [f.desired as DesiredState];
  if (f.observed) out.observed_states = [f.observed as ObservedState];
  if (searchWords(f.text).length) out.text = f.text;
  if (f.starred) out.starred = true;
  return out;
}

/** Whether a live experiment matches an API filter, as the daemon decides. Throws on a bad selector. */
export function matchesApiFilter(e: Experiment, f: ExperimentFilter, now: number = Date.now()): boolean {
  if (e.delete_time) return false;
  if (f.starred && !e.starred) return false;
  if (f.desired_states?.length && !f.desired_states.includes(e.desired_state as DesiredState)) return false;
  if (f.observed_states?.length && !f.observed_states.includes(e.observed_state as ObservedState)) return false;
  if (f.name_contains && !(e.name ?? "").includes(f.name_contains)) return false;
  if (f.label_selector && !parseLabelSelector(f.label_selector)(e.labels ?? {})) return false;
  return matchesSearch(e, searchWords(f.text ?? ""), now);
}

/** ASCII letters lowered, nothing else: the daemon does exactly this (common/model/experiment_search.h). */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** The words of a search: split on ASCII white space, ASCII letters lowered. */
export function searchWords(text: string): string[] {
  return asciiLower(text).split(/[ \t\n\v\f\r]+/).filter(Boolean);
}

/**
 * What the search box looks in: id, name, description, base command,
 * labels and flags as k=v. The daemon has the same rule for
 * ExperimentFilter.text (common/model/experiment_search.h); tests/golden/search.json
 * holds the cases both are tested against.
 */
export function searchText(e: Experiment): string {
  let text = searchTexts.get(e);
  if (text === undefined) {
    text = buildSearchText(e);
    searchTexts.set(e, text);
  }
  return text;
}

/** Builds the search text of every experiment ahead of the first keystroke. */
export function indexForSearch(exps: Experiment[]): void {
  for (const e of exps) searchText(e);
}

// The search text of each experiment object, built once: the store replaces
// an experiment's object when it changes, so an entry never goes stale, and
// a keystroke over 10,000 experiments is one substring test each.
const searchTexts = new WeakMap<Experiment, string>();

function buildSearchText(e: Experiment): string {
  const labels = Object.entries(e.labels ?? {}).map(([k, v]) => `${k}=${v}`);
  const flags = Object.entries(e.flags ?? {}).map(([k, v]) => `${k}=${formatFlagValue(v)}`);
  return asciiLower([e.id, e.name, e.description, e.base_command, ...labels, ...flags].join(" "));
}

/**
 * Every word occurs in the search text, or, for a time-in-state word
 * ("running>2d", "pending<30m") naming an observed state, the experiment
 * has been in that state that long at `now` (common/model/experiment_search.h).
 */
export function matchesSearch(e: Experiment, words: string[], now: number = Date.now()): boolean {
  if (!words.length) return true;
  const hay = searchText(e);
  return words.every((w) => {
    let age = stateAges.get(w);
    if (age === undefined) {
      if (stateAges.size > 1000) stateAges.clear(); // words typed over a long session
      stateAges.set(w, (age = parseStateAge(w)));
    }
    if (age && OBSERVED_STATES.has(age.state)) return matchesStateAge(age, e.observed_state, e.state_since, now);
    return hay.includes(w);
  });
}

// Each search word parsed once (a keystroke tests every word against every experiment).
const stateAges = new Map<string, StateAge | null>();

/** The observed states' bare names, lowered: the states a time-in-state word may name. */
const OBSERVED_STATES = new Set(["idle", "launching", "pending", "running", "stopping", "stopped", "succeeded", "failed", "terminated"]);

/** A time-in-state word: `state` lowered, `longer` for '>', `ms` the duration. */
export interface StateAge {
  state: string;
  longer: boolean;
  ms: number;
}

const UNIT_MS: Record<string, number> = { d: 86400000, h: 3600000, m: 60000, s: 1000 };

/** "running>1h30m" as a StateAge; null when the word does not have that shape (as ParseStateAge). */
export function parseStateAge(word: string): StateAge | null {
  const m = /^([A-Za-z_]+)([<>])((?:[0-9]{1,9}[dhmsDHMS])+)$/.exec(word);
  if (!m) return null;
  let ms = 0;
  for (const part of m[3].matchAll(/([0-9]+)([dhmsDHMS])/g)) ms += Number(part[1]) * UNIT_MS[part[2].toLowerCase()];
  return { state: asciiLower(m[1]), longer: m[2] === ">", ms };
}

/** Whether something in `state` since `since` matches `age` at `now`. */
export function matchesStateAge(age: StateAge, state: string | undefined, since: string | undefined, now: number): boolean {
  const t = millis(since);
  if (!state || Number.isNaN(t) || t <= 0 || asciiLower(state) !== age.state) return false;
  const inState = now - t;
  return age.longer ? inState > age.ms : inState < age.ms;
}

/** Whether a search has time-in-state words (its result then changes with the clock). */
export function hasStateAge(text: string): boolean {
  return searchWords(text).some((w) => parseStateAge(w) !== null);
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/** Natural order: "run-2" before "run-10". */
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b);
}

/** Every label key in use, sorted, for the group-by and filter pickers. */
export function labelKeys(exps: Experiment[]): string[] {
  const keys = new Set<string>();
  for (const e of exps) for (const k of Object.keys(e.labels ?? {})) keys.add(k);
  return [...keys].sort(naturalCompare);
}

export interface Group {
  /** Stable id for collapse state: "" when not grouped. */
  id: string;
  /** The label value; null for experiments without the label. */
  value: string | null;
  title: string;
  experiments: Experiment[];
}

/**
 * Groups by the value of label `key` (naturally ordered), experiments without
 * it last. An empty key gives one group of everything.
 */
export function groupByLabel(exps: Experiment[], key: string): Group[] {
  if (!key) return [{ id: "", value: null, title: "All experiments", experiments: exps }];
  const byValue = new Map<string, Experiment[]>();
  const without: Experiment[] = [];
  for (const e of exps) {
    const v = e.labels?.[key];
    if (v === undefined) without.push(e);
    else (byValue.get(v) ?? byValue.set(v, []).get(v)!).push(e);
  }
  const groups: Group[] = [...byValue.keys()]
    .sort(naturalCompare)
    .map((v) => ({ id: `${key}=${v}`, value: v, title: `${key}=${v}`, experiments: byValue.get(v)! }));
  if (without.length) groups.push({ id: `!${key}`, value: null, title: `no ${key}`, experiments: without });
  return groups;
}

export type SortKey =
  | "name"
  | "id"
  | "state"
  | "attempt"
  | "job"
  | "resources"
  | "started"
  | "duration"
  | "order"
  | "since"
  | `flag:${string}`;

export interface Sort {
  key: SortKey;
  dir: 1 | -1;
}

/** What the sort needs beyond the experiment: its latest job and the time. */
export interface SortContext {
  jobOf: (e: Experiment) => Job | undefined;
  now: number;
}

const OBSERVED_ORDER = [
  "FAILED",
  "RUNNING",
  "PENDING",
  "LAUNCHING",
  "STOPPING",
  "IDLE",
  "STOPPED",
  "SUCCEEDED",
  "TERMINATED",
];

export function jobDurationMs(job: Job | undefined, now: number): number {
  const start = millis(job?.start_time);
  if (Number.isNaN(start)) return NaN;
  const end = millis(job?.end_time);
  return (Number.isNaN(end) ? now : end) - start;
}

type Key = string | number | undefined;

function sortValue(e: Experiment, key: SortKey, ctx: SortContext): Key {
  switch (key) {
    case "name":
      return e.name ?? "";
    case "id":
      return Number(e.id ?? 0);
    case "state": {
      const i = OBSERVED_ORDER.indexOf(e.observed_state ?? "");
      return i < 0 ? OBSERVED_ORDER.length : i;
    }
    case "attempt":
      return e.job_count ?? 0;
    case "job":
      return ctx.jobOf(e)?.status;
    case "resources":
      return (e.nodes || 1) * 1000 + (e.gpus ?? 0);
    case "started": {
      const t = millis(ctx.jobOf(e)?.start_time);
      return Number.isNaN(t) ? undefined : t;
    }
    case "duration": {
      const d = jobDurationMs(ctx.jobOf(e), ctx.now);
      return Number.isNaN(d) ? undefined : d;
    }
    case "order":
      return positionOf(e);
    case "since": {
      const t = millis(e.state_since);
      return Number.isNaN(t) ? undefined : ctx.now - t;
    }
  }
  const flag = e.flags?.[key.slice(5)];
  if (!flag) return undefined;
  const kind = flagKind(flag);
  if (kind === "int" || kind === "float") return Number(formatFlagValue(flag));
  if (kind === "bool") return flag.bool_value ? 1 : 0;
  return formatFlagValue(flag);
}

function compareKeys(a: Key, b: Key): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return naturalCompare(String(a), String(b));
}

/** An experiment's position (its order within a group): the stored one, else its id. */
export function positionOf(e: Experiment): number {
  return typeof e.position === "number" ? e.position : Number(e.id ?? 0);
}

/** Sorted copy; missing values go last in either direction; ties by id. */
export function sortExperiments(exps: Experiment[], sort: Sort, ctx: SortContext): Experiment[] {
  const keyed = exps.map((e) => ({ e, k: sortValue(e, sort.key, ctx) }));
  keyed.sort((x, y) => {
    const xm = x.k === undefined || x.k === "";
    const ym = y.k === undefined || y.k === "";
    if (xm !== ym) return xm ? 1 : -1;
    const c = xm ? 0 : compareKeys(x.k, y.k) * sort.dir;
    return c || Number(x.e.id ?? 0) - Number(y.e.id ?? 0);
  });
  return keyed.map((x) => x.e);
}

/** Experiments by observed state name ("RUNNING": 3), for the health bar. */
export function countByState(exps: Experiment[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of exps) {
    if (e.delete_time) continue;
    const s = e.observed_state ?? "UNSPECIFIED";
    counts[s] = (counts[s] ?? 0) + 1;
  }
  return counts;
}

/** How many of `ids` are in `selected` (a group's select-all box). */
export function selectedCount(ids: readonly string[], selected: ReadonlySet<string>): number {
  if (!selected.size) return 0;
  let n = 0;
  for (const id of ids) if (selected.has(id)) n++;
  return n;
}
