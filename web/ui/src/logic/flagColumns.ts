// File: logic/flagColumns.ts
//
// The flags worth a column in a group: those whose value differs between
// its experiments (a flag missing on some counts as differing). Dotted names
// are shown under a grouped header: `trainer.lr` and `trainer.bs` become
// columns "lr" and "bs" under one "trainer" header cell.

import type { Experiment } from "../api/types";
import { byteOrder } from "./flagText";
import { sameFlagValue } from "./format";

/** Keys of the flags that differ within `exps`, sorted; none for fewer than two. */
export function differingFlags(exps: Experiment[]): string[] {
  if (exps.length < 2) return [];
  const keys = new Set<string>();
  for (const e of exps) for (const k of Object.keys(e.flags ?? {})) keys.add(k);
  const out: string[] = [];
  for (const k of keys) {
    const first = exps[0].flags?.[k];
    if (exps.some((e) => !sameFlagValue(e.flags?.[k], first))) out.push(k);
  }
  return out.sort(byteOrder);
}

export interface FlagColumn {
  key: string;
  /** Everything before the last dot ("" for an undotted name). */
  prefix: string;
  /** The part after the last dot: the column's own header. */
  leaf: string;
}

export interface HeaderGroup {
  prefix: string;
  span: number;
}

export function flagColumn(key: string): FlagColumn {
  const dot = key.lastIndexOf(".");
  return dot <= 0 ? { key, prefix: "", leaf: key } : { key, prefix: key.slice(0, dot), leaf: key.slice(dot + 1) };
}

/** Columns in key order plus the header row above them (runs of equal prefix merged). */
export function flagColumnLayout(keys: string[]): { columns: FlagColumn[]; groups: HeaderGroup[] } {
  const columns = keys.map(flagColumn);
  const groups: HeaderGroup[] = [];
  for (const c of columns) {
    const last = groups[groups.length - 1];
    if (last && last.prefix === c.prefix) last.span++;
    else groups.push({ prefix: c.prefix, span: 1 });
  }
  return { columns, groups };
}
