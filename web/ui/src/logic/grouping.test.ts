import { describe, expect, it } from "vitest";
import type { Experiment, Job } from "../api/types";
import {
  countByState,
  EMPTY_FILTER,
  filterExperiments,
  filterToApi,
  groupByLabel,
  labelKeys,
  matchesApiFilter,
  matchesSearch,
  naturalCompare,
  searchText,
  searchWords,
  selectedCount,
  sortExperiments,
} from "./grouping";
import searchCases from "../../../../tests/golden/search.json";
import { parseLabelSelector } from "./labelSelector";

function exp(id: number, name: string, labels: Record<string, string> = {}, extra: Experiment = {}): Experiment {
  return { id: String(id), name, labels, desired_state: "STOPPED", observed_state: "IDLE", ...extra };
}

const exps = [
  exp(1, "lr-10", { sweep: "lr", team: "nlp" }, { flags: { lr: { double_value: 0.1 } } }),
  exp(2, "lr-2", { sweep: "lr" }, { observed_state: "RUNNING", desired_state: "RUNNING" }),
  exp(3, "bs-1", { sweep: "bs" }, { base_command: "python train.py" }),
  exp(4, "solo"),
  exp(5, "gone", { sweep: "lr" }, { delete_time: "2026-01-01T00:00:00Z" }),
];

describe("groupByLabel", () => {
  it("groups by the label value in natural order, unlabeled last", () => {
    const groups = groupByLabel(exps.slice(0, 4), "sweep");
    expect(groups.map((g) => g.title)).toEqual(["sweep=bs", "sweep=lr", "no sweep"]);
    expect(groups[1].experiments.map((e) => e.name)).toEqual(["lr-10", "lr-2"]);
    expect(groups[2].value).toBeNull();
    expect(new Set(groups.map((g) => g.id)).size).toBe(3);
  });
  it("makes one group without a key", () => {
    const groups = groupByLabel(exps, "");
    expect(groups).toHaveLength(1);
    expect(groups[0].experiments).toHaveLength(5);
  });
  it("omits the unlabeled group when everyone has the label", () => {
    expect(groupByLabel(exps.slice(0, 2), "sweep").map((g) => g.title)).toEqual(["sweep=lr"]);
  });
  it("lists label keys in use", () => {
    expect(labelKeys(exps)).toEqual(["sweep", "team"]);
  });
});

describe("filterExperiments", () => {
  const names = (f: Partial<typeof EMPTY_FILTER>) => filterExperiments(exps, { ...EMPTY_FILTER, ...f }).experiments.map((e) => e.name);
  it("hides archived experiments unless asked", () => {
    expect(names({})).not.toContain("gone");
    expect(names({ showDeleted: true })).toContain("gone");
  });
  it("matches every word of the text in name, command, labels and flags", () => {
    expect(names({ text: "lr" })).toEqual(["lr-10", "lr-2"]);
    expect(names({ text: "train.py" })).toEqual(["bs-1"]);
    expect(names({ text: "team=nlp" })).toEqual(["lr-10"]);
    expect(names({ text: "lr=0.1" })).toEqual(["lr-10"]);
    expect(names({ text: "lr nomatch" })).toEqual([]);
  });
  it("filters by desired and observed state", () => {
    expect(names({ desired: "RUNNING" })).toEqual(["lr-2"]);
    expect(names({ observed: "IDLE" })).toEqual(["lr-10", "bs-1", "solo"]);
  });
  it("filters by label selector and reports a bad one", () => {
    expect(names({ labelSelector: "sweep=lr" })).toEqual(["lr-10", "lr-2"]);
    expect(names({ labelSelector: "sweep in (bs, lr), !team" })).toEqual(["lr-2", "bs-1"]);
    const bad = filterExperiments(exps, { ...EMPTY_FILTER, labelSelector: "a b c" });
    expect(bad.error).toBe('label selector requirement "a b c": bad key "a b c"');
    expect(bad.experiments).toHaveLength(4);
  });
  it("answers the same array when nothing is filtered out, so derived views are kept", () => {
    const live = exps.filter((e) => !e.delete_time);
    expect(filterExperiments(live, EMPTY_FILTER).experiments).toBe(live);
    expect(filterExperiments(live, { ...EMPTY_FILTER, text: "lr" }).experiments).not.toBe(live);
  });
  it("reads an experiment's search text once, and again only for a new object", () => {
    const e = { ...exps[0] };
    expect(searchText(e)).toContain("lr-10");
    e.name = "renamed"; // the store never mutates; a change is a new object
    expect(searchText(e)).toContain("lr-10");
    expect(searchText({ ...e })).toContain("renamed");
  });
});

