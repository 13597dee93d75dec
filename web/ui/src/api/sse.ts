// File: api/sse.ts
//
// Server-Sent Events over fetch(), for the bridge's streaming routes (Watch,
// job logs, the experiment list). fetch instead of EventSource because it can send the bearer
// token as a header, reports HTTP errors with the server's message, and does
// not reconnect on its own: the callers decide how to resume (Watch from the
// last revision seen; logs not at all, so nothing is shown twice).

import { ApiError, askForToken, authHeaders, errorFromResponse, unreachable } from "./client";

export interface SseMessage {
  /** "message" unless the server named it (the bridge sends "error"). */
  event: string;
  data: string;
}

/**
 * Incremental parser of the text/event-stream format: feed it text as it
 * arrives, in chunks cut anywhere; it returns the messages completed so far.
 * Comments (": ping") are dropped; multi-line data is joined with "\n".
 */
export class SseParser {
  private buffer = "";
  /** Where the search for the next line break resumes: none before it. */
  private scanned = 0;
  private event = "";
  private data: string[] = [];

  feed(chunk: string): SseMessage[] {
    this.buffer += chunk;
    const out: SseMessage[] = [];
    for (;;) {
      // Only the text not searched yet: a page of the experiment list is
      // one line of a megabyte or more, arriving in many chunks.
      const nl = lineBreak(this.buffer, this.scanned);
      if (nl < 0) {
        this.scanned = this.buffer.length;
        break;
      }
      // A lone "\r" at the end may be the first half of "\r\n": wait for more.
      if (this.buffer[nl] === "\r" && nl === this.buffer.length - 1) {
        this.scanned = nl;
        break;
      }
      const line = this.buffer.slice(0, nl);
      const width = this.buffer.startsWith("\r\n", nl) ? 2 : 1;
      this.buffer = this.buffer.slice(nl + width);
      this.scanned = 0;
      this.line(line, out);
    }
    return out;
  }

  private line(line: string, out: SseMessage[]): void {
    if (line === "") {
      if (this.data.length) out.push({ event: this.event || "message", data: this.data.join("\n") });
      this.event = "";
      this.data = [];
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
  }
}

/** The first "\r" or "\n" in `text` at or after `from`, or -1. */
function lineBreak(text: string, from: number): number {
  const cr = text.indexOf("\r", from);
  const lf = text.indexOf("\n", from);
  if (cr < 0) return lf;
  if (lf < 0) return cr;
  return Math.min(cr, lf);
}

export interface StreamOptions {
  signal: AbortSignal;
  /** Called once the server answered 200 and the stream is open. */
  onOpen?: () => void;
  /** Called for every byte received, including keep-alive comments. */
  onActivity?: () => void;
  onMessage: (msg: SseMessage) => void;
}

/**
 * Reads an SSE stream until the server ends it (resolves) or it fails
 * (rejects with ApiError; an `event: error` from the bridge becomes one with
 * the gRPC code and message). Aborting the signal resolves quietly.
 */
export async function streamSse(url: string, opts: StreamOptions): Promise<void> {
  let res: Response | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      res = await fetch(url, {
        headers: { ...authHeaders(), Accept: "text/event-stream" },
        signal: opts.signal,
        cache: "no-store",
      });
    } catch (err) {
      if (opts.signal.aborted) return;
      throw unreachable(err);
    }
    if (res.status === 401 && attempt === 0 && (await askForToken())) continue;
    break;
  }
  if (!res.ok) throw await errorFromResponse(res);
  if (!res.body) throw new ApiError(0, "UNAVAILABLE", "stream has no body");
  opts.onOpen?.();
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      opts.onActivity?.();
      for (const msg of parser.feed(value)) {
        if (msg.event === "error") {
          let code = "UNKNOWN";
          let message = msg.data;
          try {
            const body = JSON.parse(msg.data) as { code?: string; message?: string };
            code = body.code ?? code;
            message = body.message ?? message;
          } catch {
            // keep the raw text
          }
          throw new ApiError(200, code, message);
        }
        opts.onMessage(msg);
      }
    }
  } catch (err) {
    if (opts.signal.aborted) return;
    if (err instanceof ApiError) throw err;
    throw unreachable(err);
  } finally {
    reader.releaseLock();
  }
}
