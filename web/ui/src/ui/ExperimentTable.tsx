// File: ui/ExperimentTable.tsx
//
// The experiments, one collapsible section per group, each a sortable table
// whose trailing columns are the flags that differ within that group
// (dotted names under a shared header). Rows are selectable for bulk
// actions; a row's name opens its details. Only the rows near the viewport
// are rendered (ui/useRowWindow.ts), so the table's cost does not grow with
// the number of experiments; derived per-group facts (differing flags,
// counts) are computed once per change of the group's rows. Each row has a
// star toggle, and, when sorted by Order, a handle to drag it to another
// place in its group (logic/order.ts: one write per drop).

import { Component, type ComponentChildren } from "preact";
import { useMemo, useRef, useState } from "preact/hooks";
import type { CostLine, Experiment, Job } from "../api/types";
import { differingFlags, flagColumnLayout, type FlagColumn, type HeaderGroup } from "../logic/flagColumns";
import { flagCell, formatFlagValue, formatResources, plural, stateLabel } from "../logic/format";
import type { Group, Sort, SortKey } from "../logic/grouping";
import { countByState, selectedCount } from "../logic/grouping";
import { shallowEqual } from "../logic/shallowEqual";
import { movesFor } from "../logic/order";
import { moveExperiments, setDesiredState, setStarred } from "./actions";
import { Ago, InStateFor, JobDuration, StateBadge, StatePair, tone } from "./bits";
import { navigate } from "./route";
import { ESTIMATED_ROW_PX, useRowWindow } from "./useRowWindow";
import { estimatedTops } from "../logic/rowWindow";
import { costCell } from "../logic/cost";
import type { Costs } from "../state/costs";

export interface TableProps {
  groups: Group[];
  sort: Sort;
  onSort: (s: Sort) => void;
  selected: Set<string>;
  onSelect: (ids: string[], on: boolean) => void;
  openId: string | undefined;
  collapsed: string[];
  onCollapse: (groupId: string, collapsed: boolean) => void;
  groupBy: string;
  jobOf: (e: Experiment) => Job | undefined;
  /** The element the table scrolls in (rows outside its viewport are not rendered). */
  scrollElement: () => HTMLElement | null;
  /** GPU-hours and cost by experiment id (state/costs.ts); absent: no cost column. */
  costs?: Costs;
}

const FIXED: { key: SortKey; label: string; cls?: string; title?: string }[] = [
  { key: "order", label: "★", cls: "order-col", title: "Order (drag rows to reorder) and stars" },
  { key: "name", label: "Name" },
  { key: "state", label: "Observed → desired" },
  { key: "since", label: "In state", cls: "hide-narrow", title: "How long in the observed state" },
  { key: "attempt", label: "Attempt" },
  { key: "job", label: "Job" },
  { key: "resources", label: "Nodes × GPUs", cls: "hide-narrow" },
  { key: "started", label: "Started", cls: "hide-narrow" },
  { key: "duration", label: "Duration" },
];

/**
 * A group's header and column heads (px; 97 measured with two rows of
 * heads), for where the groups are expected to start before the layout says.
 */
const GROUP_CHROME_PX = 97;

export function ExperimentTable(p: TableProps) {
  const tops = useMemo(
    () => estimatedTops(p.groups.map((g) => (p.collapsed.includes(g.id) ? 0 : g.experiments.length)), ESTIMATED_ROW_PX, GROUP_CHROME_PX),
    [p.groups, p.collapsed],
  );
  if (!p.groups.some((g) => g.experiments.length)) {
    return <p class="empty">No experiments match. Create one with “New experiment” (n).</p>;
  }
  return (
    <div class="groups">
      {p.groups.map((g, i) => (
        <GroupSection key={g.id} group={g} estimatedTop={tops[i]} {...p} />
      ))}
    </div>
  );
}

