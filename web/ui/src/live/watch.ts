// File: live/watch.ts
//
// The Watch stream, kept open: it delivers every change as it happens and,
// after any drop (daemon restart, network blip, a proxy closing an idle
// connection), reconnects with exponential backoff and resumes from the last
// revision seen, so nothing is missed and nothing is applied twice. A stream
// silent for longer than three keep-alive intervals is presumed dead.

import { ApiError } from "../api/client";
import { streamSse } from "../api/sse";
import type { WatchMessage } from "../api/types";
import { parseApiJson } from "../api/wire";

export interface WatchHandlers {
  /** The revision to resume after (read at every (re)connect). */
  revision: () => number;
  onMessage: (msg: WatchMessage) => void;
  /** The stream is open; `resumed` is false for the first connection. */
  onOpen: (resumed: boolean) => void;
  onActivity: () => void;
  /** The stream dropped; the next attempt is due at `retryAt`. */
  onDrop: (error: string, retryAt: number) => void;
}

const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 10_000;
const SILENCE_LIMIT_MS = 50_000;

export class WatchConnection {
  private abort: AbortController | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;

  constructor(private readonly handlers: WatchHandlers) {}

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
    this.wake?.();
  }

  /** Skips the current backoff wait (e.g. the user clicked "reconnect now"). */
  reconnectNow(): void {
    this.wake?.();
  }

  private async run(): Promise<void> {
    let failures = 0;
    let opened = false;
    while (!this.stopped) {
      const abort = new AbortController();
      this.abort = abort;
      let silence: ReturnType<typeof setTimeout> | undefined;
      const arm = () => {
        clearTimeout(silence);
        silence = setTimeout(() => abort.abort(), SILENCE_LIMIT_MS);
      };
      let error = "the stream ended";
      try {
        arm();
        await streamSse(`/api/watch?since_revision=${this.handlers.revision()}`, {
          signal: abort.signal,
          onOpen: () => {
            this.handlers.onOpen(opened);
            opened = true;
            failures = 0;
          },
          onActivity: () => {
            arm();
            this.handlers.onActivity();
          },
          onMessage: (m) => {
            try {
              this.handlers.onMessage(parseApiJson(m.data) as WatchMessage);
            } catch (err) {
              console.error("skydeck: bad watch message", err, m.data);
            }
          },
        });
        if (abort.signal.aborted && !this.stopped) error = "no data for too long";
      } catch (err) {
        error = err instanceof ApiError ? err.message : String(err);
      } finally {
        clearTimeout(silence);
      }
      if (this.stopped) return;
      const delay = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** failures);
      failures++;
      this.handlers.onDrop(error, Date.now() + delay);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = null;
    }
  }
}
