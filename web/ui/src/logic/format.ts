// File: logic/format.ts
//
// How values read in the dashboard: state names, flag values (printed the
// way the CLI and the job's command line print them), compact big numbers,
// booleans as ✓/✗, durations and ages. Pure functions of their inputs; "now"
// is always passed in so tests and the ticking clock agree.

import type { FlagValue } from "../api/types";

/** A state or status name as the API sends it ("RUNNING", "FAILED_SETUP"); "" when unset. */
export function stateName(name: string | undefined): string {
  return name ?? "";
}

/** "FAILED_SETUP" -> "failed setup". */
export function stateLabel(name: string | undefined): string {
  return stateName(name).toLowerCase().replace(/_/g, " ");
}

/**
 * A double as Python's repr() prints it, like the CLI and the rendered
 * command line: shortest round-trip digits, fixed notation for exponents in
 * [-4, 16), else scientific with a two-digit exponent; always recognisable as
 * a float ("4.0", not "4").
 */
export function formatDouble(d: number): string {
  if (Number.isNaN(d)) return "nan";
  if (!Number.isFinite(d)) return d > 0 ? "inf" : "-inf";
  if (d === 0) return Object.is(d, -0) ? "-0.0" : "0.0";
  const [mantissa, expText] = d.toExponential().split("e");
  const exponent = Number(expText);
  if (exponent < -4 || exponent >= 16) {
    const sign = exponent < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  // In this range JavaScript already prints shortest digits in fixed notation.
  const fixed = String(d);
  return fixed.includes(".") ? fixed : `${fixed}.0`;
}

export type FlagKind = "string" | "int" | "float" | "bool";

export function flagKind(v: FlagValue | undefined): FlagKind | undefined {
  if (!v) return undefined;
  if (v.bool_value !== undefined) return "bool";
  if (v.int_value !== undefined) return "int";
  if (v.double_value !== undefined) return "float";
  if (v.string_value !== undefined) return "string";
  return undefined;
}

/** The value as it appears on the command line (`key=<this>`). */
export function formatFlagValue(v: FlagValue | undefined): string {
  if (!v) return "";
  if (v.bool_value !== undefined) return v.bool_value ? "true" : "false";
  if (v.int_value !== undefined) return String(v.int_value);
  if (v.double_value !== undefined) return formatDouble(Number(v.double_value));
  return v.string_value ?? "";
}

/** Equality of two flag values including their kind (4 is not 4.0). */
export function sameFlagValue(a: FlagValue | undefined, b: FlagValue | undefined): boolean {
  if (!a || !b) return a === b;
  return flagKind(a) === flagKind(b) && formatFlagValue(a) === formatFlagValue(b);
}

const UNITS: [number, string][] = [
  [1e12, "T"],
  [1e9, "B"],
  [1e6, "M"],
  [1e3, "k"],
];

/**
 * Big numbers in at most three significant digits with a suffix
 * (12345 -> "12.3k", 2000000 -> "2M", 1.5e9 -> "1.5B"); below 10,000 the
 * number is left as it is. Beyond 1e15, scientific.
 */
export function compactNumber(n: number): string {
  const abs = Math.abs(n);
  if (!Number.isFinite(n) || abs < 10_000) return String(n);
  if (abs >= 1e15) return n.toExponential(2).replace(/\.?0+e/, "e").replace("e+", "e");
  for (const [size, suffix] of UNITS) {
    if (abs >= size) {
      const scaled = n / size;
      const digits = Math.abs(scaled) >= 100 ? 0 : Math.abs(scaled) >= 10 ? 1 : 2;
      let text = scaled.toFixed(digits);
      if (text.includes(".")) text = text.replace(/\.?0+$/, "");
      // Rounding can reach the next unit (999.96k): say 1M, not 1000k.
      if (Math.abs(Number(text)) >= 1000 && size < 1e12) return compactNumber(Math.sign(n) * 1000 * size);
      return `${text}${suffix}`;
    }
  }
  return String(n);
}

/** A flag value for a table cell: ✓/✗ for booleans, big numbers compact. */
export function flagCell(v: FlagValue | undefined): string {
  if (!v) return "—";
  if (v.bool_value !== undefined) return v.bool_value ? "✓" : "✗";
  if (v.int_value !== undefined) {
    const n = Number(v.int_value);
    return Math.abs(n) >= 10_000 && Number.isSafeInteger(n) ? compactNumber(n) : String(v.int_value);
  }
  if (v.double_value !== undefined) {
    const d = Number(v.double_value);
    return Math.abs(d) >= 10_000 && Math.abs(d) < 1e15 ? compactNumber(d) : formatDouble(d);
  }
  return v.string_value ?? "";
}

/** 42_000 ms -> "42s"; 192_000 -> "3m 12s"; 7_500_000 -> "2h 5m"; days -> "3d 4h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m ${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d ${h % 24}h` : `${d}d`;
}

/** Milliseconds since the epoch of an RFC 3339 time; NaN when absent. */
export function millis(ts: string | undefined): number {
  return ts ? Date.parse(ts) : NaN;
}

/** "just now", "12s ago", "5m ago", "3h ago", "2d ago"; "in 12s" for the future. */
export function formatAge(ts: string | undefined, now: number): string {
  const t = millis(ts);
  if (Number.isNaN(t)) return "—";
  const diff = now - t;
  if (Math.abs(diff) < 1000) return "just now";
  const coarse = formatDuration(Math.abs(diff)).split(" ")[0];
  return diff > 0 ? `${coarse} ago` : `in ${coarse}`;
}

/** Local date and time for tooltips: "2026-11-28 15:09:05". */
export function formatTimestamp(ts: string | undefined): string {
  const t = millis(ts);
  if (Number.isNaN(t)) return "";
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, "0");
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
  );
}

/** "2 × 8 H100" / "1 × —" (nodes × GPUs per node, with the GPU type). */
export function formatResources(nodes: number | undefined, gpus: number | undefined, gpuType?: string): string {
  const n = nodes || 1;
  const g = gpus ? `${gpus}${gpuType ? ` ${gpuType}` : ""}` : "—";
  return `${n} × ${g}`;
}

/** Singular or plural: plural(1, "experiment") -> "1 experiment". */
export function plural(n: number, noun: string, nouns = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : nouns}`;
}
