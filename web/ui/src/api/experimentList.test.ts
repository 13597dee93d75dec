import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FakeDaemon } from "../live/testing/fakeDaemon";
import { ApiError } from "./client";
import { LIST_PAGE_SIZE, loadExperimentList } from "./experimentList";

describe("loadExperimentList", () => {
  let daemon: FakeDaemon;

  beforeEach(() => {
    daemon = new FakeDaemon();
    vi.stubGlobal("fetch", daemon.fetch);
    for (let i = 1; i <= 2 * LIST_PAGE_SIZE + 500; i++) {
      daemon.experiments.push({ id: String(i), name: `e${i}` });
      if (i % 2 === 0) daemon.latestJobs.push({ id: String(10_000 + i), experiment_id: String(i) });
    }
  });

  afterEach(() => vi.unstubAllGlobals());

  it("reads every page of the list from one stream", async () => {
    const list = await loadExperimentList();
    expect(list.experiments.map((e) => e.id)).toEqual(daemon.experiments.map((e) => e.id));
    expect(list.latestJobs).toEqual(daemon.latestJobs);
    expect(daemon.requests).toEqual(["GET /api/experiments:stream"]);
  });

  it("resumes a stream cut short after the last page it sent", async () => {
    daemon.listPagesBeforeCut = 1;
    const list = await loadExperimentList();
    // Each stream sends one page: three requests, nothing twice, nothing missed.
    expect(list.experiments.map((e) => e.id)).toEqual(daemon.experiments.map((e) => e.id));
    expect(list.latestJobs.length).toBe(daemon.latestJobs.length);
    expect(daemon.requests.length).toBe(3);
  });

  it("gives up when streams keep ending before their last page", async () => {
    daemon.listPagesBeforeCut = 0;
    const failed = loadExperimentList();
    await expect(failed).rejects.toBeInstanceOf(ApiError);
    await expect(failed).rejects.toThrow(/ended early 4 times/);
    expect(daemon.requests.length).toBe(4);
  });

  it("reads an empty list as one empty last page", async () => {
    daemon.experiments = [];
    daemon.latestJobs = [];
    expect(await loadExperimentList()).toEqual({ experiments: [], latestJobs: [] });
  });
});
