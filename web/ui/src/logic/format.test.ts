import { describe, expect, it } from "vitest";
import {
  compactNumber,
  flagCell,
  formatAge,
  formatDouble,
  formatDuration,
  formatFlagValue,
  formatResources,
  sameFlagValue,
  stateLabel,
  stateName,
} from "./format";

describe("stateName / stateLabel", () => {
  it("passes the API's short names through and reads them as words", () => {
    expect(stateName("RUNNING")).toBe("RUNNING");
    expect(stateName("STOPPED")).toBe("STOPPED");
    expect(stateName("FAILED_SETUP")).toBe("FAILED_SETUP");
    expect(stateLabel("FAILED_NO_RESOURCE")).toBe("failed no resource");
    expect(stateName(undefined)).toBe("");
  });
});

describe("formatDouble prints like Python repr (and the CLI)", () => {
  it.each([
    [0.0003, "0.0003"],
    [3e-4, "0.0003"],
    [1e-5, "1e-05"],
    [4, "4.0"],
    [0.1, "0.1"],
    [1e16, "1e+16"],
    [1e15, "1000000000000000.0"],
    [-2.5, "-2.5"],
    [123456.789, "123456.789"],
    [0, "0.0"],
  ])("%s -> %s", (d, want) => expect(formatDouble(d)).toBe(want));
});

describe("flag values", () => {
  it("prints each kind as on the command line", () => {
    expect(formatFlagValue({ int_value: "4" })).toBe("4");
    expect(formatFlagValue({ double_value: 0.001 })).toBe("0.001");
    expect(formatFlagValue({ bool_value: false })).toBe("false");
    expect(formatFlagValue({ string_value: "adam" })).toBe("adam");
  });
  it("compares kind as well as text", () => {
    expect(sameFlagValue({ int_value: "4" }, { int_value: "4" })).toBe(true);
    expect(sameFlagValue({ int_value: "4" }, { double_value: 4 })).toBe(false);
    expect(sameFlagValue({ string_value: "4" }, { int_value: "4" })).toBe(false);
    expect(sameFlagValue(undefined, undefined)).toBe(true);
    expect(sameFlagValue({ bool_value: true }, undefined)).toBe(false);
  });
});

describe("table cells", () => {
  it("shows booleans as ✓/✗ and missing as —", () => {
    expect(flagCell({ bool_value: true })).toBe("✓");
    expect(flagCell({ bool_value: false })).toBe("✗");
    expect(flagCell(undefined)).toBe("—");
  });
  it("compacts big numbers but keeps small ones exact", () => {
    expect(flagCell({ int_value: "250000000" })).toBe("250M");
    expect(flagCell({ int_value: "64" })).toBe("64");
    expect(flagCell({ int_value: "9999" })).toBe("9999");
    expect(flagCell({ double_value: 3e-4 })).toBe("0.0003");
    expect(flagCell({ double_value: 1.5e6 })).toBe("1.5M");
    // Beyond 2^53 the exact digits are kept rather than a rounded compact form.
    expect(flagCell({ int_value: "9223372036854775807" })).toBe("9223372036854775807");
  });
});

describe("compactNumber", () => {
  it.each([
    [0, "0"],
    [1234, "1234"],
    [12345, "12.3k"],
    [100000, "100k"],
    [999_960, "1M"],
    [2_000_000, "2M"],
    [1_500_000_000, "1.5B"],
    [7.25e12, "7.25T"],
    [-45_600, "-45.6k"],
    [3e16, "3e16"],
  ])("%s -> %s", (n, want) => expect(compactNumber(n)).toBe(want));
});

describe("durations and ages", () => {
  it("formats durations coarsely", () => {
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(42_000)).toBe("42s");
    expect(formatDuration(192_000)).toBe("3m 12s");
    expect(formatDuration(180_000)).toBe("3m");
    expect(formatDuration(7_500_000)).toBe("2h 5m");
    expect(formatDuration((3 * 24 + 4) * 3_600_000)).toBe("3d 4h");
    expect(formatDuration(-1)).toBe("—");
  });
  it("formats ages relative to now, past and future", () => {
    const now = Date.parse("2026-01-01T12:00:00Z");
    expect(formatAge("2026-01-01T11:59:59.500Z", now)).toBe("just now");
    expect(formatAge("2026-01-01T11:59:48Z", now)).toBe("12s ago");
    expect(formatAge("2026-01-01T11:55:00Z", now)).toBe("5m ago");
    expect(formatAge("2026-01-01T09:00:00Z", now)).toBe("3h ago");
    expect(formatAge("2025-12-30T12:00:00Z", now)).toBe("2d ago");
    expect(formatAge("2026-01-01T12:00:30Z", now)).toBe("in 30s");
    expect(formatAge(undefined, now)).toBe("—");
  });
  it("shows nodes × GPUs with the type", () => {
    expect(formatResources(2, 8, "H100")).toBe("2 × 8 H100");
    expect(formatResources(undefined, undefined)).toBe("1 × —");
  });
});
