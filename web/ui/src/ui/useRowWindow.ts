// File: ui/useRowWindow.ts
//
// Windowed rendering of one group's table rows: only the rows inside the
// scrolling element's viewport (plus a few either side) are in the DOM, and
// two spacer rows stand in for the rest, so 10,000 experiments cost the
// DOM, layout and diff of a screenful. @tanstack/virtual-core decides the
// range and measures rendered rows; this hook is its Preact glue (what
// @tanstack/react-virtual does for React) plus the one thing a group in a
// list of groups needs: its offset within the scrolling element
// (scrollMargin), re-read after every render and on scroll, since the
// groups above it can change size without this one re-rendering, and no
// rows at all while the group is far from the viewport. Between those reads
// a group follows an estimate of its place (logic/rowWindow.ts), so when the
// groups above it grow it does not render rows for where it was. Its
// renders are budgeted per task (RenderBudget), so a render that feeds back
// on itself through layout cannot freeze the page.
//
//   const key = useMemo(() => (i: number) => ids[i], [ids]);
//   const w = useRowWindow({ count, key, estimatedTop, scrollElement, body: tbodyRef, enabled });
//   <tbody ref={tbodyRef}>
//     <SpacerRow height={w.before} /> {w.items.map((it) => <tr data-index={it.index} ref={w.measure}>)}
//     <SpacerRow height={w.after} />

import {
  defaultRangeExtractor,
  elementScroll,
  observeElementOffset,
  observeElementRect,
  Virtualizer,
  type VirtualItem,
} from "@tanstack/virtual-core";
import type { RefObject } from "preact";
import { useLayoutEffect, useReducer, useState } from "preact/hooks";
import { nearViewport, projectedTop, RenderBudget, spacerHeights } from "../logic/rowWindow";

/**
 * A row's height before it is measured (px): one line of the table, which
 * the table's style makes every row at least (styles/4-table.css). A row
 * measured at another height makes virtual-core move the rows after it and
 * correct the scroll position (against the user's scroll, one correction
 * for each row scrolled into view).
 */
export const ESTIMATED_ROW_PX = 37;
/** Rows rendered beyond each edge of the viewport, so a fast scroll shows no gap. */
const OVERSCAN_ROWS = 6;
/** A group farther than this (px) from the viewport renders no rows at all. */
const NEAR_PX = OVERSCAN_ROWS * ESTIMATED_ROW_PX;
// Off-screen groups: virtual-core would still render the first rows of a
// list below the viewport (its range starts at row 0); with many groups
// those add up, so a group that is not near renders none.
const noRows = () => [];
const estimateSize = () => ESTIMATED_ROW_PX;
/** Renders of one list in one task before the next must wait (logic/rowWindow.ts). */
const RENDERS_PER_TASK = 30;

export interface RowWindowOptions {
  count: number;
  /**
   * A stable key of row i (the experiment id), so measurements follow rows
   * across sorts. The same function while the rows are the same (useMemo
   * on them): a new one re-lays out the whole list.
   */
  key: (index: number) => string;
  /** Where the list is expected to start (logic/rowWindow.ts estimatedTops), before a layout says. */
  estimatedTop: number;
  scrollElement: () => HTMLElement | null;
  /** The element the rows start at (the tbody). */
  body: RefObject<HTMLElement>;
  /** False (collapsed group): nothing is observed and no row is rendered. */
  enabled: boolean;
}

export interface RowWindow {
  items: VirtualItem[];
  /** Heights (px) of the spacer rows before and after `items`. */
  before: number;
  after: number;
  /** Ref callback for each rendered row (it needs data-index={item.index}). */
  measure: (el: Element | null) => void;
}

/** The body's top within the scrolling element's content (px). */
function offsetWithin(body: HTMLElement | null, scroller: HTMLElement | null): number {
  if (!body || !scroller) return 0;
  return body.getBoundingClientRect().top - scroller.getBoundingClientRect().top + scroller.scrollTop;
}

export function useRowWindow(opts: RowWindowOptions): RowWindow {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  const [budget] = useState(() => new RenderBudget(RENDERS_PER_TASK, (fn) => setTimeout(fn, 0)));
  budget.spend();
  const rerender = () => budget.request(() => bump(0));
  // What sync() below last read from the layout (the list's offset, whether
  // it is near the viewport, the scroll position), and the estimated offset
  // at that time. Read here, so a render uses no layout of its own.
  const [place] = useState({ near: false, margin: 0, estimate: opts.estimatedTop, scrollTop: 0, viewport: 0 });
  if (opts.estimatedTop !== place.estimate) {
    // The groups above changed size since the last read (a search cleared,
    // one expanded): this list moved by about as much as their estimate, so
    // it does not render rows for the place it has left (each of them
    // built, laid out and thrown away before the read that follows).
    place.margin = projectedTop(place.margin, place.estimate, opts.estimatedTop);
    place.estimate = opts.estimatedTop;
    place.near = nearViewport(place.margin, opts.count * ESTIMATED_ROW_PX, place.scrollTop, place.viewport, NEAR_PX);
  }
  const options = {
    count: opts.enabled ? opts.count : 0,
    enabled: opts.enabled,
    getScrollElement: opts.scrollElement,
    // Stable from render to render while the rows are the same: a new
    // function makes virtual-core lay out every row of the list again
    // (work proportional to the list, on each scroll frame).
    getItemKey: opts.key,
    estimateSize,
    overscan: OVERSCAN_ROWS,
    observeElementRect,
    observeElementOffset,
    scrollToFn: elementScroll,
    onChange: rerender,
    rangeExtractor: place.near ? defaultRangeExtractor : noRows,
    scrollMargin: place.margin,
  };
  const [v] = useState(() => new Virtualizer<HTMLElement, Element>(options));
  v.setOptions(options);

  useLayoutEffect(() => v._didMount(), [v]);
  useLayoutEffect(() => {
    v._willUpdate();
    const sync = () => {
      const scroller = opts.scrollElement();
      const margin = offsetWithin(opts.body.current, scroller);
      place.scrollTop = scroller?.scrollTop ?? 0;
      place.viewport = scroller?.clientHeight ?? 0;
      place.estimate = opts.estimatedTop;
      const isNear = !!scroller && nearViewport(margin, v.getTotalSize(), place.scrollTop, place.viewport, NEAR_PX);
      const moved = Math.abs(margin - place.margin) >= 1;
      if (isNear === place.near && !moved) return;
      place.near = isNear;
      if (moved) {
        place.margin = margin;
        v.setOptions({ ...v.options, scrollMargin: margin });
      }
      rerender();
    };
    sync();
    const scroller = opts.scrollElement();
    if (!opts.enabled || !scroller) return;
    scroller.addEventListener("scroll", sync, { passive: true });
    return () => scroller.removeEventListener("scroll", sync);
  });

  const items = opts.enabled ? v.getVirtualItems() : [];
  const { before, after } = spacerHeights(items, v.getTotalSize(), v.options.scrollMargin);
  return { items, before, after, measure: v.measureElement };
}
