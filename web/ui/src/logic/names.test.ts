import { describe, expect, it } from "vitest";
import { duplicateNames, nextFreeName } from "./names";

describe("nextFreeName", () => {
  it("continues a numbered series", () => {
    expect(nextFreeName("lr-sweep-3", new Set())).toBe("lr-sweep-4");
    expect(nextFreeName("run_9", new Set())).toBe("run_10");
  });
  it("starts a series at 2", () => {
    expect(nextFreeName("baseline", new Set())).toBe("baseline-2");
  });
  it("skips taken names", () => {
    expect(nextFreeName("a-1", new Set(["a-2", "a-3"]))).toBe("a-4");
  });
  it("stays within 63 bytes", () => {
    const long = "x".repeat(63);
    const name = nextFreeName(long, new Set());
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name.endsWith("2")).toBe(true);
  });
  it("gives distinct names for several duplicates of one series", () => {
    expect(duplicateNames(["a-1", "a-1", "b"], new Set(["a-1", "b"]))).toEqual(["a-2", "a-3", "b-2"]);
  });
});
