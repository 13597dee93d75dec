// File: ui/App.tsx
//
// The page: health bar and banner on top, filters and bulk actions, the
// grouped experiments table, and one side panel (an experiment's details or
// the events feed) chosen by the URL. Table settings that a user expects to
// persist (group-by label, sort, collapsed groups) are kept in localStorage.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { getActor, setActor } from "../api/client";
import { store } from "../app";
import { bulkTarget } from "../logic/bulkTarget";
import { EMPTY_FILTER, filterExperiments, groupByLabel, hasStateAge, indexForSearch, labelKeys, sortExperiments, type Filter, type Sort } from "../logic/grouping";
import { usePersistent, useStore } from "../state/hooks";
import { CreateDialog } from "./CreateDialog";
import { Details } from "./Details";
import { EventsPanel } from "./EventsPanel";
import { ExperimentTable } from "./ExperimentTable";
import { Banner, HealthBar } from "./HealthBar";
import { navigate, useRoute } from "./route";
import { installShortcuts, SHORTCUTS } from "./shortcuts";
import { Toasts } from "./Toasts";
import { TokenPrompt } from "./TokenPrompt";
import { BulkBar, Toolbar } from "./Toolbar";
import { CostTotal } from "./CostTotal";
import { useCosts } from "../state/costs";

const DEFAULT_GROUP_KEYS = ["group", "sweep"];

export function App() {
  const version = useStore(store);
  const route = useRoute();
  const [filter, setFilter] = useState<Filter>(EMPTY_FILTER);
  const [groupChoice, setGroupChoice] = usePersistent<string | null>("groupBy", null);
  const [sort, setSort] = usePersistent<Sort>("sort", { key: "id", dir: -1 });
  const [collapsed, setCollapsed] = usePersistent<string[]>("collapsed", []);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [help, setHelp] = useState(false);
  const searchRef = useRef<HTMLInputElement>(null);
  const costs = useCosts();
  const contentRef = useRef<HTMLElement>(null);

  const all = useMemo(() => store.list(), [version]);
  const keys = useMemo(() => labelKeys(all), [all]);
  // Until the user picks, group by a conventional label if one is in use.
  const groupBy = groupChoice ?? DEFAULT_GROUP_KEYS.find((k) => keys.includes(k)) ?? "";
  // Sorted once per change of the data or the sort; a keystroke in the
  // search only filters (order is kept) and a regroup only groups, each one
  // pass over the sorted list with the search text cached per experiment.
  const sorted = useMemo(
    () => sortExperiments(all, sort, { jobOf: (e) => store.jobOf(e), now: Date.now() }),
    [all, sort],
  );
  // A time-in-state search ("pending>30m") is evaluated again as the clock
  // moves (each minute), not only when the data changes.
  const minute = useMinuteTick(hasStateAge(filter.text));
  const { experiments, error: selectorError } = useMemo(
    () => filterExperiments(sorted, filter, Date.now()),
    [sorted, filter, minute],
  );
  // The search index is built while the page is idle after a load, not on
  // the first keystroke (~0.2 s at 10,000 experiments).
  useEffect(() => {
    const t = setTimeout(() => indexForSearch(all), 0);
    return () => clearTimeout(t);
  }, [all]);
  const groups = useMemo(() => groupByLabel(experiments, groupBy), [experiments, groupBy]);
  const visible = all.filter((e) => filter.showDeleted || !e.delete_time).length;
  // Deleted experiments leave the selection while hidden (Undo brings them back).
  const selectedIds = [...selected].filter((id) => {
    const e = store.get(id);
    return e && (filter.showDeleted || !e.delete_time);
  });
  const target = useMemo(
    () => bulkTarget(selectedIds, experiments, filter, !selectorError),
    [selectedIds.join(","), experiments, filter, selectorError],
  );

  const close = () => navigate({ view: "table" });
  useEffect(
    () =>
      installShortcuts({
        search: () => searchRef.current?.focus(),
        create: () => navigate({ view: "new" }),
        events: () => navigate(route.view === "events" ? { view: "table" } : { view: "events" }),
        help: () => setHelp((h) => !h),
        escape: () => (help ? setHelp(false) : close()),
      }),
    [route.view, help],
  );

  const onSelect = (ids: string[], on: boolean) => {
    const next = new Set(selected);
    for (const id of ids) on ? next.add(id) : next.delete(id);
    setSelected(next);
  };
  const panel = route.view === "exp" || route.view === "events";

  return (
    <div class="app">
      <header class="topbar">
        <h1 class="brand">
          <a href="#/">SkyDeck</a>
        </h1>
        <HealthBar observedFilter={filter.observed} onObserved={(s) => setFilter({ ...filter, observed: s })} />
        <span class="spacer" />
        <CostTotal costs={costs} />
        <button type="button" class="btn primary" onClick={() => navigate({ view: "new" })} data-testid="new-experiment" title="New experiment (n)">
          New experiment
        </button>
        <button
          type="button"
          class={`btn ${route.view === "events" ? "active" : ""}`}
          aria-pressed={route.view === "events"}
          onClick={() => navigate(route.view === "events" ? { view: "table" } : { view: "events" })}
          title="Events (e)"
          data-testid="events-toggle"
        >
          Events
        </button>
        <button type="button" class="btn ghost" onClick={() => setHelp(true)} aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)">
          ?
        </button>
      </header>
      <Banner />
      <Toolbar
        filter={filter}
        onFilter={setFilter}
        selectorError={selectorError}
        groupBy={groupBy}
        onGroupBy={setGroupChoice}
        labelKeys={keys}
        searchRef={searchRef}
        shown={experiments.length}
        total={visible}
      />
      <BulkBar ids={selectedIds} target={target} onClear={() => setSelected(new Set())} />
      <div class={`main ${panel ? "with-panel" : ""}`}>
        <main class="content" aria-label="Experiments" ref={contentRef}>
          {store.loaded ? (
            <ExperimentTable
              groups={groups}
              sort={sort}
              onSort={setSort}
              selected={selected}
              onSelect={onSelect}
              openId={route.view === "exp" ? store.find(route.id)?.id : undefined}
              collapsed={collapsed}
              onCollapse={(id, c) => setCollapsed(c ? [...collapsed, id] : collapsed.filter((x) => x !== id))}
              groupBy={groupBy}
              jobOf={(e) => store.jobOf(e)}
              scrollElement={() => contentRef.current}
              costs={costs}
            />
          ) : (
            <p class="empty">Loading experiments…</p>
          )}
        </main>
        {route.view === "exp" && <Details id={route.id} tab={route.tab} jobParam={route.job} onClose={close} />}
        {route.view === "events" && <EventsPanel onClose={close} />}
      </div>
      {route.view === "new" && store.loaded && <CreateDialog key={route.from ?? "blank"} fromId={route.from} onClose={close} />}
      {help && <Help onClose={() => setHelp(false)} />}
      <Toasts />
      <TokenPrompt />
    </div>
  );
}

