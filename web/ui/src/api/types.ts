// File: api/types.ts
//
// The SkyDeck v1 resources as the dashboard holds them: the types generated
// from proto/ (src/generated/, by scripts/gen-api-types.sh with ts-proto at
// build time; never edited by hand) seen through PlainJson, the one place
// where the HTTP API's plain JSON differs from the generated shape.
//
// The generated types already have the plain JSON's field names (snake_case
// proto names), int64 fields as decimal strings, timestamps as RFC 3339
// strings, and every field optional (the dashboard also builds partial
// objects: drafts, tests). What differs:
// - enums: the bridge writes a value by its short name, without the prefix
//   every value of the enum carries ("RUNNING" for DESIRED_STATE_RUNNING,
//   "INT" for FlagSchema.Type's TYPE_INT; web/bridge/json_descriptors.h).
//   ShortEnum strips that prefix at the type level (no conversion runs: the
//   wire already holds the short names).
// - flag values: a plain scalar on the wire (4, 1.0, true, "adam"), the
//   generated FlagValue in the dashboard; api/wire.ts converts both ways.

import type * as pb from "../generated/skydeck/v1/resources";
import { JobStatus as JobStatusNames } from "../generated/skydeck/v1/resources";
import type * as svc from "../generated/skydeck/v1/service";

/** The prefix of a generated enum's values: what precedes "_UNSPECIFIED" (every API enum has that zero value). */
type EnumPrefix<E> = E extends `${infer P}_UNSPECIFIED` ? P : never;

/**
 * A generated enum (a union of full value names) by the short names the
 * bridge writes: ShortEnum<"DESIRED_STATE_UNSPECIFIED" | "DESIRED_STATE_RUNNING">
 * is "UNSPECIFIED" | "RUNNING". Any other string type is left as it is.
 */
export type ShortEnum<E extends string, P extends string = EnumPrefix<E>> = [P] extends [never]
  ? E
  : E extends `${P}_${infer Short}`
    ? Short
    : E;

/** A generated message (or field type) as the HTTP API's plain JSON holds it: its enums by short name. */
export type PlainJson<T> = [T] extends [string]
  ? ShortEnum<T>
  : T extends readonly (infer Item)[]
    ? PlainJson<Item>[]
    : T extends object
      ? { [K in keyof T]: PlainJson<Exclude<T[K], undefined>> }
      : T;

export type DesiredState = PlainJson<pb.DesiredState>;
export type ObservedState = PlainJson<pb.ObservedState>;
export type JobStatus = PlainJson<pb.JobStatus>;

const JOB_STATUSES = new Set<string>(Object.values(JobStatusNames).map((full) => full.slice("JOB_STATUS_".length)));

/** Whether `name` is a job status's short name (a JobStatusChanged event's reason is one). */
export function isJobStatus(name: string): name is JobStatus {
  return JOB_STATUSES.has(name);
}

export type FlagSchemaType = PlainJson<pb.FlagSchema_Type>;
export type HealthStatus = PlainJson<pb.Health_Status>;

/** A typed flag value (exactly one member set; int_value is an int64, hence a string). */
export type FlagValue = PlainJson<pb.FlagValue>;
export type FlagMap = Record<string, FlagValue>;

export type Condition = PlainJson<pb.Condition>;
export type Experiment = PlainJson<pb.Experiment>;
export type CodeSnapshot = PlainJson<pb.CodeSnapshot>;
export type Job = PlainJson<pb.Job>;
export type TaskTemplate = PlainJson<pb.TaskTemplate>;
/** The API's Event (named so it does not shadow the DOM's Event). */
export type SkyEvent = PlainJson<pb.Event>;
export type FlagSchema = PlainJson<pb.FlagSchema>;
export type CommandFlagSchema = PlainJson<pb.CommandFlagSchema>;
export type Health = PlainJson<pb.Health>;

/**
 * Live experiments named by what they are (a bulk request's scope): every
 * field set must hold; none set matches every live experiment. `text` is
 * the search box (logic/grouping.ts searchText), evaluated by the daemon.
 */
export type ExperimentFilter = PlainJson<svc.ExperimentFilter>;

/** What a bulk action acts on: these ids and/or what the filter matches (SetDesiredState, DeleteExperiments). */
export type BulkTarget = Pick<PlainJson<svc.SetDesiredStateRequest>, "ids" | "filter">;

/** One message of the Watch stream. */
export type WatchMessage = PlainJson<svc.WatchResponse>;

/** Responses the client reads, as the bridge writes them. */
export type ListExperimentsResponse = PlainJson<svc.ListExperimentsResponse>;
export type GetExperimentResponse = PlainJson<svc.GetExperimentResponse>;
export type WriteExperimentResponse = PlainJson<svc.CreateExperimentResponse>;
export type SetDesiredStateResponse = PlainJson<svc.SetDesiredStateResponse>;
export type SetStarredResponse = PlainJson<svc.SetStarredResponse>;
export type MoveExperimentResponse = PlainJson<svc.MoveExperimentResponse>;
export type DeleteExperimentsResponse = PlainJson<svc.DeleteExperimentsResponse>;
export type UndeleteExperimentResponse = PlainJson<svc.UndeleteExperimentResponse>;
export type GetExperimentStatusResponse = PlainJson<svc.GetExperimentStatusResponse>;
export type ListJobsResponse = PlainJson<svc.ListJobsResponse>;
export type CancelJobResponse = PlainJson<svc.CancelJobResponse>;
export type ListEventsResponse = PlainJson<svc.ListEventsResponse>;
export type GetHealthResponse = PlainJson<svc.GetHealthResponse>;
export type ListFlagSchemasResponse = PlainJson<svc.ListFlagSchemasResponse>;
export type ListTaskTemplatesResponse = PlainJson<svc.ListTaskTemplatesResponse>;
export type GetCostResponse = PlainJson<svc.GetCostResponse>;
export type CostLine = PlainJson<svc.CostLine>;
export type Link = PlainJson<pb.Link>;

/** The desired states a user can pick (UNSPECIFIED is not one). */
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
