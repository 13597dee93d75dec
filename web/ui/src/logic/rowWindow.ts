// File: logic/rowWindow.ts
//
// The arithmetic of windowed table rows (ui/useRowWindow.ts): how tall the
// spacer rows around the rendered rows are, whether a group's rows are
// near enough to the viewport to render any, and where each group is
// expected to start before the page is laid out. Pure, so it is tested
// without a browser.

/** A rendered row's place: start and end (px) within the scrolling element's content. */
export interface RowSpan {
  start: number;
  end: number;
}

/**
 * Heights (px) of the rows standing in for those not rendered: `before`
 * from the list's top (`listTop`, where its first row starts) to the first
 * rendered row, `after` from the last rendered row to the list's end
 * (`totalSize` below listTop). No rendered rows: one spacer holds it all.
 */
export function spacerHeights(items: readonly RowSpan[], totalSize: number, listTop: number): { before: number; after: number } {
  if (!items.length) return { before: totalSize, after: 0 };
  const before = items[0].start - listTop;
  const after = totalSize - (items[items.length - 1].end - listTop);
  return { before: Math.max(0, before), after: Math.max(0, after) };
}

/**
 * Whether a list spanning [top, top + height) comes within `margin` px of
 * the viewport [scrollTop, scrollTop + viewport).
 */
export function nearViewport(top: number, height: number, scrollTop: number, viewport: number, margin: number): boolean {
  return top < scrollTop + viewport + margin && top + height > scrollTop - margin;
}

/**
 * Where each group's rows are expected to start (px below the first
 * group's), from the number of rows each shows (0 when collapsed) at
 * `rowPx` a row and `chromePx` for each group's header and column heads.
 * A group reads its true place from the layout after it renders; between
 * two renders it moves by how much this estimate moved, so when the groups
 * above it change size (a search cleared, a group expanded) it does not
 * render rows for where it was.
 */
export function estimatedTops(rowCounts: readonly number[], rowPx: number, chromePx: number): number[] {
  const tops: number[] = [];
  let top = 0;
  for (const n of rowCounts) {
    tops.push(top);
    top += chromePx + n * rowPx;
  }
  return tops;
}

/**
 * A group's offset in the scrolling element now: the one read from the
 * layout (`measured`, when the estimate was `estimateThen`) moved by how
 * much the estimate has moved since (`estimateNow`).
 */
export function projectedTop(measured: number, estimateThen: number, estimateNow: number): number {
  return measured + (estimateNow - estimateThen);
}

/**
 * At most `perTask` renders of one windowed list in one task; a render
 * asked for beyond that runs once, in a later task. Windowed rows can
 * feed back on themselves (a render changes what is measured, which asks
 * for a render that changes it back), and Preact runs renders asked for
 * during a render in the same task, so such a cycle would never let the
 * browser paint or take input. With the budget it costs a task a round.
 * `later` schedules a task (setTimeout in the page, a queue in tests).
 */
export class RenderBudget {
  private used = 0;
  private deferred = false;

  constructor(
    private readonly perTask: number,
    private readonly later: (fn: () => void) => void,
  ) {}

  /** Counts a render; call it from the render itself. */
  spend(): void {
    if (this.used++ === 0) this.later(() => (this.used = 0));
  }

  /** Runs `render` now while this task's budget lasts, else once in a later task. */
  request(render: () => void): void {
    if (this.used < this.perTask) {
      render();
      return;
    }
    if (this.deferred) return;
    this.deferred = true;
    this.later(() => {
      this.deferred = false;
      render();
    });
  }
}
