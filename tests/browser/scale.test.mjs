// File: tests/browser/scale.test.mjs
//
// The dashboard at scale, in Debian's headless Chromium (playwright-core):
// the same page loaded from two daemons, one seeded with few experiments and
// one with many (each with several ended jobs; run_scale_test.py seeds them
// with bench/seed_dashboard), and measured:
//   - requests on load: the same number at either size. The list comes in
//     one streamed request (GET /api/experiments:stream) however long, and
//     nothing is fetched per experiment (each one's newest job comes with
//     the list);
//   - rows in the DOM: bounded (only the rows near the viewport);
//   - first useful paint: from the last list answer to the first rows
//     painted;
//   - scrolling: frame intervals while the table scrolls 400 px a frame,
//     and that it went as far as asked (not pulled back by corrections);
//   - keystroke to paint: typing a search, clearing it (and how many rows
//     that built against how many it shows), filtering by observed state,
//     regrouping.
// Prints one `FIGURES {...}` line per size (bench/dashboard_scale.py reads
// them). With SCALE_ASSERT=0 it only measures (for the baseline build).
//
// Environment (run_scale_test.py sets it up):
//   SKYDECK_HTTP_SMALL, SKYDECK_HTTP_LARGE  the two daemons' base URLs
//   SCALE_SMALL, SCALE_LARGE  how many experiments each holds
//   SCALE_ASSERT    "0": measure only
//   SCALE_MAX_FRAME_MS, SCALE_MAX_KEY_MS, SCALE_MAX_PAINT_MS  bounds on the
//                   median scroll frame, the slowest keystroke and the first
//                   paint (defaults 34, 250, 2000: loose enough for a busy
//                   2-core CI machine; bench/README.md has the figures)
//   CHROMIUM        browser binary (default /usr/bin/chromium)
//
// Every wait is for a condition with a deadline; there are no fixed sleeps
// except the quiet period that decides the page has stopped requesting.

import assert from "node:assert/strict";
import test from "node:test";
import { CHROMIUM, CHROMIUM_FLAGS, loadPlaywright } from "./browser_kit.mjs";

const ASSERT = process.env.SCALE_ASSERT !== "0";
// Median frame interval while scrolling: two frames at most (60 Hz). The
// p95 is printed, not asserted: on a shared 2-core machine another
// process's burst shows up there.
const MAX_FRAME_MS = Number(process.env.SCALE_MAX_FRAME_MS ?? 34);
const MAX_KEY_MS = Number(process.env.SCALE_MAX_KEY_MS ?? 250);
const MAX_PAINT_MS = Number(process.env.SCALE_MAX_PAINT_MS ?? 2000);
const LOAD_WAIT_MS = 300_000; // the baseline at 10,000 takes long to show rows
const QUIET_MS = 1500; // no request for this long: the load is over
const MAX_SETTLE_MS = 10_000; // a page still requesting after this is counted as is
const MAX_DOM_ROWS = 200;
const ROUND_TRIPS = 6; // search-and-clear rounds from places down the list
const FROZEN_MS = 60_000; // a step in the page taking this long froze it
const LIST = /\/api\/experiments(:stream)?(\?|$)/;

