// File: ui/FlagsEditor.tsx
//
// Edits an experiment's typed flags. Values are typed as the CLI types them
// (4 int, 3e-4 float, true bool, "4" or key:=4 string) and checked against
// the flag schema declared for the experiment's command with the daemon's
// rules, with type errors inline before saving; with `check`, the daemon
// itself is asked too (a validate_only UpdateFlags, debounced). Keys get
// typeahead from every known schema, declared or inferred (inferred ones
// only suggest: names, seen values). Pending edits live in a draft
// (logic/flagDraft.ts) that incoming updates never touch.
//
// Two modes: with `onSave`, a Save button sends set/unset for an existing
// experiment; without, the parent (the create form) reads the flags through
// `onChange` and asks the daemon itself.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { store } from "../app";
import type { WriteResult } from "../api/client";
import type { FlagMap, FlagSchema } from "../api/types";
import { EMPTY_DRAFT, evaluateDraft, flagSuggestions, schemaLookup, type FlagDraft, type FlagSuggestion } from "../logic/flagDraft";
import { byteOrder, flagEditText, flagKeyError, parseFlagAssignment, typeFlagText } from "../logic/flagText";
import { flagKind, formatFlagValue, stateLabel } from "../logic/format";
import type { Outcome } from "./actions";
import { DaemonVerdict, useDaemonCheck } from "./DaemonVerdict";
import { FlagKeyInput } from "./FlagKeyInput";

interface Props {
  base: FlagMap;
  baseCommand: string;
  onSave?: (set: FlagMap, unset: string[]) => Promise<Outcome>;
  onChange?: (flags: FlagMap, errors: string[]) => void;
  /** Asks the daemon about pending changes; `key` names what else the answer depends on. */
  check?: { key: string; run: (set: FlagMap, unset: string[]) => Promise<WriteResult> };
  idPrefix: string;
}

