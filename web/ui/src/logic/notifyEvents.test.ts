import { describe, expect, it } from "vitest";
import { browserNotice, notifyKind } from "./notifyEvents";

describe("notifyKind", () => {
  it.each([
    [{ type: "JobStatusChanged", reason: "FAILED" }, "job_failed"],
    [{ type: "JobStatusChanged", reason: "FAILED_SETUP" }, "job_failed"],
    [{ type: "JobStatusChanged", reason: "LOST" }, "job_failed"],
    [{ type: "JobStatusChanged", reason: "RUNNING" }, null],
    [{ type: "Stalled", reason: "RestartBudgetExhausted" }, "stalled"],
    [{ type: "ObservedStateChanged", reason: "SUCCEEDED" }, "succeeded"],
    [{ type: "ObservedStateChanged", reason: "RUNNING" }, null],
    [{ type: "Preempted", reason: "Recovering" }, "preempted"],
    [{ type: "Recovered", reason: "Running" }, "recovered"],
    [{ type: "BackendUnreachable" }, "backend_unreachable"],
    [{ type: "BackendReachable" }, "backend_reachable"],
    [{ type: "Created" }, null],
  ])("%j is %s", (ev, kind) => {
    expect(notifyKind(ev)).toBe(kind);
  });
});

describe("browserNotice", () => {
  it("names the experiment and carries the message, tagged by event", () => {
    expect(
      browserNotice({ id: "42", type: "JobStatusChanged", reason: "FAILED", message: "job 5: RUNNING -> FAILED (exit 3)" }, "lr-3e-4"),
    ).toEqual({
      kind: "job_failed",
      title: "SkyDeck · Job failed",
      body: "lr-3e-4: job 5: RUNNING -> FAILED (exit 3)",
      tag: "skydeck-event-42",
    });
    expect(browserNotice({ type: "Created" }, "x")).toBeNull();
  });
});
