import { describe, expect, it } from "vitest";
import type { CommandFlagSchema, FlagMap } from "../api/types";
import { evaluateDraft, flagSuggestions, matchSuggestions, schemaLookup } from "./flagDraft";

const base: FlagMap = { "trainer.lr": { double_value: 0.001 }, layers: { int_value: "4" }, name: { string_value: "a" } };
const schemas: CommandFlagSchema[] = [
  {
    base_command: "python train.py",
    version: "1",
    flags: [
      { name: "trainer.lr", type: "FLOAT" },
      { name: "layers", type: "INT" },
      { name: "trainer.warmup", type: "INT", description: "warmup steps" },
    ],
  },
  { base_command: "python eval.py", flags: [{ name: "eval.split", type: "STRING" }, { name: "layers", type: "STRING" }] },
  {
    base_command: "python infer.py",
    inferred: true,
    flags: [
      { name: "layers", type: "INT", seen_values: [{ int_value: "4" }] },
      { name: "infer.batch", type: "INT", seen_values: [{ int_value: "32" }] },
    ],
  },
];

describe("evaluateDraft", () => {
  const lookup = schemaLookup(flagSuggestions(schemas, "python train.py"));
  it("sends only changed keys, typed", () => {
    const r = evaluateDraft(base, { edits: { "trainer.lr": { text: "3e-4" }, layers: { text: "4" } }, removed: ["name"] }, lookup);
    expect(r.set).toEqual({ "trainer.lr": { double_value: 0.0003 } });
    expect(r.unset).toEqual(["name"]);
    expect(r.errors).toEqual({});
    expect(r.dirty).toBe(true);
  });
  it("widens an int typed for a float flag", () => {
    expect(evaluateDraft(base, { edits: { "trainer.lr": { text: "1" } }, removed: [] }, lookup).set).toEqual({
      "trainer.lr": { double_value: 1 },
    });
  });
  it("reports type errors inline but still sends the value for the server to judge", () => {
    const r = evaluateDraft(base, { edits: { layers: { text: "many" } }, removed: [] }, lookup);
    expect(r.errors.layers).toBe('flag layers: expected int, got string "many"');
    expect(r.set).toEqual({ layers: { string_value: "many" } });
  });
  it("normalises to the declared type, so an equal value is no change", () => {
    expect(evaluateDraft(base, { edits: { layers: { text: "4.0" } }, removed: [] }, lookup).dirty).toBe(false);
    expect(evaluateDraft(base, { edits: { layers: { text: "8.0" } }, removed: [] }, lookup).set).toEqual({ layers: { int_value: "8" } });
  });
  it("never checks or coerces against an inferred schema", () => {
    const inferred = schemaLookup(flagSuggestions(schemas, "python infer.py"));
    expect(inferred("layers")).toBeUndefined();
    const r = evaluateDraft(base, { edits: { layers: { text: "many" }, "infer.batch": { text: "4.0" } }, removed: [] }, inferred);
    expect(r.errors).toEqual({});
    expect(r.set).toEqual({ layers: { string_value: "many" }, "infer.batch": { double_value: 4 } });
  });
  it("reports bad keys", () => {
    const r = evaluateDraft(base, { edits: { "bad key": { text: "1" } }, removed: [] }, lookup);
    expect(r.errors["bad key"]).toMatch(/must match/);
    expect(r.set).toEqual({ "bad key": { int_value: "1" } });
  });
  it("is clean when nothing changed", () => {
    expect(evaluateDraft(base, { edits: { layers: { text: "4" } }, removed: ["unknown"] }, lookup).dirty).toBe(false);
  });
  it("honours := for a string", () => {
    expect(evaluateDraft({}, { edits: { tag: { text: "42", forceString: true } }, removed: [] }, () => undefined).set).toEqual({
      tag: { string_value: "42" },
    });
  });
});

describe("suggestions", () => {
  const all = flagSuggestions(schemas, "python train.py");
  it("prefers the experiment's own command's schema", () => {
    expect(all.find((s) => s.schema.name === "layers")?.schema.type).toBe("INT");
    expect(all.find((s) => s.schema.name === "eval.split")?.sameCommand).toBe(false);
  });
  it("types only with the own command's schema", () => {
    const lookup = schemaLookup(all);
    expect(lookup("layers")?.type).toBe("INT");
    expect(lookup("eval.split")).toBeUndefined();
  });
  it("offers inferred flags for typeahead, marked as inferred", () => {
    const infer = flagSuggestions(schemas, "python infer.py");
    const batch = infer.find((s) => s.schema.name === "infer.batch");
    expect(batch).toMatchObject({ sameCommand: true, inferred: true });
    expect(batch?.schema.seen_values).toEqual([{ int_value: "32" }]);
    expect(all.find((s) => s.schema.name === "layers")?.inferred).toBe(false);
  });
  it("matches prefixes, dotted segments, then substrings, excluding keys already set", () => {
    const names = (q: string, exclude: string[] = []) => matchSuggestions(all, q, new Set(exclude)).map((s) => s.schema.name);
    expect(names("tr")).toEqual(["trainer.lr", "trainer.warmup"]);
    expect(names("warm")).toEqual(["trainer.warmup"]);
    expect(names("split")).toEqual(["eval.split"]);
    expect(names("ai")).toEqual(["trainer.lr", "trainer.warmup"]);
    expect(names("", ["layers", "trainer.lr"])).toEqual(["trainer.warmup", "eval.split", "infer.batch"]);
  });
});