/** `promise`, or a failure naming `what` when the page has not answered in FROZEN_MS. */
function bounded(promise, what) {
  let timer;
  const frozen = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the page froze: no answer in ${FROZEN_MS} ms while ${what}`)), FROZEN_MS);
  });
  return Promise.race([promise, frozen]).finally(() => clearTimeout(timer));
}

// Installed before the page's scripts: records when the first experiment row
// is painted (a row in the DOM, then the next frame).
function recordFirstRows() {
  window.__firstRowsPaint = 0;
  const seen = () => {
    if (window.__firstRowsPaint || !document.querySelector("tr[data-id]")) return false;
    requestAnimationFrame(() => setTimeout(() => (window.__firstRowsPaint = performance.now()), 0));
    return true;
  };
  new MutationObserver((_, obs) => seen() && obs.disconnect()).observe(document, { childList: true, subtree: true });
}

/** Loads the dashboard from `base` and measures it; returns the figures. */
async function measure(browser, base, n) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(LOAD_WAIT_MS);
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const requests = [];
    let lastRequest = Date.now();
    page.on("request", (r) => {
      requests.push(r.url());
      lastRequest = Date.now();
    });
    await page.addInitScript(recordFirstRows);
    await page.goto(base + "/");
    await page.waitForFunction(() => window.__firstRowsPaint > 0, null, { timeout: LOAD_WAIT_MS, polling: 50 });
    const settleStart = Date.now();
    while (Date.now() - lastRequest < QUIET_MS && Date.now() - settleStart < MAX_SETTLE_MS) {
      await new Promise((r) => setTimeout(r, 100));
    }
    // Health is polled every 10 s; a poll landing in the window is not load.
    const onLoad = requests.filter((u, i) => !/\/api\/health/.test(u) || requests.findIndex((v) => /\/api\/health/.test(v)) === i);
    // The list: one stream, or (an older bundle) a request per page of 1,000.
    const listRequests = onLoad.filter((u) => LIST.test(u)).length;
    // GET /api/experiments/{id} and anything under it.
    const perExperiment = onLoad.filter((u) => /\/api\/experiments\/[^/?]+(\/|\?|$)/.test(u)).length;

    const timing = await page.evaluate((list) => {
      const lists = performance.getEntriesByType("resource").filter((e) => new RegExp(list).test(e.name));
      const listEnd = Math.max(...lists.map((e) => e.responseEnd));
      return { listAnswerMs: listEnd, paintAfterListMs: window.__firstRowsPaint - listEnd };
    }, LIST.source);
    const domRows = await page.locator("tr[data-id]").count();

    // The newest job of a shown experiment is in its row, as the API says.
    const first = page.locator("tr[data-id]").first();
    const id = await first.getAttribute("data-id");
    const jobs = await (await fetch(`${base}/api/experiments/${id}/jobs?page_size=1`)).json();
    const jobCell = (await first.locator("td.job").innerText()).trim();

    const scroll = await page.evaluate(async () => {
      const el = document.querySelector("main.content");
      const deltas = [];
      const startTop = el.scrollTop;
      let requested = 0;
      await new Promise((done) => {
        let last = 0;
        const step = (ts) => {
          if (last) deltas.push(ts - last);
          last = ts;
          requested += Math.min(400, el.scrollHeight - el.clientHeight - el.scrollTop);
          el.scrollTop += 400;
          if (deltas.length < 120 && el.scrollTop + el.clientHeight < el.scrollHeight) requestAnimationFrame(step);
          else done();
        };
        requestAnimationFrame(step);
      });
      // After the scroll the viewport shows rows, not blank spacer.
      const box = el.getBoundingClientRect();
      const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
      deltas.sort((a, b) => a - b);
      const q = (p) => deltas[Math.min(deltas.length - 1, Math.floor(p * deltas.length))] ?? NaN;
      // How far the table went of how far it was asked to: rows measured at
      // another height than expected each corrected the position back.
      const travelled = requested > 0 ? (el.scrollTop - startTop) / requested : 1;
      return { frames: deltas.length, p50: q(0.5), p95: q(0.95), max: deltas.at(-1) ?? NaN, rowInView: !!hit?.closest("tr[data-id], .group-head"), travelled };
    });

    // Keystroke to paint: the change, then the frame after it is painted.
    const keys = await bounded(page.evaluate(async () => {
      const nextPaint = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      const timed = async (act) => {
        const t0 = performance.now();
        act();
        await nextPaint();
        return performance.now() - t0;
      };
      const input = (el, value) => {
        el.value = value;
        el.dispatchEvent(new Event("input", { bubbles: true }));
      };
      const select = (el, value) => {
        el.value = value;
        el.dispatchEvent(new Event("change", { bubbles: true }));
      };
      const search = document.querySelector("[data-testid=search]");
      const typing = [];
      const text = "exp-12";
      for (let i = 1; i <= text.length; i++) typing.push(await timed(() => input(search, text.slice(0, i))));
      const searchRows = document.querySelectorAll("tr[data-id]").length;
      // Rows built by clearing the search, against the rows it shows: a
      // group that the rows above pushed away must not render rows where
      // it was (built, laid out and thrown away in the same keystroke).
      let clearRowsBuilt = 0;
      const count = (records) => {
        for (const r of records) {
          for (const n of r.addedNodes) {
            if (n.nodeType !== Node.ELEMENT_NODE) continue;
            clearRowsBuilt += (n.matches("tr[data-id]") ? 1 : 0) + n.querySelectorAll("tr[data-id]").length;
          }
        }
      };
      const built = new MutationObserver(count);
      built.observe(document.querySelector("main.content"), { childList: true, subtree: true });
      const clear = await timed(() => input(search, ""));
      count(built.takeRecords());
      built.disconnect();
      const clearRows = document.querySelectorAll("tr[data-id]").length;
      const observed = document.querySelectorAll(".toolbar select")[1];
      const state = [...observed.options].map((o) => o.value).find((v) => v) ?? "";
      const filter = await timed(() => select(observed, state));
      const unfilter = await timed(() => select(observed, ""));
      const groupBy = document.querySelector("[data-testid=group-by]");
      const regroup = await timed(() => select(groupBy, "group"));
      const ungroup = await timed(() => select(groupBy, ""));
      return { typingMax: Math.max(...typing), typingMedian: typing.sort((a, b) => a - b)[typing.length >> 1], clear, filter, unfilter, regroup, ungroup, searchRows, clearRows, clearRowsBuilt };
    }), "keystrokes");
    // Search and clear again from places down the list. Once this froze
    // the page: rows whose height followed the column widths (set by the
    // rows on screen) kept changing which rows were on screen, in one
    // endless task. A frozen page never answers, so the wait is bounded.
    const roundTrips = await bounded(
      page.evaluate(async (rounds) => {
        const nextPaint = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
        const el = document.querySelector("main.content");
        const search = document.querySelector("[data-testid=search]");
        const input = (value) => {
          search.value = value;
          search.dispatchEvent(new Event("input", { bubbles: true }));
        };
        for (let round = 0; round < rounds; round++) {
          el.scrollTop = (round * 7919) % el.scrollHeight;
          await nextPaint();
          for (const text of ["e", "exp", "exp-1", "exp-12"]) {
            input(text);
            await nextPaint();
          }
          input("");
          await nextPaint();
        }
        return document.querySelectorAll("tr[data-id]").length > 0 ? "done" : "no rows";
      }, ROUND_TRIPS),
      "searching and clearing from places down the list",
    );
    return {
      experiments: n,
      requestsOnLoad: onLoad.length,
      listRequests,
      perExperiment,
      otherRequests: onLoad.length - listRequests,
      ...timing,
      domRows,
      newestJobShown: (jobs.jobs ?? []).length === 0 || jobCell.includes(`#${jobs.jobs[0].id}`),
      scroll,
      keys,
      roundTrips,
      pageErrors: errors,
    };
  } finally {
    await context.close();
  }
}

