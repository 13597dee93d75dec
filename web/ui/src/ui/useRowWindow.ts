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
// rows at all while the group is far from the viewport. Its renders are
// budgeted per task (RenderBudget), so a render that feeds back on itself
// through layout cannot freeze the page.
//
//   const w = useRowWindow({ count, key: (i) => ids[i], scrollElement, body: tbodyRef });
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
import { nearViewport, RenderBudget, spacerHeights } from "../logic/rowWindow";

/** A row's height before it is measured (px): one line of the table. */
export const ESTIMATED_ROW_PX = 37;
/** Rows rendered beyond each edge of the viewport, so a fast scroll shows no gap. */
const OVERSCAN_ROWS = 12;
/** A group farther than this (px) from the viewport renders no rows at all. */
const NEAR_PX = OVERSCAN_ROWS * ESTIMATED_ROW_PX;
// Off-screen groups: virtual-core would still render the first rows of a
// list below the viewport (its range starts at row 0); with many groups
// those add up, so a group that is not near renders none.
const noRows = () => [];
/** Renders of one list in one task before the next must wait (logic/rowWindow.ts). */
const RENDERS_PER_TASK = 30;

export interface RowWindowOptions {
  count: number;
  /** A stable key of row i (the experiment id), so measurements follow rows across sorts. */
  key: (index: number) => string;
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
  // Whether the list is near the viewport; set by sync() below, read here.
  const [place] = useState({ near: false });
  const options = {
    count: opts.enabled ? opts.count : 0,
    enabled: opts.enabled,
    getScrollElement: opts.scrollElement,
    getItemKey: opts.key,
    estimateSize: () => ESTIMATED_ROW_PX,
    overscan: OVERSCAN_ROWS,
    observeElementRect,
    observeElementOffset,
    scrollToFn: elementScroll,
    onChange: rerender,
    rangeExtractor: place.near ? defaultRangeExtractor : noRows,
  };
  const [v] = useState(() => new Virtualizer<HTMLElement, Element>({ ...options, scrollMargin: 0 }));
  v.setOptions({ ...options, scrollMargin: v.options?.scrollMargin ?? 0 });

  useLayoutEffect(() => v._didMount(), [v]);
  useLayoutEffect(() => {
    v._willUpdate();
    const sync = () => {
      const scroller = opts.scrollElement();
      const margin = offsetWithin(opts.body.current, scroller);
      const isNear =
        !!scroller && nearViewport(margin, v.getTotalSize(), scroller.scrollTop, scroller.clientHeight, NEAR_PX);
      const moved = Math.abs(margin - v.options.scrollMargin) >= 1;
      if (isNear === place.near && !moved) return;
      place.near = isNear;
      if (moved) v.setOptions({ ...v.options, scrollMargin: margin });
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