function GroupSection(p: TableProps & { group: Group; estimatedTop: number }) {
  const { group } = p;
  const isCollapsed = p.collapsed.includes(group.id);
  const exps = group.experiments;
  const ids = useMemo(() => exps.map((e) => e.id!), [exps]);
  // Once per change of the rows or the selection, not on each scroll frame.
  const picked = useMemo(() => selectedCount(ids, p.selected), [ids, p.selected]);
  const allSelected = ids.length > 0 && picked === ids.length;
  const someSelected = picked > 0;
  const layout = useMemo(() => flagColumnLayout(differingFlags(exps)), [exps]);
  const counts = useMemo(() => countByState(exps), [exps]);
  const body = useRef<HTMLTableSectionElement>(null);
  const key = useMemo(() => (i: number) => ids[i], [ids]);
  const rows = useRowWindow({
    count: exps.length,
    key,
    estimatedTop: p.estimatedTop,
    scrollElement: p.scrollElement,
    body,
    enabled: !isCollapsed,
  });
  const span = layout.columns.length + FIXED.length + 2 + (p.costs ? 1 : 0);
  const grouped = !!p.groupBy;
  // Drag to reorder: only in Order sort (elsewhere a drop has no meaning).
  const draggable = p.sort.key === "order" && !isCollapsed;
  const [dragId, setDragId] = useState<string | null>(null);
  const [dropAt, setDropAt] = useState<number | null>(null);
  const drag: DragProps | undefined = draggable
    ? {
        dragId,
        dropAt,
        start: (id) => setDragId(id),
        over: (index, lowerHalf) => {
          if (!dragId) return;
          // `to` counts rows without the dragged one (logic/order.ts).
          const from = ids.indexOf(dragId);
          let to = index + (lowerHalf ? 1 : 0);
          if (from >= 0 && from < to) to--;
          setDropAt(to);
        },
        end: () => {
          setDragId(null);
          setDropAt(null);
        },
        mark: (index) => {
          if (!dragId || dropAt === null) return undefined;
          const from = ids.indexOf(dragId);
          if (index === from) return undefined;
          const among = from >= 0 && index > from ? index - 1 : index;
          if (among === dropAt) return "before";
          return among === ids.length - 2 && dropAt === ids.length - 1 ? "after" : undefined;
        },
        drop: () => {
          if (dragId !== null && dropAt !== null) {
            const moves = movesFor(exps, dragId, dropAt, p.sort.dir);
            if (moves.length) void moveExperiments(moves);
          }
          setDragId(null);
          setDropAt(null);
        },
      }
    : undefined;
  // What a row calls back, as of this render: rows that are not rendered
  // again (Row below) still call the current handlers.
  const live = useRef<RowCallbacks>({ onSelect: p.onSelect });
  live.current = { onSelect: p.onSelect, drag };
  const bodyId = `group-${group.id || "all"}`.replace(/[^A-Za-z0-9_-]/g, "_");
  return (
    <section class="group" aria-label={group.title} data-group={group.title}>
      <header class="group-head">
        <input
          type="checkbox"
          aria-label={`Select all in ${group.title}`}
          checked={allSelected}
          ref={(el) => {
            if (el) el.indeterminate = someSelected && !allSelected;
          }}
          onChange={(e) => p.onSelect(ids, e.currentTarget.checked)}
        />
        <button
          type="button"
          class="group-toggle"
          aria-expanded={!isCollapsed}
          aria-controls={bodyId}
          onClick={() => p.onCollapse(group.id, !isCollapsed)}
        >
          <span class="caret" aria-hidden="true">
            {isCollapsed ? "▸" : "▾"}
          </span>
          <span class="group-title">{group.title}</span>
          <span class="muted"> · {plural(group.experiments.length, "experiment")}</span>
        </button>
        <span class="group-counts">
          {Object.entries(counts).map(([s, n]) => (
            <span key={s} class={`count tone-${tone(s)}`}>
              {stateLabel(s)} {n}
            </span>
          ))}
        </span>
      </header>
      {!isCollapsed && (
        <div class="table-wrap" id={bodyId}>
          <table class="exp-table">
            <thead>
              <HeaderRows layout={layout} sort={p.sort} onSort={p.onSort} withCost={!!p.costs} />
            </thead>
            <tbody ref={body}>
              <SpacerRow height={rows.before} span={span} />
              {rows.items.map((it) => (
                <Row
                  key={it.key}
                  index={it.index}
                  measure={rows.measure}
                  e={exps[it.index]}
                  job={p.jobOf(exps[it.index])}
                  selected={p.selected.has(ids[it.index])}
                  open={p.openId === ids[it.index]}
                  cost={p.costs?.byId.get(ids[it.index])}
                  costs={p.costs ? (p.costs.hasPrices ? "priced" : "unpriced") : "none"}
                  columns={layout.columns}
                  groupBy={grouped ? p.groupBy : ""}
                  draggable={!!drag}
                  dragging={!!drag?.dragId}
                  dragged={drag?.dragId === ids[it.index]}
                  dropMark={drag?.mark(it.index)}
                  live={live}
                />
              ))}
              <SpacerRow height={rows.after} span={span} />
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function HeaderRows({ layout, sort, onSort, withCost }: { layout: { columns: FlagColumn[]; groups: HeaderGroup[] }; sort: Sort; onSort: (s: Sort) => void; withCost: boolean }) {
  const twoRows = layout.groups.some((g) => g.prefix);
  const rs = twoRows ? 2 : 1;
  const top = [];
  const bottom = [];
  let i = 0;
  for (const g of layout.groups) {
    const cols = layout.columns.slice(i, i + g.span);
    i += g.span;
    if (!g.prefix) {
      for (const c of cols) top.push(<SortTh key={c.key} k={`flag:${c.key}`} label={c.leaf} title={c.key} rowSpan={rs} sort={sort} onSort={onSort} cls="flag" />);
    } else {
      top.push(
        <th key={`g:${g.prefix}`} colSpan={g.span} scope="colgroup" class="flag-group" title={g.prefix}>
          {g.prefix}
        </th>,
      );
      for (const c of cols) bottom.push(<SortTh key={c.key} k={`flag:${c.key}`} label={c.leaf} title={c.key} rowSpan={1} sort={sort} onSort={onSort} cls="flag" />);
    }
  }
  return (
    <>
      <tr>
        <th rowSpan={rs} class="sel" scope="col">
          <span class="sr-only">Select</span>
        </th>
        {FIXED.map((c) => (
          <SortTh key={c.key} k={c.key} label={c.label} title={c.title} rowSpan={rs} sort={sort} onSort={onSort} cls={c.cls} />
        ))}
        {withCost && (
          <th rowSpan={rs} scope="col" class="cost-col" title="GPU-hours of all its jobs, priced by skydeckd --prices (running jobs count up to now)">
            Cost
          </th>
        )}
        {top}
        <th rowSpan={rs} scope="col" class="actions-col">
          <span class="sr-only">Actions</span>
        </th>
      </tr>
      {twoRows && <tr>{bottom}</tr>}
    </>
  );
}

function SortTh(props: { k: SortKey; label: string; title?: string; rowSpan: number; sort: Sort; onSort: (s: Sort) => void; cls?: string }) {
  const active = props.sort.key === props.k;
  const dir = active ? props.sort.dir : 0;
  return (
    <th
      scope="col"
      rowSpan={props.rowSpan}
      class={props.cls}
      aria-sort={dir === 1 ? "ascending" : dir === -1 ? "descending" : "none"}
      title={props.title}
    >
      <button type="button" class="sort" onClick={() => props.onSort({ key: props.k, dir: active ? (props.sort.dir === 1 ? -1 : 1) : 1 })}>
        {props.label}
        <span class="sort-mark" aria-hidden="true">
          {dir === 1 ? "▲" : dir === -1 ? "▼" : ""}
        </span>
      </button>
    </th>
  );
}

/** Stands in for the rows not rendered, so the scroll height is that of every row. */
function SpacerRow({ height, span }: { height: number; span: number }) {
  if (height <= 0) return null;
  return (
    <tr class="spacer" aria-hidden="true" style={{ height: `${height}px` }}>
      <td colSpan={span} />
    </tr>
  );
}

/** A group's drag state and handlers, when its rows can be dragged. */
interface DragProps {
  dragId: string | null;
  /** Where the dragged row would land (an index among the other rows). */
  dropAt: number | null;
  start: (id: string) => void;
  over: (index: number, lowerHalf: boolean) => void;
  end: () => void;
  drop: () => void;
  /** "before" on the row the dragged one would land above, "after" on the last row for the end. */
  mark: (index: number) => string | undefined;
}

/** The handlers of a row's group as of its last render. */
interface RowCallbacks {
  onSelect: (ids: string[], on: boolean) => void;
  drag?: DragProps;
}

/**
 * What a row shows, each a value or an object that stays the same while
 * unchanged, so a row whose props are all the same is not rendered again
 * (Row): a scroll frame renders the rows it brings into view, not every
 * row on screen. Handlers come through `live`.
 */
interface RowProps {
  e: Experiment;
  job: Job | undefined;
  selected: boolean;
  open: boolean;
  cost: CostLine | undefined;
  /** The cost column: none, or its cells with or without prices. */
  costs: "none" | "priced" | "unpriced";
  columns: FlagColumn[];
  /** The label the table is grouped by ("" when not grouped): not shown as a chip. */
  groupBy: string;
  /** The row's index in its group, for the window's measurements. */
  index: number;
  measure: (el: Element | null) => void;
  /** Rows can be dragged (Order sort); some row is being dragged; this one is. */
  draggable: boolean;
  dragging: boolean;
  dragged: boolean;
  dropMark: string | undefined;
  live: { current: RowCallbacks };
}

/** A table row, rendered again only when one of its props changed. */
class Row extends Component<RowProps> {
  shouldComponentUpdate(next: RowProps): boolean {
    return !shallowEqual(this.props, next);
  }

  render(): ComponentChildren {
    return <RowView {...this.props} />;
  }
}

function RowView({ e, job, selected, open, cost, costs, columns, groupBy, index, measure, draggable, dragging, dragged, dropMark, live }: RowProps) {
  const id = e.id!;
  const labels = Object.entries(e.labels ?? {}).filter(([k]) => k !== groupBy);
  const running = e.desired_state === "RUNNING";
  const restarts = e.max_restarts !== undefined ? `${e.restart_count ?? 0}/${e.max_restarts}` : `${e.restart_count ?? 0}`;
  return (
    <tr
      ref={measure}
      data-index={index}
      class={`${selected ? "selected" : ""} ${open ? "open" : ""} ${e.delete_time ? "deleted" : ""}`}
      data-id={id}
      data-name={e.name}
      data-observed={e.observed_state}
      data-starred={e.starred ? "true" : undefined}
      data-dragging={dragged ? "true" : undefined}
      data-drop={dropMark}
      onDragOver={
        dragging
          ? (ev) => {
              ev.preventDefault();
              const r = (ev.currentTarget as HTMLElement).getBoundingClientRect();
              live.current.drag?.over(index, ev.clientY > r.top + r.height / 2);
            }
          : undefined
      }
      onDrop={
        dragging
          ? (ev) => {
              ev.preventDefault();
              live.current.drag?.drop();
            }
          : undefined
      }
      onClick={(ev) => {
        const t = ev.target as HTMLElement;
        if (t.closest("a,button,input,label")) return;
        navigate({ view: "exp", id, tab: "overview" });
      }}
    >
      <td class="sel">
        <input type="checkbox" aria-label={`Select ${e.name}`} checked={selected} onChange={(ev) => live.current.onSelect([id], ev.currentTarget.checked)} />
      </td>
      <td class="order-col">
        {draggable && !e.delete_time ? (
          <span
            class="drag-handle"
            draggable
            title="Drag to reorder within the group"
            aria-label={`Reorder ${e.name}`}
            onDragStart={(ev) => {
              ev.dataTransfer?.setData("text/plain", id);
              if (ev.dataTransfer) ev.dataTransfer.effectAllowed = "move";
              live.current.drag?.start(id);
            }}
            onDragEnd={() => live.current.drag?.end()}
          >
            ⋮⋮
          </span>
        ) : null}
        <button
          type="button"
          class={`star ${e.starred ? "on" : ""}`}
          aria-pressed={!!e.starred}
          aria-label={`${e.starred ? "Unstar" : "Star"} ${e.name}`}
          title={e.starred ? "Unstar" : "Star"}
          disabled={!!e.delete_time}
          onClick={() => void setStarred([id], !e.starred)}
        >
          {e.starred ? "★" : "☆"}
        </button>
      </td>
      <td class="name" title={[e.name, ...labels.map(([k, v]) => `${k}=${v}`)].join(" ")}>
        <a href={`#/exp/${id}/overview`} class="exp-link" data-row-link>
          {e.name}
        </a>
        {e.delete_time && <span class="badge tone-off">archived</span>}
        <span class="labels">
          {labels.map(([k, v]) => (
            <span key={k} class="chip">
              {k}={v}
            </span>
          ))}
        </span>
      </td>
      <td class="state">
        <StatePair e={e} />
      </td>
      <td class="since hide-narrow">
        <InStateFor since={e.state_since} />
      </td>
      <td class="attempt">
        {e.job_count ? <span title={`restarts used: ${restarts}`}>#{e.job_count}</span> : <span class="muted">—</span>}
        <span class="muted small"> {restarts}↻</span>
        {e.next_retry_time && (
          <div class="small warn-text">
            retry <Ago ts={e.next_retry_time} />
          </div>
        )}
      </td>
      <td class="job">
        {job ? (
          <>
            <StateBadge state={job.status} title={job.backend_status ? `backend: ${job.backend_status}` : undefined} />
            <span class="muted small"> #{job.id}</span>
          </>
        ) : (
          <span class="muted">—</span>
        )}
      </td>
      <td class="hide-narrow">{formatResources(e.nodes, e.gpus, e.gpu_type)}{e.spot ? " · spot" : ""}</td>
      <td class="hide-narrow">
        <Ago ts={job?.start_time} />
      </td>
      <td>
        <JobDuration job={job} />
      </td>
      {costs !== "none" && (
        <td class="cost-col nowrap" data-testid="cost-cell">
          {costCell(cost, costs === "priced") || <span class="muted">—</span>}
        </td>
      )}
      {columns.map((c) => {
        const v = e.flags?.[c.key];
        return (
          <td key={c.key} class="flag" title={v ? `${c.key}=${formatFlagValue(v)}` : `${c.key} not set`}>
            {flagCell(v)}
          </td>
        );
      })}
      <td class="actions-col">
        {!e.delete_time &&
          (running ? (
            <button type="button" class="btn small" onClick={() => void setDesiredState([id], "STOPPED")} aria-label={`Stop ${e.name}`}>
              Stop
            </button>
          ) : (
            <button type="button" class="btn small" onClick={() => void setDesiredState([id], "RUNNING")} aria-label={`Start ${e.name}`}>
              Start
            </button>
          ))}
      </td>
    </tr>
  );
}
