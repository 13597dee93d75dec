import { describe, expect, it } from "vitest";
import type { Experiment } from "../api/types";
import { isReconciling, activeCondition } from "./conditions";
import { fieldHint, fieldText, patchFrom } from "./configFields";

describe("configuration fields", () => {
  const e: Experiment = { name: "a", nodes: 2, labels: { team: "nlp", sweep: "lr" }, spot: true };
  it("shows each field as text, with the daemon's defaults", () => {
    expect(fieldText(e, "nodes")).toBe("2");
    expect(fieldText({}, "nodes")).toBe("1");
    expect(fieldText({}, "gpus")).toBe("0");
    expect(fieldText(e, "labels")).toBe("sweep=lr, team=nlp");
    expect(fieldText(e, "spot")).toBe("true");
    expect(fieldText({}, "max_restarts")).toBe("");
    expect(fieldText(e, "name")).toBe("a");
  });
  it("hints at the daemon's limits while typing", () => {
    expect(fieldHint("nodes", "0")).toBe("1–512");
    expect(fieldHint("nodes", "512")).toBe("");
    expect(fieldHint("gpus", "65")).toMatch(/0–64/);
    expect(fieldHint("name", "1abc")).toMatch(/letter/);
    expect(fieldHint("labels", "oops")).toMatch(/key=value/);
    expect(fieldHint("base_command", " ")).toBe("required");
    expect(fieldHint("description", "anything")).toBe("");
  });
  it("builds the update body and mask from the touched fields only", () => {
    expect(patchFrom({ nodes: "0", labels: "a=b", spot: "false", description: "x" })).toEqual({
      patch: { nodes: 0, labels: { a: "b" }, spot: false, description: "x" },
      mask: ["nodes", "labels", "spot", "description"],
    });
    expect(patchFrom({})).toEqual({ patch: {}, mask: [] });
  });
});

describe("conditions", () => {
  it("is reconciling while the observed generation lags or an action is in flight", () => {
    expect(isReconciling({ generation: "2", observed_generation: "1" })).toBe(true);
    expect(isReconciling({ generation: "1" })).toBe(true);
    expect(isReconciling({ generation: "1", observed_generation: "1" })).toBe(false);
    expect(isReconciling({ generation: "1", observed_generation: "1", conditions: [{ type: "Reconciling", status: true }] })).toBe(true);
    expect(isReconciling({})).toBe(false);
  });
  it("finds a condition only when it holds", () => {
    const e: Experiment = { conditions: [{ type: "Stalled", status: false }, { type: "Degraded", status: true, reason: "BackendDown" }] };
    expect(activeCondition(e, "Stalled")).toBeUndefined();
    expect(activeCondition(e, "Degraded")?.reason).toBe("BackendDown");
  });
});
