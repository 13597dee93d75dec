// File: api/experimentList.ts
//
// Every experiment in one request: StreamExperiments through the bridge
// (GET /api/experiments:stream), one Server-Sent Event per page of 1,000,
// each page with the newest job of its experiments (latest_jobs). The
// request count of a dashboard load therefore does not depend on how many
// experiments there are. Each page names where the next begins; the last
// names nothing, so a stream that ends before it (or breaks off after a
// page) was cut short, and is resumed after the last page it sent.
//
//   const { experiments, latestJobs } = await loadExperimentList();

import { ApiError, query } from "./client";
import { streamSse } from "./sse";
import type { Experiment, Job, ListExperimentsResponse } from "./types";
import { parseApiJson } from "./wire";

/** Experiments per event: the most a page may hold. */
export const LIST_PAGE_SIZE = 1000;
/** Streams in a row cut short without a page, each resumed, before the load gives up. */
const MAX_RESUMES = 3;

/** The whole list: the experiments and the newest job of each that has one. */
export interface ExperimentList {
  experiments: Experiment[];
  latestJobs: Job[];
}

/**
 * Reads the whole list. Rejects with ApiError when the daemon refuses or
 * cannot be reached, or when the stream keeps ending early.
 */
export async function loadExperimentList(includeDeleted = false): Promise<ExperimentList> {
  const list: ExperimentList = { experiments: [], latestJobs: [] };
  let token = "";
  for (let fruitless = 0; ; ) {
    const next = await readFrom(token, includeDeleted, list);
    if (next === undefined) return list;
    // A stream that brought pages before it was cut starts the count over.
    fruitless = next === token ? fruitless + 1 : 0;
    if (fruitless > MAX_RESUMES) {
      throw new ApiError(0, "UNAVAILABLE", `the experiment list was cut short ${fruitless} times in a row without a page`);
    }
    token = next;
  }
}

/**
 * One stream from `token` (after that id; "" from the start), appending its
 * pages to `list`. Returns undefined when the last page arrived, else the
 * token to resume from: the stream ended early, or broke off (the network)
 * after bringing a page. Rejects as streamSse does otherwise: an HTTP error,
 * the daemon's `event: error`, or no connection before any page.
 */
async function readFrom(token: string, includeDeleted: boolean, list: ExperimentList): Promise<string | undefined> {
  let done = false;
  let resumeAt = token;
  const path = `/api/experiments:stream${query({
    page_size: LIST_PAGE_SIZE,
    page_token: token,
    include_deleted: includeDeleted,
    include_latest_jobs: true,
  })}`;
  try {
    await streamSse(path, {
      signal: new AbortController().signal,
      onMessage: (msg) => {
        if (done) return;
        const page = parseApiJson(msg.data) as ListExperimentsResponse;
        for (const e of page.experiments ?? []) list.experiments.push(e);
        for (const j of page.latest_jobs ?? []) list.latestJobs.push(j);
        resumeAt = page.next_page_token ?? "";
        done = resumeAt === "";
      },
    });
  } catch (err) {
    // Broken off by the network (status 0, not the daemon's error event)
    // after at least a page: go on from there rather than start over.
    if (done) return undefined; // the last page came: the list is whole
    const brokenOff = err instanceof ApiError && err.status === 0 && err.code === "UNAVAILABLE";
    if (!brokenOff || resumeAt === token) throw err;
  }
  return done ? undefined : resumeAt;
}