describe("parseLabelSelector", () => {
  const l = { sweep: "lr", team: "nlp" };
  it.each([
    ["", true],
    ["sweep=lr", true],
    ["sweep==lr", true],
    ["sweep!=lr", false],
    ["sweep!=bs", true],
    ["missing!=x", true],
    ["sweep in (a, lr)", true],
    ["sweep notin (a, lr)", false],
    ["missing notin (a)", true],
    ["team", true],
    ["!team", false],
    ["!other", true],
    ["sweep=lr,team=cv", false],
  ])("%j -> %s", (sel, want) => expect(parseLabelSelector(sel)(l)).toBe(want));
});

describe("sortExperiments", () => {
  const jobs: Record<string, Job> = {
    "1": { id: "10", status: "SUCCEEDED", start_time: "2026-01-01T00:00:00Z", end_time: "2026-01-01T01:00:00Z" },
    "2": { id: "11", status: "RUNNING", start_time: "2026-01-01T00:30:00Z" },
  };
  const ctx = { jobOf: (e: Experiment) => jobs[e.id!], now: Date.parse("2026-01-01T02:00:00Z") };
  const live = exps.slice(0, 4);
  it("sorts names naturally, both ways", () => {
    expect(sortExperiments(live, { key: "name", dir: 1 }, ctx).map((e) => e.name)).toEqual(["bs-1", "lr-2", "lr-10", "solo"]);
    expect(sortExperiments(live, { key: "name", dir: -1 }, ctx).map((e) => e.name)).toEqual(["solo", "lr-10", "lr-2", "bs-1"]);
  });
  it("puts missing values last in either direction", () => {
    expect(sortExperiments(live, { key: "duration", dir: 1 }, ctx).map((e) => e.id)).toEqual(["1", "2", "3", "4"]);
    expect(sortExperiments(live, { key: "duration", dir: -1 }, ctx).map((e) => e.id)).toEqual(["2", "1", "3", "4"]);
    expect(sortExperiments(live, { key: "flag:lr", dir: -1 }, ctx)[0].id).toBe("1");
  });
  it("sorts by id and state", () => {
    expect(sortExperiments(live, { key: "id", dir: -1 }, ctx).map((e) => e.id)).toEqual(["4", "3", "2", "1"]);
    expect(sortExperiments(live, { key: "state", dir: 1 }, ctx)[0].name).toBe("lr-2");
  });
  it("counts by observed state, ignoring archived", () => {
    expect(countByState(exps)).toEqual({ IDLE: 3, RUNNING: 1 });
  });
  it("compares naturally", () => {
    expect(naturalCompare("run-2", "run-10")).toBeLessThan(0);
  });
});

describe("search (the cases the daemon's ExperimentFilter.text is tested against)", () => {
  // The golden file holds unix ms; the API holds RFC 3339.
  const golden = searchCases.experiments.map(({ state_since_ms, ...e }) => ({
    ...(e as Experiment),
    state_since: new Date(state_since_ms).toISOString(),
  }));
  it.each(searchCases.cases)("$search", ({ search, matches }) => {
    const words = searchWords(search);
    const got = golden.filter((e) => matchesSearch(e, words, searchCases.now_ms)).map((e) => e.id);
    expect(got).toEqual(matches);
  });
});