test("dashboard at scale", { timeout: 1_800_000 }, async (t) => {
  const small = { base: process.env.SKYDECK_HTTP_SMALL, n: Number(process.env.SCALE_SMALL) };
  const large = { base: process.env.SKYDECK_HTTP_LARGE, n: Number(process.env.SCALE_LARGE) };
  assert.ok(small.base && large.base && small.n && large.n, "run through run_scale_test.py");
  const { chromium } = loadPlaywright();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  t.after(() => browser.close());

  const figures = [];
  for (const { base, n } of [small, large]) {
    const f = await measure(browser, base, n);
    console.log(`FIGURES ${JSON.stringify(f)}`);
    figures.push(f);
  }
  if (!ASSERT) return;
  const [s, l] = figures;
  for (const f of figures) {
    assert.deepEqual(f.pageErrors, [], `page errors at ${f.experiments}`);
    assert.equal(f.listRequests, 1, `list requests at ${f.experiments}`);
    assert.ok(f.newestJobShown, `the newest job is shown in its row at ${f.experiments}`);
    assert.ok(f.scroll.rowInView, `rows in view after scrolling at ${f.experiments}`);
    assert.equal(f.roundTrips, "done", `rows after searching from places down the list at ${f.experiments}`);
  }
  // The load's requests do not grow with the number of experiments.
  assert.equal(l.perExperiment, 0, "no request per experiment");
  assert.equal(l.requestsOnLoad, s.requestsOnLoad, `requests on load: ${s.requestsOnLoad} at ${s.n} vs ${l.requestsOnLoad} at ${l.n}`);
  assert.ok(l.domRows <= MAX_DOM_ROWS, `${l.domRows} rows in the DOM at ${l.experiments}`);
  assert.ok(l.paintAfterListMs < MAX_PAINT_MS, `first rows ${l.paintAfterListMs} ms after the list`);
  assert.ok(l.scroll.p50 <= MAX_FRAME_MS, `scroll frames p50 ${l.scroll.p50} ms (p95 ${l.scroll.p95})`);
  // Counts, not times, so a busy machine does not move them.
  assert.ok(l.scroll.travelled >= 0.9, `the table scrolled ${(l.scroll.travelled * 100).toFixed(0)}% of the distance asked`);
  assert.ok(
    l.keys.clearRowsBuilt <= l.keys.clearRows * 1.5,
    `clearing the search built ${l.keys.clearRowsBuilt} rows to show ${l.keys.clearRows}`,
  );
  for (const k of ["typingMax", "clear", "filter", "unfilter", "regroup", "ungroup"]) {
    assert.ok(l.keys[k] < MAX_KEY_MS, `${k} took ${l.keys[k]} ms`);
  }
});
