import { describe, expect, it } from "vitest";
import { nearViewport, spacerHeights } from "./rowWindow";

describe("spacerHeights", () => {
  it("fills the list's height around the rendered rows", () => {
    // A list at 100 px of 50 rows of 10 px; rows 20..29 rendered.
    const items = Array.from({ length: 10 }, (_, i) => ({ start: 100 + (20 + i) * 10, end: 100 + (21 + i) * 10 }));
    expect(spacerHeights(items, 500, 100)).toEqual({ before: 200, after: 200 });
  });
  it("needs no spacer when every row is rendered", () => {
    const items = [{ start: 40, end: 77 }, { start: 77, end: 114 }];
    expect(spacerHeights(items, 74, 40)).toEqual({ before: 0, after: 0 });
  });
  it("keeps the whole height when no row is rendered", () => {
    expect(spacerHeights([], 3700, 0)).toEqual({ before: 3700, after: 0 });
  });
});

describe("nearViewport", () => {
  it("holds for a list overlapping or within the margin of the viewport", () => {
    expect(nearViewport(0, 1000, 500, 800, 0)).toBe(true);
    expect(nearViewport(1400, 100, 500, 800, 200)).toBe(true); // 100 px below the bottom
    expect(nearViewport(100, 250, 500, 800, 200)).toBe(true); // ends 150 px above the top
  });
  it("fails for a list far above or below", () => {
    expect(nearViewport(2000, 100, 500, 800, 200)).toBe(false);
    expect(nearViewport(0, 100, 500, 800, 200)).toBe(false);
  });
});
