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

  for (const how of ["end", "break"] as const) {
    it(`resumes a stream cut short (${how}) after the last page it sent, however often it brought pages`, async () => {
      // Six pages, each stream cut after one: more cuts than MAX_RESUMES,
      // but every stream made progress.
      for (let i = daemon.experiments.length + 1; i <= 6 * LIST_PAGE_SIZE; i++) daemon.experiments.push({ id: String(i), name: `e${i}` });
      daemon.listCut = { pages: 1, how };
      const list = await loadExperimentList();
      // Nothing twice, nothing missed: six requests.
      expect(list.experiments.map((e) => e.id)).toEqual(daemon.experiments.map((e) => e.id));
      expect(list.latestJobs.length).toBe(daemon.latestJobs.length);
      expect(daemon.requests.length).toBe(6);
    });
  }

  it("gives up when streams keep ending without a page", async () => {
    daemon.listCut = { pages: 0, how: "end" };
    const failed = loadExperimentList();
    await expect(failed).rejects.toBeInstanceOf(ApiError);
    await expect(failed).rejects.toThrow(/cut short 4 times in a row without a page/);
    expect(daemon.requests.length).toBe(4);
  });

  it("fails at once when the connection breaks before any page", async () => {
    daemon.listCut = { pages: 0, how: "break" };
    await expect(loadExperimentList()).rejects.toThrow(/cannot reach skydeckd/);
    expect(daemon.requests.length).toBe(1);
  });

  it("reads an empty list as one empty last page", async () => {
    daemon.experiments = [];
    daemon.latestJobs = [];
    expect(await loadExperimentList()).toEqual({ experiments: [], latestJobs: [] });
  });
});
