import { describe, expect, it } from "vitest";
import type { Experiment } from "../api/types";
import { bulkTarget } from "./bulkTarget";
import { EMPTY_FILTER, type Filter } from "./grouping";

const exp = (id: string, extra: Partial<Experiment> = {}): Experiment => ({ id, name: `e${id}`, ...extra });
const filter: Filter = { ...EMPTY_FILTER, labelSelector: "sweep=lr", observed: "FAILED", text: "train" };

describe("bulkTarget", () => {
  it("sends the filter when every shown live experiment is selected", () => {
    const shown = [exp("1"), exp("2"), exp("3")];
    expect(bulkTarget(["3", "1", "2"], shown, filter, true)).toEqual({
      filter: { label_selector: "sweep=lr", observed_states: ["FAILED"], text: "train" },
    });
  });

  it("sends an empty filter (every live experiment) when nothing filters and all are selected", () => {
    expect(bulkTarget(["1", "2"], [exp("1"), exp("2")], EMPTY_FILTER, true)).toEqual({ filter: {} });
  });

  it("sends ids for a partial selection", () => {
    expect(bulkTarget(["1"], [exp("1"), exp("2")], filter, true)).toEqual({ ids: ["1"] });
  });

  it("sends ids when a selected experiment is hidden by the filter", () => {
    expect(bulkTarget(["1", "2", "9"], [exp("1"), exp("2")], filter, true)).toEqual({ ids: ["1", "2", "9"] });
  });

  it("ignores shown archived experiments, which a filter never acts on", () => {
    const shown = [exp("1"), exp("2", { delete_time: "2026-01-01T00:00:00Z" })];
    expect(bulkTarget(["1"], shown, { ...filter, showDeleted: true }, true)).toEqual({
      filter: { label_selector: "sweep=lr", observed_states: ["FAILED"], text: "train" },
    });
    expect(bulkTarget(["1", "2"], shown, { ...filter, showDeleted: true }, true).filter).toBeDefined();
  });

  it("sends ids when the selector cannot be read", () => {
    expect(bulkTarget(["1"], [exp("1")], { ...filter, labelSelector: "a in (" }, false)).toEqual({ ids: ["1"] });
  });
});
