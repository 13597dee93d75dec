// File: api/types.ts
//
// The SkyDeck v1 resources as the dashboard holds them. The HTTP API speaks
// plain JSON (snake_case field names, every field present except unset
// optional ones, enums by short name "RUNNING", int64 fields as strings,
// timestamps as RFC 3339 strings); flag values arrive as plain scalars and
// are typed into FlagValue by api/wire.ts. Fields stay optional: the
// dashboard also builds partial objects (drafts, tests).

export type DesiredState = "UNSPECIFIED" | "RUNNING" | "STOPPED" | "TERMINATED";

export type ObservedState =
  | "UNSPECIFIED"
  | "IDLE"
  | "LAUNCHING"
  | "PENDING"
  | "RUNNING"
  | "STOPPING"
  | "STOPPED"
  | "SUCCEEDED"
  | "FAILED"
  | "TERMINATED";

/** Job statuses ("RUNNING", "FAILED_SETUP"); unknown future values still type-check. */
export type JobStatus = string;

/**
 * A typed flag value (the dashboard's model; api/wire.ts converts from and to
 * the wire's plain scalars). Exactly one member is set. int_value is an int64,
 * hence a string.
 */
export interface FlagValue {
  string_value?: string;
  int_value?: string;
  double_value?: number | string;
  bool_value?: boolean;
}

export type FlagMap = Record<string, FlagValue>;

export interface Condition {
  type?: string;
  status?: boolean;
  reason?: string;
  message?: string;
  last_transition_time?: string;
}

/**
 * Live experiments named by what they are (a bulk request's scope): every
 * field set must hold; none set matches every live experiment. `text` is
 * the search box (logic/grouping.ts searchText), evaluated by the daemon.
 */
export interface ExperimentFilter {
  label_selector?: string;
  desired_states?: DesiredState[];
  observed_states?: ObservedState[];
  name_contains?: string;
  text?: string;
}

/** What a bulk action acts on: these ids and/or what the filter matches. */
export interface BulkTarget {
  ids?: string[];
  filter?: ExperimentFilter;
}

export interface Experiment {
  id?: string;
  name?: string;
  description?: string;
  base_command?: string;
  flags?: FlagMap;
  run_name?: string;
  nodes?: number;
  gpus?: number;
  gpu_type?: string;
  infra?: string;
  spot?: boolean;
  labels?: Record<string, string>;
  max_restarts?: number;
  desired_state?: DesiredState;
  generation?: string;
  observed_generation?: string;
  observed_state?: ObservedState;
  conditions?: Condition[];
  restart_count?: number;
  next_retry_time?: string;
  current_job_id?: string;
  job_count?: number;
  create_time?: string;
  update_time?: string;
  delete_time?: string;
  /** Task template name; absent or "" for none. */
  template?: string;
  envs?: Record<string, string>;
  /** Secret names; values are never sent by the daemon. */
  secrets?: string[];
  /** An absolute local directory, or a git URL[@REF]. */
  workdir?: string;
  /** The code snapshot of a local workdir (SkyPilot runs it, not the directory). */
  code_snapshot?: CodeSnapshot;
}

/** A content-addressed copy of a local directory (or file) kept by skydeckd. */
export interface CodeSnapshot {
  /** SHA-256 of the snapshot's manifest, 64 hex digits. */
  id?: string;
  size_bytes?: string;
  file_count?: number;
  git_commit?: string;
  git_dirty?: boolean;
  file_name?: string;
}

export interface Job {
  id?: string;
  experiment_id?: string;
  attempt?: number;
  backend?: string;
  backend_name?: string;
  backend_job_id?: string;
  status?: JobStatus;
  backend_status?: string;
  command?: string;
  flags?: FlagMap;
  nodes?: number;
  gpus?: number;
  gpu_type?: string;
  infra?: string;
  spot?: boolean;
  run_name?: string;
  submit_time?: string;
  start_time?: string;
  end_time?: string;
  exit_code?: number;
  failure_reason?: string;
  recovery_count?: number;
  template?: string;
  template_version?: string;
  envs?: Record<string, string>;
  secrets?: string[];
  workdir?: string;
  code_commit?: string;
  code_dirty?: boolean;
  /** The task as the backend got it, secret values "<redacted>". */
  rendered_task?: string;
  /** The id of the code snapshot it ran; absent when it ran a directory in place. */
  code_snapshot?: string;
}

/** A SkyPilot task YAML stored under a name (skydeck template apply). */
export interface TaskTemplate {
  name?: string;
  version?: string;
  yaml?: string;
  create_time?: string;
  actor?: string;
  secrets?: string[];
  accelerators?: string[];
  /** The code snapshot of each local file mount source, by source. */
  mount_snapshots?: Record<string, CodeSnapshot>;
}

export interface SkyEvent {
  id?: string;
  time?: string;
  experiment_id?: string;
  job_id?: string;
  type?: string;
  reason?: string;
  message?: string;
  actor?: string;
}

export type FlagSchemaType = "UNSPECIFIED" | "STRING" | "INT" | "FLOAT" | "BOOL" | "CHOICE";

export interface FlagSchema {
  name?: string;
  type?: FlagSchemaType;
  default_value?: FlagValue;
  choices?: string[];
  description?: string;
  required?: boolean;
  min?: number;
  max?: number;
  seen_values?: FlagValue[];
}

export interface CommandFlagSchema {
  base_command?: string;
  version?: string;
  inferred?: boolean;
  strict?: boolean;
  flags?: FlagSchema[];
}

export interface Health {
  status?: "UNSPECIFIED" | "SERVING" | "DEGRADED";
  version?: string;
  backend?: string;
  backend_reachable?: boolean;
  backend_api_version?: string;
  backend_version?: string;
  last_successful_poll_time?: string;
  last_poll_error?: string;
  start_time?: string;
  experiments_by_state?: Record<string, string>;
  revision?: string;
  /** Why writes to the database fail right now; absent when they work. */
  database_problem?: string;
}

/** One message of the Watch stream. */
export interface WatchMessage {
  event?: SkyEvent;
  experiment?: Experiment;
}

export const DESIRED_STATES: DesiredState[] = ["RUNNING", "STOPPED", "TERMINATED"];

export const OBSERVED_STATES: ObservedState[] = [
  "IDLE",
  "LAUNCHING",
  "PENDING",
  "RUNNING",
  "STOPPING",
  "STOPPED",
  "SUCCEEDED",
  "FAILED",
  "TERMINATED",
];
