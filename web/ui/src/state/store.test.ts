import { describe, expect, it } from "vitest";
import type { Experiment, WatchMessage } from "../api/types";
import { MAX_EVENTS, Store } from "./store";

function makeStore(): { store: Store; flushes: () => number } {
  let pending: (() => void) | null = null;
  let count = 0;
  const store = new Store((fn) => (pending = fn));
  store.subscribe(() => count++);
  return {
    store,
    flushes: () => {
      pending?.();
      pending = null;
      return count;
    },
  };
}

const exp = (id: string, update: string, extra: Experiment = {}): Experiment => ({ id, name: `e${id}`, update_time: update, ...extra });
const ev = (id: number, experimentId: string, type: string, extra = {}): WatchMessage["event"] => ({
  id: String(id),
  experiment_id: experimentId,
  type,
  ...extra,
});

describe("Store", () => {
  it("batches many changes into one notification", () => {
    const { store, flushes } = makeStore();
    for (let i = 1; i <= 50; i++) store.applyWatch({ event: ev(i, "1", "Updated"), experiment: exp("1", `2026-01-01T00:00:${String(i % 60).padStart(2, "0")}Z`) });
    expect(flushes()).toBe(1);
  });
  it("applies each revision once (replays after a resume are skipped)", () => {
    const { store } = makeStore();
    expect(store.applyWatch({ event: ev(5, "1", "Created"), experiment: exp("1", "2026-01-01T00:00:05Z") })).toBe(true);
    expect(store.applyWatch({ event: ev(5, "1", "Created"), experiment: exp("1", "2026-01-01T00:00:05Z") })).toBe(false);
    expect(store.applyWatch({ event: ev(4, "1", "Created") })).toBe(false);
    expect(store.revision).toBe(5);
    expect(store.events.map((e) => e.id)).toEqual(["5"]);
  });
  it("never replaces a snapshot with an older one", () => {
    const { store } = makeStore();
    store.upsertExperiment(exp("1", "2026-01-01T00:00:10Z", { observed_state: "SUCCEEDED" }));
    expect(store.upsertExperiment(exp("1", "2026-01-01T00:00:05Z", { observed_state: "RUNNING" }))).toBe(false);
    expect(store.get("1")?.observed_state).toBe("SUCCEEDED");
    expect(store.upsertExperiment(exp("1", "2026-01-01T00:00:10Z", { observed_state: "IDLE" }))).toBe(true);
  });
  it("keeps deleted experiments (for undo) and removes purged ones", () => {
    const { store } = makeStore();
    store.upsertExperiment(exp("1", "2026-01-01T00:00:00Z"));
    store.applyWatch({ event: ev(2, "1", "Deleted"), experiment: exp("1", "2026-01-01T00:00:01Z", { delete_time: "2026-01-01T00:00:01Z" }) });
    expect(store.get("1")?.delete_time).toBeTruthy();
    expect(store.names().has("e1")).toBe(false);
    store.applyWatch({ event: ev(3, "1", "Purged") });
    expect(store.get("1")).toBeUndefined();
  });
  it("shows a job's new status from the event before the job is re-read", () => {
    const { store } = makeStore();
    store.applyWatch({ event: ev(1, "7", "LaunchIntent", { job_id: "3", time: "2026-01-01T00:00:00Z" }) });
    expect(store.jobs.get("7")?.status).toBe("LAUNCHING");
    store.applyWatch({ event: ev(2, "7", "JobStatusChanged", { job_id: "3", reason: "RUNNING" }) });
    expect(store.jobs.get("7")?.status).toBe("RUNNING");
    store.setJob("7", { id: "2", status: "FAILED" });
    expect(store.jobs.get("7")?.id).toBe("3");
  });
  it("merges listed and streamed events newest first, capped", () => {
    const { store } = makeStore();
    store.addEvents([{ id: "3" }, { id: "1" }]);
    store.addEvents([{ id: "2" }, { id: "3" }]);
    expect(store.events.map((e) => e.id)).toEqual(["3", "2", "1"]);
    store.addEvents(Array.from({ length: MAX_EVENTS + 10 }, (_, i) => ({ id: String(100 + i) })));
    expect(store.events).toHaveLength(MAX_EVENTS);
    expect(store.events[0].id).toBe(String(100 + MAX_EVENTS + 9));
  });
  it("finds by id or live name", () => {
    const { store } = makeStore();
    store.setExperiments([exp("1", "t", { name: "old", delete_time: "t" }), exp("2", "t", { name: "old" })]);
    expect(store.find("old")?.id).toBe("2");
    expect(store.find("1")?.id).toBe("1");
  });
});
