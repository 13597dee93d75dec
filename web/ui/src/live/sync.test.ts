import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CommandFlagSchema } from "../api/types";
import { Store } from "../state/store";
import { schemaRefreshDelay, Sync } from "./sync";
import { FakeDaemon } from "./testing/fakeDaemon";
import { until } from "./testing/until";

const declared: CommandFlagSchema = {
  base_command: "python train.py",
  version: "1",
  flags: [{ name: "model.layers", type: "INT", description: "Transformer blocks" }],
};

describe("schemaRefreshDelay", () => {
  it("re-reads at once when a schema is applied or deleted", () => {
    expect(schemaRefreshDelay("FlagSchemaApplied")).toBe(0);
    expect(schemaRefreshDelay("FlagSchemaDeleted")).toBe(0);
  });
  it("re-reads a moment after flags change (inferred schemas follow them)", () => {
    expect(schemaRefreshDelay("FlagsUpdated")).toBeGreaterThan(0);
    expect(schemaRefreshDelay("Created")).toBeGreaterThan(0);
  });
  it("leaves them alone otherwise", () => {
    expect(schemaRefreshDelay("JobStatusChanged")).toBeUndefined();
    expect(schemaRefreshDelay(undefined)).toBeUndefined();
  });
});

describe("Sync", () => {
  let daemon: FakeDaemon;
  let store: Store;
  let sync: Sync;

  beforeEach(() => {
    daemon = new FakeDaemon();
    vi.stubGlobal("fetch", daemon.fetch);
    store = new Store((flush) => flush());
    sync = new Sync(store);
  });

  afterEach(() => {
    sync.stop();
    vi.unstubAllGlobals();
  });

  it("re-reads the flag schemas when the stream says one was applied or deleted", async () => {
    void sync.start();
    await until(() => daemon.streams.length === 1, "watch opened");
    expect(store.schemas).toEqual([]);

    daemon.schemas = [declared];
    daemon.watch(0).send({ event: { id: "1", type: "FlagSchemaApplied", reason: "SchemaApplied", message: 'flag schema for "python train.py" version 1' } });
    await until(() => store.schemas.length === 1, "schemas re-read");
    expect(store.schemas[0].flags?.[0].description).toBe("Transformer blocks");
    // Daemon-wide events are kept for the events panel.
    expect(store.events.map((e) => e.type)).toEqual(["FlagSchemaApplied"]);

    daemon.schemas = [];
    daemon.watch(0).send({ event: { id: "2", type: "FlagSchemaDeleted", reason: "SchemaDeleted" } });
    await until(() => store.schemas.length === 0, "schemas re-read after the delete");
    expect(store.events.map((e) => e.type)).toEqual(["FlagSchemaDeleted", "FlagSchemaApplied"]);
  });

  it("resumes after a reconnect without loading everything again", async () => {
    daemon.health = { status: "SERVING", revision: "10" };
    daemon.experiments = [{ id: "1", name: "a", update_time: "2026-01-01T00:00:00Z" }];
    void sync.start();
    await until(() => daemon.streams.length === 1, "watch opened");
    expect(daemon.watch(0).sinceRevision).toBe(10);
    await until(() => store.connection.status === "live", "live");

    daemon.watch(0).end();
    await until(() => store.connection.status === "reconnecting", "reconnecting shown");
    sync.reconnectNow();
    await until(() => daemon.streams.length === 2, "reconnected");
    daemon.watch(1).send({
      event: { id: "11", experiment_id: "1", type: "Updated" },
      experiment: { id: "1", name: "a-renamed", update_time: "2026-01-01T00:01:00Z" },
    });
    await until(() => store.get("1")?.name === "a-renamed", "the change made while away");
    expect(daemon.watch(1).sinceRevision).toBe(10);
    expect(store.connection.status).toBe("live");
    expect(daemon.count("GET /api/experiments:stream")).toBe(1);
  });

  it("watches from the revision read before the list, so changes made while it loads are replayed", async () => {
    daemon.health = { status: "SERVING", revision: "10" };
    // An event newer than health's revision: made while the list was read.
    daemon.events = [{ id: "12", experiment_id: "1", type: "Updated" }];
    daemon.experiments = [{ id: "1", name: "a" }];
    void sync.start();
    await until(() => daemon.streams.length === 1, "watch opened");
    expect(daemon.watch(0).sinceRevision).toBe(10);
  });

  it("loads each experiment's newest job with the list, in one request however many", async () => {
    for (let i = 1; i <= 2500; i++) {
      daemon.experiments.push({ id: String(i), name: `e${i}`, job_count: 2 });
      daemon.latestJobs.push({ id: String(1000 + i), experiment_id: String(i), status: "SUCCEEDED" });
    }
    void sync.start();
    await until(() => daemon.streams.length === 1, "watch opened");
    expect(store.experiments.size).toBe(2500);
    expect(store.jobs.size).toBe(2500);
    expect(store.jobOf({ id: "7" })?.id).toBe("1007");
    expect(store.jobOf({ id: "2345" })?.id).toBe("3345");
    // Three pages of 1,000, one request.
    expect(daemon.count("GET /api/experiments:stream")).toBe(1);
    expect(daemon.count("GET /api/experiments")).toBe(0);
    expect(daemon.count(/^GET \/api\/experiments\/[^/]+\/jobs$/)).toBe(0);
  });
});
