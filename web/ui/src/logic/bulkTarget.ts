// File: logic/bulkTarget.ts
//
// What a bulk action (start, stop, terminate, delete) acts on. When the
// selection is exactly the live experiments the filter shows (e.g. "select
// all" in an ungrouped table), the action sends the filter and the daemon
// selects the same experiments inside the change's transaction: any number
// in one request. Otherwise it sends the selected ids (at most 1,000 per
// request).

import type { BulkTarget, Experiment } from "../api/types";
import { filterToApi, type Filter } from "./grouping";

/**
 * `shown` is what the filter lets through (archived rows included when
 * shown; they are never acted on by filter). A selector the dashboard
 * cannot read (`selectorOk` false) is not sent: the ids are.
 */
export function bulkTarget(selectedIds: string[], shown: Experiment[], filter: Filter, selectorOk: boolean): BulkTarget {
  const byIds = { ids: selectedIds };
  const live = new Set<string>();
  const archived = new Set<string>();
  for (const e of shown) (e.delete_time ? archived : live).add(e.id ?? "");
  if (!selectorOk || live.size === 0) return byIds;
  let selectedLive = 0;
  for (const id of selectedIds) {
    if (live.has(id)) selectedLive++;
    else if (!archived.has(id)) return byIds; // selected, but hidden by the filter
  }
  return selectedLive === live.size ? { filter: filterToApi(filter) } : byIds;
}
