// File: live/testing/fakeDaemon.ts
//
// For unit tests only: a fetch() that answers like skydeckd's HTTP bridge
// for the routes live/ uses, with Watch streams the test drives by hand
// (send an event, end the stream, take the daemon down). The dashboard
// reads SSE through fetch (api/sse.ts), so this is its fake EventSource.
//
//   const daemon = new FakeDaemon();
//   vi.stubGlobal("fetch", daemon.fetch);
//   ... daemon.watch(0).send({ event: { id: "1", type: "Created" } }); daemon.watch(0).end();

import type { CommandFlagSchema, Experiment, Health, Job, SkyEvent, WatchMessage } from "../../api/types";

export class FakeWatchStream {
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private readonly encoder = new TextEncoder();
  readonly body: ReadableStream<Uint8Array>;
  closed = false;

  constructor(
    readonly url: string,
    signal: AbortSignal | undefined,
  ) {
    this.body = new ReadableStream<Uint8Array>({ start: (c) => (this.controller = c) });
    // Like a real fetch: aborting fails the body's reads.
    signal?.addEventListener("abort", () => this.fail(new DOMException("aborted", "AbortError")));
  }

  /** `since_revision` of the request that opened it. */
  get sinceRevision(): number {
    return Number(new URL(this.url, "http://daemon").searchParams.get("since_revision"));
  }

  send(msg: WatchMessage): void {
    this.write(`data: ${JSON.stringify(msg)}\n\n`);
  }

  /** A keep-alive comment: activity without a message. */
  ping(): void {
    this.write(": ping\n\n");
  }

  /** The daemon ended the stream (shutdown, restart). */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.controller.close();
  }

  private fail(err: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.controller.error(err);
  }

  private write(text: string): void {
    if (!this.closed) this.controller.enqueue(this.encoder.encode(text));
  }
}

export class FakeDaemon {
  /** "GET /api/health", in order. */
  readonly requests: string[] = [];
  readonly streams: FakeWatchStream[] = [];
  health: Health = { status: "SERVING", revision: "0" };
  experiments: Experiment[] = [];
  /** The newest job of some experiments, answered as the list's latest_jobs. */
  latestJobs: Job[] = [];
  events: SkyEvent[] = [];
  schemas: CommandFlagSchema[] = [];
  /** While true, every request fails as if nothing listened on the port. */
  down = false;
  /**
   * How many pages each experiment-list stream sends before it is cut
   * short, and how: "end" closes it cleanly without its last page, "break"
   * fails the body as a dropped connection does. Unset: every page.
   */
  listCut: { pages: number; how: "end" | "break" } | undefined;

  readonly fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = String(input);
    const path = new URL(url, "http://daemon").pathname;
    const method = init.method ?? "GET";
    this.requests.push(`${method} ${path}`);
    if (this.down) throw new TypeError("fetch failed");
    if (path === "/api/watch") {
      const stream = new FakeWatchStream(url, init.signal ?? undefined);
      this.streams.push(stream);
      return new Response(stream.body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
    }
    if (path === "/api/experiments:stream") return this.listStream(url);
    const body = this.answer(method, path);
    if (body === undefined) return json(404, { code: "NOT_FOUND", message: `no route ${method} ${path}` });
    return json(200, body);
  };

  /**
   * StreamExperiments as the bridge answers it: one `data:` event per page
   * of page_size after page_token, each with the token of its last
   * experiment but the last page's.
   */
  private listStream(url: string): Response {
    const params = new URL(url, "http://daemon").searchParams;
    const size = Number(params.get("page_size") || 100);
    const after = Number(params.get("page_token") || 0);
    const rest = this.experiments.filter((e) => Number(e.id) > after);
    let text = ": connected\n\n";
    let pages = 0;
    const cut = this.listCut;
    for (let i = 0; ; i += size) {
      if (cut && pages === cut.pages) break;
      const experiments = rest.slice(i, i + size);
      const ids = new Set(experiments.map((e) => e.id));
      const last = i + size >= rest.length;
      const page = {
        experiments,
        latest_jobs: this.latestJobs.filter((j) => ids.has(j.experiment_id)),
        next_page_token: last ? undefined : experiments[experiments.length - 1].id,
      };
      text += `data: ${JSON.stringify(page)}\n\n`;
      pages++;
      if (last) break;
    }
    const bytes = new TextEncoder().encode(text);
    // The pages first; the break only once they were read (an error
    // discards what is still queued).
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (!sent) {
          sent = true;
          c.enqueue(bytes);
        } else if (cut?.how === "break") {
          c.error(new TypeError("network error"));
        } else {
          c.close();
        }
      },
    });
    return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
  }

  /** The n-th Watch stream opened (0 = the first). */
  watch(n: number): FakeWatchStream {
    const s = this.streams[n];
    if (!s) throw new Error(`watch stream ${n} was not opened (${this.streams.length} so far)`);
    return s;
  }

  /** Requests equal to `request`, or matching it when a RegExp ("GET /api/experiments/7/jobs"). */
  count(request: string | RegExp): number {
    return this.requests.filter((r) => (typeof request === "string" ? r === request : request.test(r))).length;
  }

  private answer(method: string, path: string): unknown {
    if (method !== "GET") return undefined;
    if (path === "/api/health") return { health: this.health };
    if (path === "/api/events") return { events: this.events };
    if (path === "/api/flag-schemas") return { schemas: this.schemas };
    if (/^\/api\/experiments\/[^/]+\/jobs$/.test(path)) return { jobs: [] };
    return undefined;
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}
