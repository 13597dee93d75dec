import { describe, expect, it } from "vitest";
import golden from "../../../../tests/golden/flag_text.json";
import { flagFromWire, flagsToWire, flagToWire, parseApiJson } from "./wire";

// Whether this engine gives JSON.parse revivers the source text (Node 20
// does not; Chromium, which runs the browser tests, does).
const sourceAccess = (() => {
  let seen: unknown;
  JSON.parse("1.0", (_k: string, v: unknown, ctx?: { source?: string }) => ((seen = ctx?.source), v));
  return seen === "1.0";
})();

describe("flag values from the wire", () => {
  it("types plain scalars like the CLI", () => {
    expect(flagFromWire(4)).toEqual({ int_value: "4" });
    expect(flagFromWire(0.001)).toEqual({ double_value: 0.001 });
    expect(flagFromWire(1, true)).toEqual({ double_value: 1 });
    expect(flagFromWire(true)).toEqual({ bool_value: true });
    expect(flagFromWire("42")).toEqual({ string_value: "42" });
    // An int64 beyond 2^53 comes as its digits and stays exact.
    expect(flagFromWire("9007199254740993")).toEqual({ int_value: "9007199254740993" });
    expect(flagFromWire("99999999999999999999")).toEqual({ string_value: "99999999999999999999" });
    expect(flagFromWire({ int_value: "5" })).toEqual({ int_value: "5" });
  });

  it("types every FlagValue field of a response", () => {
    const r = parseApiJson(`{"experiment": {"flags": {"a": 4, "b": 0.5, "c": "x"}, "labels": {"k": "v"}},
      "schemas": [{"flags": [{"name": "a", "default_value": 3, "seen_values": [1, "y"]}]}]}`) as any;
    expect(r.experiment.flags).toEqual({ a: { int_value: "4" }, b: { double_value: 0.5 }, c: { string_value: "x" } });
    expect(r.experiment.labels).toEqual({ k: "v" });
    expect(r.schemas[0].flags[0].default_value).toEqual({ int_value: "3" });
    expect(r.schemas[0].flags[0].seen_values).toEqual([{ int_value: "1" }, { string_value: "y" }]);
  });

  it.runIf(sourceAccess)("keeps an integral float a float when the engine shows the source", () => {
    const r = parseApiJson(`{"flags": {"scale": 1.0, "big": 1e+16, "n": 1}, "nodes": 1}`) as any;
    expect(r.flags).toEqual({ scale: { double_value: 1 }, big: { double_value: 1e16 }, n: { int_value: "1" } });
    expect(r.nodes).toBe(1);
  });
});

describe("flag values to the wire", () => {
  it("writes plain scalars, and the object form where JSON.stringify cannot write a float", () => {
    expect(flagToWire({ int_value: "4" })).toBe(4);
    expect(flagToWire({ int_value: "9007199254740993" })).toBe("9007199254740993");
    expect(flagToWire({ double_value: 0.001 })).toBe(0.001);
    expect(flagToWire({ double_value: 2 })).toEqual({ double_value: 2 });
    expect(flagToWire({ bool_value: false })).toBe(false);
    expect(flagToWire({ string_value: "adam" })).toBe("adam");
    expect(flagsToWire({ a: { int_value: "1" }, b: { string_value: "1" } })).toEqual({ a: 1, b: "1" });
  });
});

// tests/golden/flag_text.json: the bridge's FlagValueFromPlainJson
// (tests/common/flag_golden_test.cc) is tested against the same table.
describe("plain JSON flag values agree with the daemon (golden table)", () => {
  it.each(golden.plain_json)("json $json", ({ json, value }) => {
    expect(flagFromWire(json)).toEqual(value);
  });
});
