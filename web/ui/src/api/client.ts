// File: api/client.ts
//
// The HTTP/JSON client of the SkyDeck API. Every call returns the decoded
// response or throws ApiError carrying the server's canonical code and
// message ({"code": "INVALID_ARGUMENT", "message": "..."}), so the UI can show
// exactly why a request was refused. State-changing requests are JSON (the
// bridge refuses anything else). Flag values cross the wire as plain scalars
// (api/wire.ts). When the daemon requires a token, it is read from
// localStorage; a 401 asks the registered prompt for one and retries once.

import type {
  BulkTarget,
  CancelJobResponse,
  CommandFlagSchema,
  DeleteExperimentsResponse,
  DesiredState,
  Experiment,
  FlagMap,
  GetCostResponse,
  GetExperimentResponse,
  GetExperimentStatusResponse,
  GetHealthResponse,
  Health,
  Job,
  ListEventsResponse,
  ListFlagSchemasResponse,
  ListJobsResponse,
  ListTaskTemplatesResponse,
  SetDesiredStateResponse,
  SetStarredResponse,
  MoveExperimentResponse,
  SkyEvent,
  TaskTemplate,
  UndeleteExperimentResponse,
  WriteExperimentResponse,
} from "./types";
import { flagsToWire, parseApiJson } from "./wire";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const TOKEN_KEY = "skydeck.token";
const ACTOR_KEY = "skydeck.actor";

function storage(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null;
  }
}

export function getToken(): string {
  return storage()?.getItem(TOKEN_KEY) ?? "";
}

export function setToken(token: string): void {
  const s = storage();
  if (!s) return;
  if (token) s.setItem(TOKEN_KEY, token);
  else s.removeItem(TOKEN_KEY);
}

/** The name recorded as the actor of this browser's changes (default "web"). */
export function getActor(): string {
  return storage()?.getItem(ACTOR_KEY) ?? "";
}

export function setActor(actor: string): void {
  const s = storage();
  if (!s) return;
  if (actor) s.setItem(ACTOR_KEY, actor);
  else s.removeItem(ACTOR_KEY);
}

/** Asked for a token after a 401; resolves true when one was entered. */
let tokenPrompt: (() => Promise<boolean>) | null = null;
let pendingPrompt: Promise<boolean> | null = null;

export function setTokenPrompt(prompt: () => Promise<boolean>): void {
  tokenPrompt = prompt;
}

/** Shows the token prompt once however many requests were refused at once. */
export function askForToken(): Promise<boolean> {
  if (!tokenPrompt) return Promise.resolve(false);
  if (!pendingPrompt) {
    pendingPrompt = tokenPrompt().finally(() => {
      pendingPrompt = null;
    });
  }
  return pendingPrompt;
}

export function authHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const token = getToken();
  if (token) headers["Authorization"] = `Bearer ${token}`;
  const actor = getActor();
  // Header values must be ISO-8859-1; anything else is left to the default.
  if (actor && /^[\x20-\x7e]+$/.test(actor)) headers["X-SkyDeck-Actor"] = actor;
  return headers;
}

/** Turns a non-2xx response into an ApiError with the server's words. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  try {
    const text = await res.text();
    try {
      const body = JSON.parse(text) as { code?: string; message?: string };
      if (body.code) code = body.code;
      if (body.message) message = body.message;
    } catch {
      if (text.trim()) message = text.trim();
    }
  } catch {
    // keep the status line
  }
  return new ApiError(res.status, code, message);
}

export function unreachable(err: unknown): ApiError {
  const detail = err instanceof Error ? err.message : String(err);
  return new ApiError(0, "UNAVAILABLE", `cannot reach skydeckd (${detail})`);
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const headers = authHeaders();
    const init: RequestInit = { method, headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res: Response;
    try {
      res = await fetch(path, init);
    } catch (err) {
      throw unreachable(err);
    }
    if (res.status === 401 && attempt === 0 && (await askForToken())) continue;
    if (!res.ok) throw await errorFromResponse(res);
    const text = await res.text();
    return (text ? parseApiJson(text) : {}) as T;
  }
}

const enc = encodeURIComponent;

export interface WriteOptions {
  /** Check only (validate_only): the daemon answers as it would store it and writes nothing. */
  validateOnly?: boolean;
}

/** What Create/Update/UpdateFlags answer. */
export interface WriteResult {
  /** As stored, or as it would be stored (validate_only; a create's id is then 0). */
  experiment: Experiment;
  /** What a lenient flag schema let through (unknown flags), one line each. */
  warnings: string[];
}

/** Create, Update and UpdateFlags answer the same shape. */
type WriteResponse = WriteExperimentResponse;

function writeResult(r: WriteResponse): WriteResult {
  return { experiment: r.experiment ?? {}, warnings: r.warnings ?? [] };
}

function experimentToWire(e: Experiment): unknown {
  return e.flags ? { ...e, flags: flagsToWire(e.flags) } : e;
}

export function query(params: Record<string, string | number | boolean | undefined>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === "" || v === false) continue;
    parts.push(`${enc(k)}=${enc(String(v))}`);
  }
  return parts.length ? `?${parts.join("&")}` : "";
}

/** The experiment fields UpdateExperiment accepts in its mask. */
export type MaskField =
  | "name"
  | "description"
  | "base_command"
  | "flags"
  | "run_name"
  | "nodes"
  | "gpus"
  | "gpu_type"
  | "infra"
  | "spot"
  | "labels"
  | "max_restarts"
  | "desired_state"
  | "template"
  | "envs"
  | "secrets"
  | "workdir";

