import { describe, expect, it } from "vitest";
import golden from "../../../../tests/golden/flag_text.json";
import type { FlagValue } from "../api/types";
import { formatFlagValue } from "./format";
import {
  flagEditText,
  flagKeyError,
  parseFlagAssignment,
  parseFlagLines,
  parseFlagValueText,
  parseLabels,
  renderCommand,
  typeFlagText,
} from "./flagText";

describe("parseFlagValueText types text like the CLI", () => {
  it.each([
    ["true", { bool_value: true }],
    ["False", { bool_value: false }],
    ["4", { int_value: "4" }],
    ["-12", { int_value: "-12" }],
    ["+7", { int_value: "7" }],
    ["9223372036854775807", { int_value: "9223372036854775807" }],
    ["3e-4", { double_value: 0.0003 }],
    ["0.5", { double_value: 0.5 }],
    ["1.", { double_value: 1 }],
    [".5", { double_value: 0.5 }],
    ["9223372036854775808", { string_value: "9223372036854775808" }], // beyond int64: its digits, as the CLI
    ["adam", { string_value: "adam" }],
    ["nan", { string_value: "nan" }],
    ["inf", { string_value: "inf" }],
    ["0x10", { string_value: "0x10" }],
    ["1-2", { string_value: "1-2" }],
    ["", { string_value: "" }],
    ['"42"', { string_value: "42" }],
    ["'true'", { string_value: "true" }],
  ])("%j", (text, want) => expect(parseFlagValueText(text)).toEqual(want));
});

describe("parseFlagAssignment", () => {
  it("splits key=value and types the value", () => {
    expect(parseFlagAssignment("model.layers=4")).toEqual(["model.layers", { int_value: "4" }]);
    expect(parseFlagAssignment("trainer.lr=3e-4")).toEqual(["trainer.lr", { double_value: 0.0003 }]);
    expect(parseFlagAssignment("ppo.enabled=true")).toEqual(["ppo.enabled", { bool_value: true }]);
    expect(parseFlagAssignment("expr=a=b")).toEqual(["expr", { string_value: "a=b" }]);
  });
  it("keeps k:=v a string", () => {
    expect(parseFlagAssignment("tag:=42")).toEqual(["tag", { string_value: "42" }]);
    expect(parseFlagAssignment("flag:=true")).toEqual(["flag", { string_value: "true" }]);
  });
  it("refuses text without '=' or with an empty key", () => {
    expect(() => parseFlagAssignment("lr")).toThrow(/key=value/);
    expect(() => parseFlagAssignment("=4")).toThrow(/empty key/);
  });
  it("reads one assignment per line", () => {
    const { flags, errors } = parseFlagLines("a=1\n\n# comment\nb:=2\nbad\n");
    expect(flags).toEqual({ a: { int_value: "1" }, b: { string_value: "2" } });
    expect(errors).toHaveLength(1);
  });
});

describe("flag keys", () => {
  it("follows the daemon's rule", () => {
    expect(flagKeyError("trainer.lr")).toBe("");
    expect(flagKeyError("_x-1.y")).toBe("");
    expect(flagKeyError("bad key")).toMatch(/must match/);
    expect(flagKeyError("1lr")).toMatch(/must match/);
    expect(flagKeyError("a".repeat(129))).toMatch(/128/);
  });
});

describe("flagEditText round-trips through typing", () => {
  it.each([
    [{ string_value: "42" }],
    [{ string_value: "true" }],
    [{ string_value: 'say "hi"' }],
    [{ string_value: "adam" }],
    [{ int_value: "4" }],
    [{ double_value: 4 }],
    [{ bool_value: false }],
  ])("%j", (v) => expect(parseFlagValueText(flagEditText(v))).toEqual(v));
});

