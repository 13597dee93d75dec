// File: logic/notifyEvents.ts
//
// Which events of the Watch stream deserve a browser notification while
// the dashboard is open: the same kinds skydeckd's webhooks send
// (daemon/notify/notify_event.cc is the daemon's side of this rule; the
// two are kept alike by their tests, notifyEvents.test.ts and
// tests/daemon/notify/).

import type { SkyEvent } from "../api/types";

export type NotifyKind =
  | "job_failed"
  | "stalled"
  | "succeeded"
  | "preempted"
  | "recovered"
  | "backend_unreachable"
  | "backend_reachable";

export interface BrowserNotice {
  kind: NotifyKind;
  title: string;
  body: string;
  /** One per event: a second tab replaces rather than repeats it. */
  tag: string;
}

const TITLES: Record<NotifyKind, string> = {
  job_failed: "Job failed",
  stalled: "Experiment stalled",
  succeeded: "Experiment succeeded",
  preempted: "Job preempted",
  recovered: "Job recovered",
  backend_unreachable: "Backend unreachable",
  backend_reachable: "Backend reachable again",
};

/** The kind of notification `ev` is, or null. */
export function notifyKind(ev: SkyEvent | undefined): NotifyKind | null {
  if (!ev) return null;
  const reason = ev.reason ?? "";
  switch (ev.type) {
    case "JobStatusChanged":
      return reason.startsWith("FAILED") || reason === "LOST" ? "job_failed" : null;
    case "Stalled":
      return "stalled";
    case "ObservedStateChanged":
      return reason === "SUCCEEDED" ? "succeeded" : null;
    case "Preempted":
      return "preempted";
    case "Recovered":
      return "recovered";
    case "BackendUnreachable":
      return "backend_unreachable";
    case "BackendReachable":
      return "backend_reachable";
    default:
      return null;
  }
}

/** The notification for `ev` about experiment `name` (when known), or null. */
export function browserNotice(ev: SkyEvent | undefined, name?: string): BrowserNotice | null {
  const kind = notifyKind(ev);
  if (!kind || !ev) return null;
  const who = name ? `${name}: ` : "";
  return {
    kind,
    title: `SkyDeck · ${TITLES[kind]}`,
    body: `${who}${ev.message || ev.reason || ""}`.slice(0, 300),
    tag: `skydeck-event-${ev.id ?? ""}`,
  };
}
