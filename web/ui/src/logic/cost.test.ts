import { describe, expect, it } from "vitest";
import { costCell, costsById, formatCost, formatGpuHours, safeLinks } from "./cost";

describe("cost", () => {
  it("formats GPU-hours and dollars", () => {
    expect(formatGpuHours(0)).toBe("");
    expect(formatGpuHours(1.234)).toBe("1.23 GPU-h");
    expect(formatGpuHours(123.45)).toBe("123.5 GPU-h");
    expect(formatCost(1234.5)).toBe("$1,234.50");
    expect(formatCost(undefined)).toBe("");
  });

  it("shows the cost, or the GPU-hours when nothing is priced", () => {
    expect(costCell({ gpu_hours: 2, cost: 4 }, true)).toBe("$4.00");
    expect(costCell({ gpu_hours: 2, cost: 3, unpriced_gpu_hours: 0.5 }, true)).toBe("$3.00 + 0.50 GPU-h unpriced");
    expect(costCell({ gpu_hours: 2, unpriced_gpu_hours: 2 }, true)).toBe("2.00 GPU-h (no price)");
    expect(costCell({ gpu_hours: 2 }, false)).toBe("2.00 GPU-h");
    expect(costCell(undefined, true)).toBe("");
  });

  it("keeps only http(s) links", () => {
    expect(
      safeLinks([
        { name: "W&B", url: "https://wandb.ai/o/p/runs/x" },
        { name: "bad", url: "javascript:alert(1)" },
        { name: "empty", url: "" },
        { name: "SkyPilot", url: "http://127.0.0.1:46580/dashboard/jobs/3" },
      ]).map((l) => l.name),
    ).toEqual(["W&B", "SkyPilot"]);
  });

  it("indexes lines by experiment id", () => {
    const m = costsById([{ key: "a", experiment_id: "7", gpu_hours: 1 }, { key: "", gpu_hours: 2 }]);
    expect([...m.keys()]).toEqual(["7"]);
  });
});
