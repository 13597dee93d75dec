// File: api/types.ts
//
// The SkyDeck v1 resources as the HTTP bridge encodes them (proto JSON with
// snake_case field names): enums are their full names, int64 fields are
// strings, timestamps are RFC 3339 strings, and fields at their default
// value are omitted, hence every field is optional.

export type DesiredState =
  | "DESIRED_STATE_UNSPECIFIED"
  | "DESIRED_STATE_RUNNING"
  | "DESIRED_STATE_STOPPED"
  | "DESIRED_STATE_TERMINATED";

export type ObservedState =
  | "OBSERVED_STATE_UNSPECIFIED"
  | "OBSERVED_STATE_IDLE"
  | "OBSERVED_STATE_LAUNCHING"
  | "OBSERVED_STATE_PENDING"
  | "OBSERVED_STATE_RUNNING"
  | "OBSERVED_STATE_STOPPING"
  | "OBSERVED_STATE_STOPPED"
  | "OBSERVED_STATE_SUCCEEDED"
  | "OBSERVED_STATE_FAILED"
  | "OBSERVED_STATE_TERMINATED";

/** JOB_STATUS_* names; unknown future values still type-check as strings. */
export type JobStatus = string;

/** Exactly one member is set. int_value is an int64, hence a string. */
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

export type FlagSchemaType =
  | "TYPE_UNSPECIFIED"
  | "TYPE_STRING"
  | "TYPE_INT"
  | "TYPE_FLOAT"
  | "TYPE_BOOL"
  | "TYPE_CHOICE";

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
  status?: "STATUS_UNSPECIFIED" | "STATUS_SERVING" | "STATUS_DEGRADED";
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
}

/** One message of the Watch stream. */
export interface WatchMessage {
  event?: SkyEvent;
  experiment?: Experiment;
}

export const DESIRED_STATES: DesiredState[] = [
  "DESIRED_STATE_RUNNING",
  "DESIRED_STATE_STOPPED",
  "DESIRED_STATE_TERMINATED",
];

export const OBSERVED_STATES: ObservedState[] = [
  "OBSERVED_STATE_IDLE",
  "OBSERVED_STATE_LAUNCHING",
  "OBSERVED_STATE_PENDING",
  "OBSERVED_STATE_RUNNING",
  "OBSERVED_STATE_STOPPING",
  "OBSERVED_STATE_STOPPED",
  "OBSERVED_STATE_SUCCEEDED",
  "OBSERVED_STATE_FAILED",
  "OBSERVED_STATE_TERMINATED",
];