describe("matchesApiFilter", () => {
  it("applies every field of the API filter to live experiments", () => {
    expect(exps.filter((e) => matchesApiFilter(e, { label_selector: "sweep=lr" })).map((e) => e.name)).toEqual(["lr-10", "lr-2"]);
    expect(exps.filter((e) => matchesApiFilter(e, { observed_states: ["RUNNING"] })).map((e) => e.name)).toEqual(["lr-2"]);
    expect(exps.filter((e) => matchesApiFilter(e, { text: "TRAIN" })).map((e) => e.name)).toEqual(["bs-1"]);
    expect(exps.filter((e) => matchesApiFilter(e, {})).length).toBe(4);
  });
  it("is what filterToApi of a dashboard filter selects, archived aside", () => {
    const f = { ...EMPTY_FILTER, labelSelector: "sweep=lr", text: "lr", showDeleted: true };
    const shown = filterExperiments(exps, f).experiments.filter((e) => !e.delete_time);
    expect(exps.filter((e) => matchesApiFilter(e, filterToApi(f)))).toEqual(shown);
  });
});

describe("stars, order and time in state", () => {
  const now = Date.parse("2026-01-01T12:00:00Z");
  const marked = [
    exp(1, "a", { sweep: "lr" }, { starred: true, position: 3, observed_state: "PENDING", state_since: "2026-01-01T11:00:00Z" }),
    exp(2, "b", { sweep: "lr" }, { position: 1, observed_state: "RUNNING", state_since: "2026-01-01T11:59:00Z" }),
    exp(3, "c", { sweep: "bs" }, { starred: true, observed_state: "PENDING", state_since: "2026-01-01T11:50:00Z" }),
  ];
  const ctx = { jobOf: () => undefined, now };

  it("filters starred experiments, and sends the same filter to the daemon", () => {
    const f = { ...EMPTY_FILTER, starred: true };
    expect(filterExperiments(marked, f, now).experiments.map((e) => e.name)).toEqual(["a", "c"]);
    expect(filterToApi(f)).toEqual({ starred: true });
    expect(marked.filter((e) => matchesApiFilter(e, filterToApi(f), now)).map((e) => e.name)).toEqual(["a", "c"]);
    expect(filterToApi(EMPTY_FILTER)).toEqual({});
  });

  it("filters by time in state with the search's words", () => {
    const f = { ...EMPTY_FILTER, text: "pending>30m" };
    expect(filterExperiments(marked, f, now).experiments.map((e) => e.name)).toEqual(["a"]);
    expect(filterExperiments(marked, { ...f, text: "pending>5m sweep=bs" }, now).experiments.map((e) => e.name)).toEqual(["c"]);
    expect(marked.filter((e) => matchesApiFilter(e, filterToApi(f), now)).map((e) => e.name)).toEqual(["a"]);
  });

  it("sorts by position (the id when never moved) and by time in state", () => {
    expect(sortExperiments(marked, { key: "order", dir: 1 }, ctx).map((e) => e.name)).toEqual(["b", "a", "c"]);
    expect(sortExperiments(marked, { key: "since", dir: -1 }, ctx).map((e) => e.name)).toEqual(["a", "c", "b"]);
    // The order within a group is the global order restricted to it.
    const groups = groupByLabel(sortExperiments(marked, { key: "order", dir: 1 }, ctx), "sweep");
    expect(groups.map((g) => g.experiments.map((e) => e.name))).toEqual([["c"], ["b", "a"]]);
  });
});

describe("selectedCount", () => {
  it("counts the ids that are selected", () => {
    expect(selectedCount(["1", "2", "3"], new Set(["2", "3", "9"]))).toBe(2);
    expect(selectedCount(["1", "2"], new Set(["1", "2"]))).toBe(2);
  });
  it("is 0 with nothing selected or no ids", () => {
    expect(selectedCount(["1", "2"], new Set())).toBe(0);
    expect(selectedCount([], new Set(["1"]))).toBe(0);
  });
});
