import { describe, expect, it } from "vitest";
import { nearViewport, RenderBudget, spacerHeights } from "./rowWindow";

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