export function FlagsEditor(p: Props) {
  const [draft, setDraft] = useState<FlagDraft>(EMPTY_DRAFT);
  const [newKey, setNewKey] = useState("");
  const [newValue, setNewValue] = useState("");
  const [addError, setAddError] = useState("");
  const [serverError, setServerError] = useState("");
  const [saving, setSaving] = useState(false);
  const valueRef = useRef<HTMLInputElement>(null);
  const newKeyRef = useRef<HTMLTableCellElement>(null);

  const suggestions = useMemo(() => flagSuggestions(store.schemas, p.baseCommand), [store.schemas, p.baseCommand]);
  const schemaFor = useMemo(() => schemaLookup(suggestions), [suggestions]);
  const result = evaluateDraft(p.base, draft, schemaFor);
  const keys = [...new Set([...Object.keys(p.base), ...Object.keys(draft.edits)])].sort(byteOrder);
  const verdict = useDaemonCheck(
    p.check && result.dirty ? JSON.stringify([p.check.key, result.set, result.unset]) : null,
    () => p.check!.run(result.set, result.unset),
  );

  useEffect(() => {
    if (!p.onChange) return;
    const flags: FlagMap = { ...p.base, ...result.set };
    for (const k of result.unset) delete flags[k];
    // Each error names its flag ("flag key ...", "flag x: expected ...").
    p.onChange(flags, Object.values(result.errors));
  }, [draft, schemaFor]); // a schema applied meanwhile changes the errors

  const setEdit = (key: string, text: string, forceString = false) => {
    const edits = { ...draft.edits };
    const current = flagEditText(p.base[key]);
    if (key in p.base && text === current && !forceString) delete edits[key];
    else edits[key] = { text, forceString, baseText: draft.edits[key]?.baseText ?? (key in p.base ? current : undefined) };
    setDraft({ ...draft, edits });
    setServerError("");
  };
  const toggleRemove = (key: string) => {
    if (!(key in p.base)) {
      const edits = { ...draft.edits };
      delete edits[key];
      setDraft({ ...draft, edits });
      return;
    }
    const removed = draft.removed.includes(key) ? draft.removed.filter((k) => k !== key) : [...draft.removed, key];
    const edits = { ...draft.edits };
    delete edits[key];
    setDraft({ edits, removed });
    setServerError("");
  };
  const add = () => {
    let key = newKey.trim();
    let text = newValue;
    let forceString = false;
    if (key.includes("=")) {
      // "k=v" or "k:=v" pasted into the name box.
      try {
        const [k] = parseFlagAssignment(key);
        const eq = key.indexOf("=");
        forceString = key[eq - 1] === ":";
        text = key.slice(eq + 1);
        key = k;
      } catch (err) {
        setAddError((err as Error).message);
        return;
      }
    } else if (newValue.startsWith(":=")) {
      forceString = true;
      text = newValue.slice(2);
    }
    if (!key) {
      setAddError("a flag needs a name");
      return;
    }
    setDraft({ edits: { ...draft.edits, [key]: { text, forceString } }, removed: draft.removed.filter((k) => k !== key) });
    setNewKey("");
    setNewValue("");
    setAddError("");
    setServerError("");
    newKeyRef.current?.querySelector("input")?.focus();
  };
  const save = async () => {
    if (!p.onSave || !result.dirty || saving) return;
    setSaving(true);
    const out = await p.onSave(result.set, result.unset);
    setSaving(false);
    if (out.ok) setDraft(EMPTY_DRAFT);
    else setServerError(out.error?.message ?? "refused");
  };

  // The declared schema checks the value; any suggestion (inferred too) only hints.
  const newSchema = schemaFor(newKey.trim());
  const newHint = newSchema ?? suggestions.find((s) => s.schema.name === newKey.trim())?.schema;
  const newTyped = newKey.trim() && !newKey.includes("=") ? typeFlagText(newValue, newSchema) : undefined;
  const newKeyError = newKey.trim() && !newKey.includes("=") ? flagKeyError(newKey.trim()) : "";

  return (
    <div class="flags-editor" data-testid="flags-editor">
      <table class="flags">
        <thead>
          <tr>
            <th scope="col">Flag</th>
            <th scope="col">Value</th>
            <th scope="col">Type</th>
            <th scope="col">
              <span class="sr-only">Remove</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {keys.map((key) => {
            const edit = draft.edits[key];
            const removed = draft.removed.includes(key);
            const text = edit?.text ?? flagEditText(p.base[key]);
            const schema = schemaFor(key);
            const typed = typeFlagText(text, schema, edit?.forceString);
            const error = result.errors[key];
            const conflict = edit?.baseText !== undefined && edit.baseText !== flagEditText(p.base[key]);
            const inputId = `${p.idPrefix}-flag-${key}`;
            return (
              <tr key={key} class={`${edit ? "dirty" : ""} ${removed ? "removed" : ""}`} data-flag={key}>
                <td class="mono key">
                  <label for={inputId}>{key}</label>
                  {!(key in p.base) && <span class="badge tone-run">new</span>}
                </td>
                <td>
                  <input
                    id={inputId}
                    type="text"
                    class="mono"
                    value={text}
                    disabled={removed}
                    aria-invalid={!!error}
                    aria-describedby={error ? `${inputId}-err` : undefined}
                    spellcheck={false}
                    list={valueListId(p.idPrefix, schema)}
                    onInput={(ev) => setEdit(key, ev.currentTarget.value, edit?.forceString)}
                  />
                  {error && (
                    <div class="hint bad-text" id={`${inputId}-err`} data-testid="flag-error">
                      {error}
                    </div>
                  )}
                  {conflict && <div class="hint warn-text">changed elsewhere to {formatFlagValue(p.base[key]) || "(removed)"}</div>}
                  {schema?.description && <div class="hint muted">{schema.description}</div>}
                </td>
                <td>
                  <TypeChip typed={typed.value ? flagKind(typed.value) : undefined} schema={schema} forced={edit?.forceString} />
                </td>
                <td>
                  <button type="button" class="btn small ghost" onClick={() => toggleRemove(key)} aria-label={removed ? `Keep ${key}` : `Remove ${key}`}>
                    {removed ? "Undo" : "✕"}
                  </button>
                </td>
              </tr>
            );
          })}
          <tr class="add-row">
            <td ref={newKeyRef}>
              <FlagKeyInput
                id={`${p.idPrefix}-new-key`}
                value={newKey}
                onInput={(t) => {
                  setNewKey(t);
                  setAddError("");
                }}
                onPick={(s: FlagSuggestion) => {
                  if (!newValue && s.schema.default_value) setNewValue(flagEditText(s.schema.default_value));
                  setTimeout(() => valueRef.current?.focus(), 0);
                }}
                suggestions={suggestions}
                exclude={new Set(keys)}
                invalid={!!newKeyError}
              />
              {newKeyError && <div class="hint bad-text">{newKeyError}</div>}
            </td>
            <td>
              <input
                ref={valueRef}
                type="text"
                class="mono"
                placeholder={newHint?.default_value ? formatFlagValue(newHint.default_value) : "value"}
                aria-label="New flag value"
                value={newValue}
                spellcheck={false}
                list={valueListId(p.idPrefix, newHint)}
                aria-invalid={!!newTyped?.error}
                onInput={(ev) => setNewValue(ev.currentTarget.value)}
                onKeyDown={(ev) => {
                  if (ev.key === "Enter") {
                    ev.preventDefault();
                    add();
                  }
                }}
                data-testid="flag-value-input"
              />
              {newTyped?.error && (
                <div class="hint bad-text" data-testid="new-flag-error">
                  {newTyped.error}
                </div>
              )}
              {newHint?.description && <div class="hint muted">{newHint.description}</div>}
              {addError && <div class="hint bad-text">{addError}</div>}
            </td>
            <td>
              <TypeChip typed={newTyped?.value ? flagKind(newTyped.value) : undefined} schema={newSchema} />
            </td>
            <td>
              <button type="button" class="btn small" onClick={add} disabled={!newKey.trim()} data-testid="flag-add">
                Add
              </button>
            </td>
          </tr>
        </tbody>
      </table>
      <ValueLists idPrefix={p.idPrefix} suggestions={suggestions} />
      <DaemonVerdict verdict={verdict} sent={result.set} subject="these flags" />
      {p.onSave && (
        <div class="form-actions">
          <button type="button" class="btn primary" disabled={!result.dirty || saving} onClick={() => void save()} data-testid="save-flags">
            {saving ? "Saving…" : "Save flags"}
          </button>
          <button type="button" class="btn ghost" disabled={!result.dirty} onClick={() => { setDraft(EMPTY_DRAFT); setServerError(""); }}>
            Discard
          </button>
          {result.dirty && (
            <span class="muted small">
              {Object.keys(result.set).length} set, {result.unset.length} removed
            </span>
          )}
          {serverError && (
            <div class="form-error" role="alert" data-testid="flags-error">
              {serverError}
            </div>
          )}
        </div>
      )}
    </div>
  );
}

function TypeChip({ typed, schema, forced }: { typed?: string; schema?: FlagSchema; forced?: boolean }) {
  const declared = schema?.type ? stateLabel(schema.type) : "";
  return (
    <span class="type-chip" title={declared ? `schema: ${declared}` : "typed from the text, like the CLI"}>
      {typed ?? declared ?? ""}
      {forced ? " (:=)" : ""}
    </span>
  );
}

function valueListId(prefix: string, schema: FlagSchema | undefined): string | undefined {
  if (!schema?.name || !(schema.choices?.length || schema.seen_values?.length)) return undefined;
  return `${prefix}-values-${schema.name}`;
}

/** Datalists of choices and seen values, for the value boxes. */
function ValueLists({ idPrefix, suggestions }: { idPrefix: string; suggestions: FlagSuggestion[] }) {
  return (
    <>
      {suggestions.map(({ schema }) => {
        const id = valueListId(idPrefix, schema);
        if (!id) return null;
        const values = schema.choices?.length ? schema.choices : (schema.seen_values ?? []).map(flagEditText);
        return (
          <datalist key={id} id={id}>
            {values.slice(0, 50).map((v) => (
              <option key={v} value={v} />
            ))}
          </datalist>
        );
      })}
    </>
  );
}

