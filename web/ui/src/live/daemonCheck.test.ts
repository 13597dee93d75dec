import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, type WriteResult } from "../api/client";
import { DaemonCheck, type Verdict } from "./daemonCheck";

const answer = (description: string): WriteResult => ({ experiment: { description }, warnings: [] });

describe("DaemonCheck", () => {
  let verdicts: Verdict[];
  let check: DaemonCheck;

  beforeEach(() => {
    vi.useFakeTimers();
    verdicts = [];
    check = new DaemonCheck((v) => verdicts.push(v), 300);
  });
  afterEach(() => {
    check.stop();
    vi.useRealTimers();
  });

  it("asks once the typing pauses, with the latest request only", async () => {
    const run = vi.fn(async () => answer("x"));
    check.request("a", run);
    await vi.advanceTimersByTimeAsync(100);
    check.request("ab", run);
    await vi.advanceTimersByTimeAsync(299);
    expect(run).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(run).toHaveBeenCalledTimes(1);
    expect(verdicts.at(-1)).toEqual({ state: "accepted", result: answer("x") });
  });

  it("does not ask again for the same request", async () => {
    const run = vi.fn(async () => answer("x"));
    check.request("a", run);
    await vi.advanceTimersByTimeAsync(300);
    check.request("a", run);
    await vi.advanceTimersByTimeAsync(300);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it("drops a slow answer to an older request", async () => {
    let release!: (r: WriteResult) => void;
    check.request("old", () => new Promise<WriteResult>((r) => (release = r)));
    await vi.advanceTimersByTimeAsync(300);
    check.request("new", async () => answer("new"));
    await vi.advanceTimersByTimeAsync(300);
    release(answer("old"));
    await vi.advanceTimersByTimeAsync(0);
    expect(verdicts.filter((v) => v.state === "accepted")).toEqual([{ state: "accepted", result: answer("new") }]);
  });

  it("reports the daemon's refusal in its words, and an unreachable daemon as such", async () => {
    check.request("bad", async () => {
      throw new ApiError(400, "INVALID_ARGUMENT", 'flag model.layers: expected int, got string "four"');
    });
    await vi.advanceTimersByTimeAsync(300);
    expect(verdicts.at(-1)).toEqual({ state: "refused", message: 'flag model.layers: expected int, got string "four"' });
    check.request("down", async () => {
      throw new ApiError(0, "UNAVAILABLE", "cannot reach skydeckd (fetch failed)");
    });
    await vi.advanceTimersByTimeAsync(300);
    expect(verdicts.at(-1)).toEqual({ state: "unreachable", message: "cannot reach skydeckd (fetch failed)" });
  });

  it("goes idle when there is nothing to check", async () => {
    const run = vi.fn(async () => answer("x"));
    check.request("a", run);
    check.request(null, run);
    await vi.advanceTimersByTimeAsync(1000);
    expect(run).not.toHaveBeenCalled();
    expect(verdicts).toEqual([{ state: "checking" }, { state: "idle" }]);
  });
});