/** A number that changes each minute while `enabled` (0 otherwise), to re-run a memo. */
function useMinuteTick(enabled: boolean): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!enabled) return;
    const t = setInterval(() => setTick((n) => n + 1), 60000);
    return () => clearInterval(t);
  }, [enabled]);
  return enabled ? tick : 0;
}

function Help({ onClose }: { onClose: () => void }) {
  const [actor, setActorText] = useState(getActor());
  return (
    <div class="overlay" onMouseDown={(ev) => ev.target === ev.currentTarget && onClose()}>
      <div class="dialog small" role="dialog" aria-modal="true" aria-labelledby="help-title">
        <header class="panel-head">
          <h2 id="help-title">Keyboard shortcuts</h2>
          <span class="spacer" />
          <button type="button" class="btn ghost small" onClick={onClose} aria-label="Close" autoFocus>
            ✕
          </button>
        </header>
        <div class="panel-body">
          <dl class="shortcuts">
            {SHORTCUTS.map(([k, what]) => (
              <div key={k}>
                <dt>
                  <kbd>{k}</kbd>
                </dt>
                <dd>{what}</dd>
              </div>
            ))}
          </dl>
          <label for="actor-input">Your name on the events you cause (default “web”)</label>
          <input
            id="actor-input"
            type="text"
            value={actor}
            placeholder="web"
            onInput={(e) => {
              setActorText(e.currentTarget.value);
              setActor(e.currentTarget.value.trim());
            }}
          />
        </div>
      </div>
    </div>
  );
}
