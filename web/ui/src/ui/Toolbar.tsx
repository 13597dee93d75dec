// File: ui/Toolbar.tsx
//
// Filters (text, label selector, desired and observed state, archived),
// the group-by label, and — while rows are selected — the bulk actions.

import type { Ref } from "preact";
import { useState } from "preact/hooks";
import { DESIRED_STATES, OBSERVED_STATES } from "../api/types";
import { plural, stateLabel } from "../logic/format";
import type { Filter } from "../logic/grouping";
import type { BulkTarget } from "../api/types";
import { deleteExperiments, duplicateExperiments, MAX_IDS_PER_REQUEST, setDesiredState } from "./actions";

interface ToolbarProps {
  filter: Filter;
  onFilter: (f: Filter) => void;
  selectorError: string;
  groupBy: string;
  onGroupBy: (key: string) => void;
  labelKeys: string[];
  searchRef: Ref<HTMLInputElement>;
  shown: number;
  total: number;
}

export function Toolbar(p: ToolbarProps) {
  const set = (patch: Partial<Filter>) => p.onFilter({ ...p.filter, ...patch });
  const filtered = p.filter.text || p.filter.labelSelector || p.filter.desired || p.filter.observed;
  const [open, setOpen] = useState(false);
  return (
    <div class={`toolbar ${open ? "filters-open" : ""}`} role="search">
      <label class="field grow">
        <span class="sr-only">Search</span>
        <input
          ref={p.searchRef}
          type="search"
          placeholder="Search name, command, flags, labels   ( / )"
          value={p.filter.text}
          onInput={(e) => set({ text: e.currentTarget.value })}
          data-testid="search"
        />
      </label>
      <button type="button" class="btn small filters-toggle" aria-expanded={open} onClick={() => setOpen(!open)}>
        Filters{filtered ? " •" : ""}
      </button>
      <label class={`field more ${p.selectorError ? "invalid" : ""}`} title={p.selectorError || "e.g. sweep=lr, team in (a,b), !archived"}>
        <span class="sr-only">Label selector</span>
        <input
          type="text"
          placeholder="labels: k=v, k!=v, k in (a,b)"
          value={p.filter.labelSelector}
          onInput={(e) => set({ labelSelector: e.currentTarget.value })}
          aria-invalid={!!p.selectorError}
          spellcheck={false}
        />
      </label>
      <label class="field more">
        <span class="label">Desired</span>
        <select value={p.filter.desired} onChange={(e) => set({ desired: e.currentTarget.value })}>
          <option value="">any</option>
          {DESIRED_STATES.map((s) => (
            <option key={s} value={s}>
              {stateLabel(s)}
            </option>
          ))}
        </select>
      </label>
      <label class="field more">
        <span class="label">Observed</span>
        <select value={p.filter.observed} onChange={(e) => set({ observed: e.currentTarget.value })}>
          <option value="">any</option>
          {OBSERVED_STATES.map((s) => (
            <option key={s} value={s}>
              {stateLabel(s)}
            </option>
          ))}
        </select>
      </label>
      <label class="field more">
        <span class="label">Group by</span>
        <select value={p.groupBy} onChange={(e) => p.onGroupBy(e.currentTarget.value)} data-testid="group-by">
          <option value="">nothing</option>
          {[...new Set([...p.labelKeys, ...(p.groupBy ? [p.groupBy] : [])])].map((k) => (
            <option key={k} value={k}>
              label {k}
            </option>
          ))}
        </select>
      </label>
      <label class="check more" title="Only starred experiments">
        <input type="checkbox" checked={!!p.filter.starred} onChange={(e) => set({ starred: e.currentTarget.checked })} data-testid="starred-filter" />
        ★ starred
      </label>
      <label class="check more">
        <input type="checkbox" checked={p.filter.showDeleted} onChange={(e) => set({ showDeleted: e.currentTarget.checked })} />
        archived
      </label>
      <span class="muted small" aria-live="polite">
        {filtered ? `${p.shown} of ${p.total}` : plural(p.total, "experiment")}
      </span>
      {filtered && (
        <button
          type="button"
          class="btn small ghost"
          onClick={() => p.onFilter({ ...p.filter, text: "", labelSelector: "", desired: "", observed: "" })}
        >
          Clear filters
        </button>
      )}
    </div>
  );
}

/**
 * The bulk actions on the selection. Start, stop, terminate and delete act
 * on `target`: the filter on screen when every experiment it shows is
 * selected (one request however many), else the selected ids.
 */
export function BulkBar({ ids, target, onClear }: { ids: string[]; target: BulkTarget; onClear: () => void }) {
  if (!ids.length) return null;
  const run = (fn: () => Promise<unknown>) => () => void fn();
  const byFilter = !!target.filter;
  const tooMany = !byFilter && ids.length > MAX_IDS_PER_REQUEST;
  const limit = tooMany
    ? `Select at most ${MAX_IDS_PER_REQUEST.toLocaleString()} one by one, or select everything a filter shows`
    : undefined;
  return (
    <div class="bulkbar" role="toolbar" aria-label="Bulk actions" data-testid="bulkbar" data-scope={byFilter ? "filter" : "ids"}>
      <b>{plural(ids.length, "selected", "selected")}</b>
      {byFilter && (
        <span class="muted small" data-testid="bulk-scope" title="Start, stop, terminate and delete send the filter; the daemon acts on every live experiment it matches">
          all that match the filter
        </span>
      )}
      <button type="button" class="btn" disabled={tooMany} title={limit} onClick={run(() => setDesiredState(target, "RUNNING"))}>
        Start
      </button>
      <button type="button" class="btn" disabled={tooMany} title={limit} onClick={run(() => setDesiredState(target, "STOPPED"))}>
        Stop
      </button>
      <button
        type="button"
        class="btn"
        disabled={tooMany}
        onClick={run(() => setDesiredState(target, "TERMINATED"))}
        title={limit ?? "Cancel and tear down everything on the backend"}
      >
        Terminate
      </button>
      <button type="button" class="btn" onClick={run(() => duplicateExperiments(ids))}>
        Duplicate
      </button>
      <button type="button" class="btn danger" disabled={tooMany} title={limit} onClick={run(() => deleteExperiments(target))}>
        Delete
      </button>
      <button type="button" class="btn ghost" onClick={onClear}>
        Clear selection
      </button>
    </div>
  );
}
