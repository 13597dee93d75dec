// File: api/wire.ts
//
// Flag values between the HTTP API's plain JSON and the dashboard's typed
// model (types.ts FlagValue, which keeps int and float apart as the CLI
// does).
//
// On the wire a flag is a plain scalar: 4, 0.001, 1.0, true, "adam"; an int64
// beyond 2^53 is a string of its digits (a JavaScript number would round
// it). JavaScript reads 1.0 and 1 as the same number, so parseApiJson
// recovers the difference from the text with JSON.parse's source access
// (Chrome 114, Firefox 135, Safari 18.4) when the text holds an integral
// float at all; without that feature an integral float reads as an int.
// Writing, an integral float goes out in the object form the API also
// accepts ({"double_value": 1}), since JSON.stringify cannot write 1.0.
//
//   parseApiJson('{"flags": {"a": 4, "b": 1.0, "c": "x"}}')
//     -> {flags: {a: {int_value: "4"}, b: {double_value: 1}, c: {string_value: "x"}}}
//   flagsToWire({a: {int_value: "4"}, b: {double_value: 1}})
//     -> {a: 4, b: {double_value: 1}}

import type { FlagMap, FlagValue } from "./types";

/** A flag value as the API sends and accepts it. */
export type WireFlag = string | number | boolean | { double_value: number } | FlagValue;

const MAX_EXACT = 2n ** 53n;
const INT_TEXT = /^[+-]?\d+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Numbers written as floats (1.0, 1e+16), per object: filled by the reviver. */
type FloatKeys = WeakMap<object, Set<string>>;

/** JSON.parse's reviver context, where the engine has it. */
interface ReviverContext {
  source?: string;
}

let sourceAccess: boolean | undefined;

function hasSourceAccess(): boolean {
  if (sourceAccess === undefined) {
    let seen: string | undefined;
    JSON.parse("1.0", function (this: unknown, _key: string, value: unknown, ctx?: ReviverContext) {
      seen = ctx?.source;
      return value;
    } as (key: string, value: unknown) => unknown);
    sourceAccess = seen === "1.0";
  }
  return sourceAccess;
}

/** Only text with an integral float in it needs the (slower) reviver. */
const INTEGRAL_FLOAT = /\d\.0(?!\d)|\d[eE]\+/;

/** Parses an API response (or stream message) and types its flag values. */
export function parseApiJson(text: string): unknown {
  let floats: FloatKeys | undefined;
  let value: unknown;
  if (INTEGRAL_FLOAT.test(text) && hasSourceAccess()) {
    const found: FloatKeys = new WeakMap();
    floats = found;
    value = JSON.parse(text, function (this: object, key: string, v: unknown, ctx?: ReviverContext) {
      if (typeof v === "number" && Number.isInteger(v) && ctx?.source && /[.eE]/.test(ctx.source)) {
        let keys = found.get(this);
        if (!keys) found.set(this, (keys = new Set()));
        keys.add(key);
      }
      return v;
    } as (key: string, value: unknown) => unknown);
  } else {
    value = JSON.parse(text);
  }
  typeFlags(value, floats);
  return value;
}

/** One wire value; `float`: it was written with a fraction or exponent. */
export function flagFromWire(v: unknown, float = false): FlagValue {
  if (typeof v === "boolean") return { bool_value: v };
  if (typeof v === "number") {
    return Number.isInteger(v) && !float ? { int_value: BigInt(v).toString() } : { double_value: v };
  }
  if (typeof v === "string") {
    // The API writes an int64 beyond 2^53 as its digits.
    if (INT_TEXT.test(v)) {
      const n = BigInt(v);
      if ((n > MAX_EXACT || n < -MAX_EXACT) && n >= INT64_MIN && n <= INT64_MAX) {
        return { int_value: n.toString() };
      }
    }
    return { string_value: v };
  }
  if (v && typeof v === "object") return v as FlagValue; // already typed (object form)
  return {};
}

export function flagToWire(v: FlagValue): WireFlag {
  if (v.bool_value !== undefined) return v.bool_value;
  if (v.int_value !== undefined) {
    const n = BigInt(v.int_value);
    return n > MAX_EXACT || n < -MAX_EXACT ? n.toString() : Number(n);
  }
  if (v.double_value !== undefined) {
    const d = Number(v.double_value);
    return Number.isInteger(d) ? { double_value: d } : d;
  }
  return v.string_value ?? "";
}

export function flagsToWire(flags: FlagMap): Record<string, WireFlag> {
  const out: Record<string, WireFlag> = {};
  for (const [k, v] of Object.entries(flags)) out[k] = flagToWire(v);
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// The API's FlagValue fields: Experiment.flags and Job.flags (maps),
// FlagSchema.default_value and FlagSchema.seen_values. (CommandFlagSchema's
// `flags` is a list of schemas, not a map.)
function typeFlags(node: unknown, floats: FloatKeys | undefined): void {
  if (Array.isArray(node)) {
    for (const item of node) typeFlags(item, floats);
    return;
  }
  if (!isObject(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (key === "flags" && isObject(value)) {
      const floatKeys = floats?.get(value);
      for (const [k, v] of Object.entries(value)) value[k] = flagFromWire(v, floatKeys?.has(k));
    } else if (key === "default_value" && value !== undefined && !isObject(value)) {
      node[key] = flagFromWire(value, floats?.get(node)?.has(key));
    } else if (key === "seen_values" && Array.isArray(value)) {
      const floatKeys = floats?.get(value);
      node[key] = value.map((v, i) => (isObject(v) ? v : flagFromWire(v, floatKeys?.has(String(i)))));
    } else {
      typeFlags(value, floats);
    }
  }
}
