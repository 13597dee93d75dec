// File: live/daemonCheck.ts
//
// Asks the daemon's opinion of a form while it is being filled in: the
// request is a validate_only write, so the answer is exactly what saving
// would do (the flag schema's verdict in its own words, the values as they
// would be stored, the warnings) and nothing is written. Requests are
// debounced while the user types, a repeated request is not sent again, and
// an answer to anything but the latest request is dropped, so a slow reply
// never overwrites a newer one.
//
//   const check = new DaemonCheck((v) => render(v));
//   check.request(JSON.stringify(body), () => api.updateFlags(id, set, unset, { validateOnly: true }));

import { ApiError, type WriteResult } from "../api/client";

export type Verdict =
  | { state: "idle" }
  | { state: "checking" }
  | { state: "accepted"; result: WriteResult }
  | { state: "refused"; message: string }
  | { state: "unreachable"; message: string };

export const CHECK_DELAY_MS = 300;

export class DaemonCheck {
  private key: string | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped by every request; an answer counts only if it is still current. */
  private generation = 0;

  constructor(
    private readonly onVerdict: (v: Verdict) => void,
    private readonly delayMs = CHECK_DELAY_MS,
  ) {}

  /**
   * Checks with `run` after the delay. `key` identifies the request (its
   * body and whatever it depends on): the same key as the last request is
   * not sent again; null means there is nothing to check.
   */
  request(key: string | null, run: () => Promise<WriteResult>): void {
    if (key === this.key) return;
    this.key = key;
    clearTimeout(this.timer);
    const generation = ++this.generation;
    if (key === null) {
      this.onVerdict({ state: "idle" });
      return;
    }
    this.onVerdict({ state: "checking" });
    this.timer = setTimeout(async () => {
      let verdict: Verdict;
      try {
        verdict = { state: "accepted", result: await run() };
      } catch (err) {
        verdict = verdictOfError(err);
      }
      if (generation === this.generation) this.onVerdict(verdict);
    }, this.delayMs);
  }

  /** Drops the pending request and any answer still on its way. */
  stop(): void {
    clearTimeout(this.timer);
    this.generation++;
    this.key = null;
  }
}

function verdictOfError(err: unknown): Verdict {
  if (err instanceof ApiError && err.code !== "UNAVAILABLE" && err.status !== 0) {
    return { state: "refused", message: err.message };
  }
  return { state: "unreachable", message: err instanceof Error ? err.message : String(err) };
}
