import { describe, expect, it } from "vitest";
import { shallowEqual } from "./shallowEqual";

describe("shallowEqual", () => {
  const e = { id: "1" };
  it("holds for the same values under the same keys", () => {
    expect(shallowEqual({ e, n: 1, s: "a", u: undefined }, { e, n: 1, s: "a", u: undefined })).toBe(true);
    expect(shallowEqual({ x: NaN }, { x: NaN })).toBe(true);
  });
  it("compares objects by identity, not content", () => {
    expect(shallowEqual({ e }, { e: { id: "1" } })).toBe(false);
  });
  it("fails on a changed, missing or extra key", () => {
    expect(shallowEqual({ n: 1 }, { n: 2 })).toBe(false);
    expect(shallowEqual({ n: 1, m: undefined }, { n: 1, k: undefined })).toBe(false);
    expect(shallowEqual({ n: 1 }, { n: 1, k: 2 })).toBe(false);
  });
});
