// File: logic/conditions.ts
//
// Reading an experiment's status fields: whether the daemon is still
// working towards the latest spec, and which conditions hold.

import type { Condition, Experiment } from "../api/types";

/** The spec changed and the reconciler has not caught up, or an action is in flight. */
export function isReconciling(e: Experiment): boolean {
  const cond = e.conditions?.find((c) => c.type === "Reconciling");
  return (e.generation ?? "0") !== (e.observed_generation ?? "0") || !!cond?.status;
}

/** The condition of this type when it holds (status true); undefined otherwise. */
export function activeCondition(e: Experiment, type: string): Condition | undefined {
  return e.conditions?.find((c) => c.type === type && c.status);
}
