import { describe, expect, it } from "vitest";
import type { Experiment, FlagMap } from "../api/types";
import { differingFlags, flagColumnLayout } from "./flagColumns";

const e = (flags: FlagMap): Experiment => ({ flags });

describe("differingFlags", () => {
  it("keeps only flags whose values differ within the group", () => {
    const group = [
      e({ "trainer.lr": { double_value: 0.1 }, "model.layers": { int_value: "12" }, seed: { int_value: "1" } }),
      e({ "trainer.lr": { double_value: 0.01 }, "model.layers": { int_value: "12" }, seed: { int_value: "1" } }),
    ];
    expect(differingFlags(group)).toEqual(["trainer.lr"]);
  });
  it("counts a flag missing on some experiments as differing", () => {
    expect(differingFlags([e({ amp: { bool_value: true } }), e({})])).toEqual(["amp"]);
  });
  it("tells 4 from 4.0 and \"4\"", () => {
    expect(differingFlags([e({ x: { int_value: "4" } }), e({ x: { double_value: 4 } })])).toEqual(["x"]);
    expect(differingFlags([e({ x: { int_value: "4" } }), e({ x: { string_value: "4" } })])).toEqual(["x"]);
  });
  it("has nothing to compare in a group of one", () => {
    expect(differingFlags([e({ a: { int_value: "1" } })])).toEqual([]);
    expect(differingFlags([])).toEqual([]);
  });
  it("sorts keys bytewise so dotted groups are contiguous", () => {
    const group = [
      e({ "trainer.lr": { double_value: 1 }, amp: { bool_value: true }, "trainer.bs": { int_value: "1" }, "model.d": { int_value: "1" } }),
      e({}),
    ];
    expect(differingFlags(group)).toEqual(["amp", "model.d", "trainer.bs", "trainer.lr"]);
  });
});

describe("flagColumnLayout", () => {
  it("groups dotted names under one header cell", () => {
    const { columns, groups } = flagColumnLayout(["amp", "model.d", "trainer.bs", "trainer.lr"]);
    expect(columns.map((c) => c.leaf)).toEqual(["amp", "d", "bs", "lr"]);
    expect(groups).toEqual([
      { prefix: "", span: 1 },
      { prefix: "model", span: 1 },
      { prefix: "trainer", span: 2 },
    ]);
  });
  it("uses everything before the last dot as the group", () => {
    const { columns, groups } = flagColumnLayout(["a.b.c", "a.b.d", "a.e"]);
    expect(columns.map((c) => [c.prefix, c.leaf])).toEqual([
      ["a.b", "c"],
      ["a.b", "d"],
      ["a", "e"],
    ]);
    expect(groups.map((g) => g.span)).toEqual([2, 1]);
  });
  it("treats a leading dot as part of the name", () => {
    expect(flagColumnLayout([".x"]).columns[0]).toEqual({ key: ".x", prefix: "", leaf: ".x" });
  });
  it("merges adjacent undotted names into one run", () => {
    expect(flagColumnLayout(["a", "b"]).groups).toEqual([{ prefix: "", span: 2 }]);
  });
});