/** A bulk change's answer: how many it addressed, their ids, and (up to 1,000) the experiments after it. */
export interface BulkAnswer {
  experiments: Experiment[];
  count: number;
  ids: string[];
}

export const api = {
  async getExperiment(id: string): Promise<Experiment | undefined> {
    return (await request<GetExperimentResponse>("GET", `/api/experiments/${enc(id)}`))
      .experiment;
  },
  async createExperiment(experiment: Experiment, start: boolean, opts: WriteOptions = {}): Promise<WriteResult> {
    return writeResult(
      await request<WriteResponse>("POST", "/api/experiments", {
        experiment: experimentToWire(experiment),
        start,
        validate_only: opts.validateOnly || undefined,
      }),
    );
  },
  async updateExperiment(id: string, experiment: Experiment, mask: MaskField[], opts: WriteOptions = {}): Promise<WriteResult> {
    return writeResult(
      await request<WriteResponse>("PATCH", `/api/experiments/${enc(id)}`, {
        experiment: experimentToWire(experiment),
        update_mask: mask.join(","),
        validate_only: opts.validateOnly || undefined,
      }),
    );
  },
  async updateFlags(id: string, set: FlagMap, unset: string[], opts: WriteOptions = {}): Promise<WriteResult> {
    return writeResult(
      await request<WriteResponse>("POST", `/api/experiments/${enc(id)}/flags`, {
        set: flagsToWire(set),
        unset,
        validate_only: opts.validateOnly || undefined,
      }),
    );
  },
  /** One transaction for the whole target; `experiments` is empty beyond 1,000. */
  async setDesiredState(target: BulkTarget, desired: DesiredState, reason = ""): Promise<BulkAnswer> {
    const body = { ids: target.ids, filter: target.filter, desired_state: desired, reason: reason || undefined };
    const r = await request<SetDesiredStateResponse>(
      "POST",
      "/api/experiments/state",
      body,
    );
    return { experiments: r.experiments ?? [], count: r.matched ?? 0, ids: r.ids ?? [] };
  },
  /** Stars (or unstars) the whole target in one transaction: a mark, not a spec change. */
  async setStarred(target: BulkTarget, starred: boolean): Promise<BulkAnswer> {
    const r = await request<SetStarredResponse>("POST", "/api/experiments/starred", {
      ids: target.ids,
      filter: target.filter,
      starred,
    });
    return { experiments: r.experiments ?? [], count: r.matched ?? 0, ids: r.ids ?? [] };
  },
  /** Sets one experiment's position (its order within a group): one write. */
  async moveExperiment(id: string, position: number): Promise<Experiment | undefined> {
    return (await request<MoveExperimentResponse>("POST", `/api/experiments/${enc(id)}/position`, { position })).experiment;
  },
  /** All or nothing; with `force`, live jobs are terminated first and waited for. */
  async deleteExperiments(target: BulkTarget, force = false): Promise<BulkAnswer> {
    const body = { ids: target.ids, filter: target.filter, force: force || undefined };
    const r = await request<DeleteExperimentsResponse>(
      "POST",
      "/api/experiments/delete",
      body,
    );
    return { experiments: r.experiments ?? [], count: r.deleted ?? 0, ids: r.ids ?? [] };
  },
  async undeleteExperiment(id: string): Promise<Experiment | undefined> {
    return (
      await request<UndeleteExperimentResponse>("POST", `/api/experiments/${enc(id)}/undelete`, {})
    ).experiment;
  },
  async status(id: string, recentJobs = 20): Promise<GetExperimentStatusResponse> {
    return request("GET", `/api/experiments/${enc(id)}/status${query({ recent_jobs: recentJobs })}`);
  },
  async jobs(id: string, pageSize = 100): Promise<Job[]> {
    return (
      await request<ListJobsResponse>("GET", `/api/experiments/${enc(id)}/jobs${query({ page_size: pageSize })}`)
    ).jobs ?? [];
  },
  async cancelJob(jobId: string, reason = ""): Promise<Job | undefined> {
    return (await request<CancelJobResponse>("POST", `/api/jobs/${enc(jobId)}/cancel`, { reason })).job;
  },
  async events(experimentId?: string, pageSize = 100, beforeId?: string): Promise<SkyEvent[]> {
    const path = experimentId ? `/api/experiments/${enc(experimentId)}/events` : "/api/events";
    return (
      await request<ListEventsResponse>("GET", `${path}${query({ page_size: pageSize, before_id: beforeId })}`)
    ).events ?? [];
  },
  async health(): Promise<Health> {
    return (await request<GetHealthResponse>("GET", "/api/health")).health ?? {};
  },
  async flagSchemas(): Promise<CommandFlagSchema[]> {
    return (await request<ListFlagSchemasResponse>("GET", "/api/flag-schemas")).schemas ?? [];
  },
  /** GPU-hours and cost added up by the daemon; `groupBy` "experiment", "gpu_type", "label:KEY" or "" (total only). */
  async cost(groupBy = "experiment"): Promise<GetCostResponse> {
    return request("GET", `/api/cost${query({ group_by: groupBy })}`);
  },
  async templates(): Promise<TaskTemplate[]> {
    return (await request<ListTaskTemplatesResponse>("GET", "/api/templates")).templates ?? [];
  },
};
