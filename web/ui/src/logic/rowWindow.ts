// File: logic/rowWindow.ts
//
// The arithmetic of windowed table rows (ui/useRowWindow.ts): how tall the
// spacer rows around the rendered rows are, and whether a group's rows are
// near enough to the viewport to render any. Pure, so it is tested without
// a browser.

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
