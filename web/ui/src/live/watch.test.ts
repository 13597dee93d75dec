import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { WatchMessage } from "../api/types";
import { Store } from "../state/store";
import { FakeDaemon } from "./testing/fakeDaemon";
import { until } from "./testing/until";
import { WatchConnection } from "./watch";

const created = (id: number, exp = "7"): WatchMessage => ({
  event: { id: String(id), experiment_id: exp, type: "Updated" },
  experiment: { id: exp, name: "lr-1", description: `after event ${id}`, update_time: new Date(1_000 * id).toISOString() },
});

describe("WatchConnection", () => {
  let daemon: FakeDaemon;
  let store: Store;
  let conn: WatchConnection;
  const opens: boolean[] = [];
  const drops: { error: string; delay: number }[] = [];
  let activity = 0;

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    daemon = new FakeDaemon();
    vi.stubGlobal("fetch", daemon.fetch);
    store = new Store((flush) => flush());
    opens.length = 0;
    drops.length = 0;
    activity = 0;
    conn = new WatchConnection({
      revision: () => store.revision,
      onMessage: (m) => store.applyWatch(m),
      onOpen: (resumed) => opens.push(resumed),
      onActivity: () => activity++,
      onDrop: (error, retryAt) => drops.push({ error, delay: retryAt - Date.now() }),
    });
  });

  afterEach(() => {
    conn.stop();
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it("reconnects after the stream ends and resumes after the last revision seen", async () => {
    store.revision = 4;
    conn.start();
    await until(() => daemon.streams.length === 1, "first connection");
    expect(daemon.watch(0).sinceRevision).toBe(4);
    daemon.watch(0).send(created(5));
    daemon.watch(0).send(created(6));
    await until(() => store.revision === 6, "events 5 and 6 applied");

    daemon.watch(0).end(); // e.g. the daemon restarts
    await until(() => drops.length === 1, "the drop noticed");
    expect(drops[0]).toEqual({ error: "the stream ended", delay: 500 });
    expect(daemon.streams.length).toBe(1); // waits out the backoff first
    await vi.advanceTimersByTimeAsync(500);
    await until(() => daemon.streams.length === 2, "reconnect");
    expect(daemon.watch(1).sinceRevision).toBe(6);
    await until(() => opens.length === 2, "second open");
    expect(opens).toEqual([false, true]);

    // What happened while disconnected arrives; a replayed event is applied once.
    daemon.watch(1).send(created(6));
    daemon.watch(1).send(created(7));
    await until(() => store.revision === 7, "event 7 applied");
    expect(store.events.map((e) => e.id)).toEqual(["7", "6", "5"]);
    expect(store.get("7")?.description).toBe("after event 7");
  });

  it("backs off while the daemon is down, then resumes where it left off", async () => {
    conn.start();
    await until(() => daemon.streams.length === 1, "first connection");
    daemon.watch(0).send(created(3));
    await until(() => store.revision === 3, "event 3 applied");
    daemon.down = true;
    daemon.watch(0).end();
    await until(() => drops.length === 1, "first drop");
    await vi.advanceTimersByTimeAsync(500);
    await until(() => drops.length === 2, "second drop");
    expect(drops[1].error).toMatch(/cannot reach skydeckd/);
    expect(drops.map((d) => d.delay)).toEqual([500, 1000]);
    await vi.advanceTimersByTimeAsync(1000);
    await until(() => drops.length === 3, "third drop");
    expect(drops[2].delay).toBe(2000);

    daemon.down = false;
    await vi.advanceTimersByTimeAsync(2000);
    await until(() => daemon.streams.length === 2, "reconnect once the daemon is back");
    expect(daemon.watch(1).sinceRevision).toBe(3);
    await until(() => opens.length === 2, "second open");
    // The backoff starts over after a success.
    daemon.watch(1).end();
    await until(() => drops.length === 4, "fourth drop");
    expect(drops[3].delay).toBe(500);
  });

  it("presumes a silent stream dead and reconnects", async () => {
    conn.start();
    await until(() => daemon.streams.length === 1, "first connection");
    await vi.advanceTimersByTimeAsync(40_000);
    daemon.watch(0).ping(); // keep-alives keep it open
    await until(() => activity === 1, "ping read");
    await vi.advanceTimersByTimeAsync(40_000);
    expect(drops).toEqual([]);
    await vi.advanceTimersByTimeAsync(10_001);
    await until(() => drops.length === 1, "silence noticed");
    expect(drops[0].error).toBe("no data for too long");
    expect(daemon.watch(0).closed).toBe(true);
  });

  it("reconnects at once when asked", async () => {
    conn.start();
    await until(() => daemon.streams.length === 1, "first connection");
    daemon.watch(0).end();
    await until(() => drops.length === 1, "drop");
    conn.reconnectNow();
    await until(() => daemon.streams.length === 2, "reconnect without waiting");
  });
});
