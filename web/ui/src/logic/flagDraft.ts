// File: logic/flagDraft.ts
//
// The flags editor's model: the user's pending edits on top of the flags the
// server has. Only what the user touched is in the draft, so updates from
// the server to other flags show through while an edit is in progress, and
// saving sends exactly the touched keys (UpdateFlags `set` and `unset`).

import type { CommandFlagSchema, FlagMap, FlagSchema } from "../api/types";
import { sameFlagValue } from "./format";
import { flagKeyError, typeFlagText } from "./flagText";

export interface FlagEdit {
  /** What the user typed. */
  text: string;
  /** The `:=` form: always a string. */
  forceString?: boolean;
  /** The server's value when the edit began (to notice changes made elsewhere). */
  baseText?: string;
}

export interface FlagDraft {
  edits: Record<string, FlagEdit>;
  removed: string[];
}

export const EMPTY_DRAFT: FlagDraft = { edits: {}, removed: [] };

export interface DraftResult {
  set: FlagMap;
  unset: string[];
  /** Per key: why it cannot be saved as typed (key syntax or the declared schema). */
  errors: Record<string, string>;
  dirty: boolean;
}

export function evaluateDraft(base: FlagMap, draft: FlagDraft, schemaFor: (key: string) => FlagSchema | undefined): DraftResult {
  const set: FlagMap = {};
  const errors: Record<string, string> = {};
  for (const [key, edit] of Object.entries(draft.edits)) {
    const keyError = flagKeyError(key);
    const typed = typeFlagText(edit.text, schemaFor(key), edit.forceString);
    if (keyError || typed.error) errors[key] = keyError || typed.error;
    // Sent even when flagged here: the server has the last word and its message is shown.
    const value = typed.value ?? typeFlagText(edit.text, undefined, edit.forceString).value!;
    if (!sameFlagValue(value, base[key])) set[key] = value;
  }
  const unset = draft.removed.filter((k) => k in base && !(k in draft.edits));
  return { set, unset, errors, dirty: Object.keys(set).length > 0 || unset.length > 0 };
}

/** Schemas for the flags of `baseCommand`: its own first, other commands' only where it has none. */
export interface FlagSuggestion {
  schema: FlagSchema;
  /** The base command whose experiments use it. */
  command: string;
  sameCommand: boolean;
  /** From the flags experiments use, not declared: a hint that validates nothing. */
  inferred: boolean;
}

export function flagSuggestions(schemas: CommandFlagSchema[], baseCommand: string): FlagSuggestion[] {
  const byName = new Map<string, FlagSuggestion>();
  const ordered = [...schemas].sort((a, b) => Number(b.base_command === baseCommand) - Number(a.base_command === baseCommand));
  for (const cs of ordered) {
    for (const schema of cs.flags ?? []) {
      if (!schema.name || byName.has(schema.name)) continue;
      byName.set(schema.name, {
        schema,
        command: cs.base_command ?? "",
        sameCommand: cs.base_command === baseCommand,
        inferred: !!cs.inferred,
      });
    }
  }
  return [...byName.values()];
}

/**
 * Suggestions matching what was typed: prefix matches of the whole name or
 * of a dotted segment first, then substring matches; same-command flags
 * before others; keys in `exclude` (already set) left out.
 */
export function matchSuggestions(all: FlagSuggestion[], typed: string, exclude: Set<string>, limit = 12): FlagSuggestion[] {
  const q = typed.trim().toLowerCase();
  const scored: { s: FlagSuggestion; score: number }[] = [];
  for (const s of all) {
    const name = (s.schema.name ?? "").toLowerCase();
    if (exclude.has(s.schema.name ?? "")) continue;
    let score: number;
    if (!q || name.startsWith(q)) score = 0;
    else if (name.split(".").some((seg) => seg.startsWith(q))) score = 1;
    else if (name.includes(q)) score = 2;
    else continue;
    scored.push({ s, score: score * 2 + (s.sameCommand ? 0 : 1) });
  }
  scored.sort((a, b) => a.score - b.score || (a.s.schema.name ?? "").localeCompare(b.s.schema.name ?? ""));
  return scored.slice(0, limit).map((x) => x.s);
}

/**
 * The schema a key is checked against: the one declared for the
 * experiment's own command. Other commands' schemas and inferred ones are
 * typeahead hints only; like the daemon, they never validate or coerce.
 */
export function schemaLookup(suggestions: FlagSuggestion[]): (key: string) => FlagSchema | undefined {
  const map = new Map(suggestions.filter((s) => s.sameCommand && !s.inferred).map((s) => [s.schema.name ?? "", s.schema]));
  return (key) => map.get(key);
}

/**
 * The version of the schema declared for `baseCommand` ("" when none): what
 * the daemon's verdict on a command's flags depends on besides the flags.
 */
export function declaredSchemaVersion(schemas: CommandFlagSchema[], baseCommand: string): string {
  return schemas.find((s) => s.base_command === baseCommand && !s.inferred)?.version ?? "";
}