describe("typeFlagText against a declared schema", () => {
  const lr = { name: "lr", type: "FLOAT" as const };
  const layers = { name: "layers", type: "INT" as const, min: 1, max: 96 };
  it("types like the CLI without a schema", () => {
    expect(typeFlagText("4")).toEqual({ value: { int_value: "4" }, error: "" });
    expect(typeFlagText("four")).toEqual({ value: { string_value: "four" }, error: "" });
  });
  it("normalises like the daemon: ints widen to floats, integral floats and integer text narrow to ints", () => {
    expect(typeFlagText("1", lr)).toEqual({ value: { double_value: 1 }, error: "" });
    expect(typeFlagText("4.0", layers)).toEqual({ value: { int_value: "4" }, error: "" });
    expect(typeFlagText('"4"', layers)).toEqual({ value: { int_value: "4" }, error: "" });
    expect(typeFlagText("4", layers, true)).toEqual({ value: { int_value: "4" }, error: "" });
    expect(typeFlagText("'0.5'", lr)).toEqual({ value: { double_value: 0.5 }, error: "" });
    expect(typeFlagText("TRUE", { name: "amp", type: "BOOL" })).toEqual({ value: { bool_value: true }, error: "" });
    expect(typeFlagText("0", { name: "amp", type: "BOOL" })).toEqual({ value: { bool_value: false }, error: "" });
  });
  it("reports what the daemon would refuse, in its words", () => {
    expect(typeFlagText("four", layers).error).toBe('flag layers: expected int, got string "four"');
    expect(typeFlagText("0.5", layers).error).toBe("flag layers: expected int, got float 0.5");
    expect(typeFlagText("fast", lr).error).toBe('flag lr: expected float, got string "fast"');
    expect(typeFlagText("yes", { name: "amp", type: "BOOL" }).error).toMatch(/expected bool/);
  });
  it("checks ranges and choices", () => {
    expect(typeFlagText("0", layers).error).toBe("flag layers: expected int in [1.0, 96.0], got int 0");
    expect(typeFlagText("97", layers).error).toMatch(/in \[1\.0, 96\.0\], got int 97/);
    expect(typeFlagText("96", layers).error).toBe("");
    const opt = { name: "opt", type: "CHOICE" as const, choices: ["adam", "sgd", "1e-3"] };
    expect(typeFlagText("adam", opt)).toEqual({ value: { string_value: "adam" }, error: "" });
    expect(typeFlagText("1e-3", opt)).toEqual({ value: { string_value: "1e-3" }, error: "" });
    expect(typeFlagText("rmsprop", opt).error).toBe('flag opt: expected one of {adam, sgd, 1e-3}, got string "rmsprop"');
  });
  it("keeps the typed text for a string flag", () => {
    expect(typeFlagText("42", { name: "tag", type: "STRING" })).toEqual({ value: { string_value: "42" }, error: "" });
    expect(typeFlagText("3e-4", { name: "tag", type: "STRING" })).toEqual({ value: { string_value: "3e-4" }, error: "" });
  });
  it("honours := (force string)", () => {
    expect(typeFlagText("42", undefined, true)).toEqual({ value: { string_value: "42" }, error: "" });
  });
});

describe("labels and the command line", () => {
  it("parses k=v lists", () => {
    expect(parseLabels("sweep=lr, team = nlp\nx=")).toEqual({ labels: { sweep: "lr", team: "nlp", x: "" }, errors: [] });
    expect(parseLabels("oops").errors).toHaveLength(1);
  });
  it("renders the command exactly as the daemon does", () => {
    expect(
      renderCommand("python train.py", {
        "trainer.lr": { double_value: 3e-4 },
        name: { string_value: "a b" },
        quote: { string_value: "it's" },
      }),
    ).toBe("python train.py 'name=a b' 'quote=it'\\''s' 'trainer.lr=0.0003'");
  });
});

// tests/golden/flag_text.json: the daemon (tests/common/flag_golden_test.cc)
// is tested against the same table, and it is the API's truth.
describe("flag typing agrees with the daemon (golden table)", () => {
  it.each(golden.values)("text $text", ({ text, value }) => {
    expect(parseFlagValueText(text)).toEqual(value);
  });
  it.each(golden.assignments)("assignment $text", (c) => {
    if ("error" in c) {
      expect(() => parseFlagAssignment(c.text)).toThrow();
    } else {
      expect(parseFlagAssignment(c.text)).toEqual([c.key, c.value]);
    }
  });
  it.each(golden.formats)("writes $text", ({ value, text }) => {
    expect(formatFlagValue(value as FlagValue)).toBe(text);
  });
});
