import { describe, expect, it } from "vitest";
import { estimatedTops, nearViewport, projectedTop, RenderBudget, spacerHeights } from "./rowWindow";

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

describe("RenderBudget", () => {
  // A task queue run by hand, and a "render" that spends and asks again:
  // the shape of a feedback loop between rendering and measuring.
  function setup(perTask: number) {
    const tasks: (() => void)[] = [];
    const budget = new RenderBudget(perTask, (fn) => tasks.push(fn));
    let renders = 0;
    const render = (): void => {
      renders++;
      budget.spend();
      budget.request(render);
    };
    const runTask = () => tasks.shift()!();
    return { tasks, budget, render, runTask, renders: () => renders };
  }

  it("stops a render loop at the budget and goes on in a later task", () => {
    const t = setup(5);
    t.budget.request(t.render); // would never return without the budget
    expect(t.renders()).toBe(5);
    expect(t.tasks.length).toBe(2); // the reset, then the one deferred render
    t.runTask();
    t.runTask();
    expect(t.renders()).toBe(10);
  });

  it("defers at most one render however often it is asked", () => {
    const t = setup(1);
    t.budget.spend();
    for (let i = 0; i < 10; i++) t.budget.request(() => {});
    expect(t.tasks.length).toBe(2);
  });

  it("renders at once while the task's budget lasts", () => {
    const t = setup(3);
    let now = 0;
    t.budget.spend();
    t.budget.request(() => now++);
    t.budget.spend();
    t.budget.request(() => now++);
    expect(now).toBe(2);
    expect(t.tasks.length).toBe(1); // only the reset
  });
});

describe("estimatedTops", () => {
  it("stacks each group's header and rows", () => {
    // 80 px of header, 37 px a row; the second group collapsed (no rows).
    expect(estimatedTops([10, 0, 3], 37, 80)).toEqual([0, 450, 530]);
  });
  it("moves the groups below one that grows, not those above", () => {
    // A search cleared: the first group goes from 2 rows to 1,000.
    const searched = estimatedTops([2, 1, 1], 37, 80);
    const cleared = estimatedTops([1000, 1, 1], 37, 80);
    expect(cleared[0]).toBe(searched[0]);
    expect(cleared[1] - searched[1]).toBe(998 * 37);
    expect(cleared[2] - searched[2]).toBe(998 * 37);
  });
});

describe("projectedTop", () => {
  it("moves a measured offset by how much the estimate moved", () => {
    expect(projectedTop(1234, 450, 450)).toBe(1234);
    expect(projectedTop(1234, 450, 450 + 998 * 37)).toBe(1234 + 998 * 37);
    expect(projectedTop(40000, 36000, 530)).toBe(4530);
  });
  it("takes a group that the rows above pushed away out of the viewport", () => {
    // A group at 4,000 px was in view (scrollTop 3,800, 900 px tall) while a
    // search showed few rows; clearing it adds 1,400 rows above it.
    const before = estimatedTops([50, 16], 37, 80);
    const after = estimatedTops([1428, 1428], 37, 80);
    const top = projectedTop(4000, before[1], after[1]);
    expect(nearViewport(4000, 16 * 37, 3800, 900, 222)).toBe(true);
    expect(nearViewport(top, 1428 * 37, 3800, 900, 222)).toBe(false);
  });
});
