// File: ui/ConfigForm.tsx
//
// An experiment's configuration, editable in place. Only fields the user
// touched are held as a draft; every other field keeps following the live
// experiment, and a touched field whose server value changes meanwhile is
// flagged (with a way to take the server's value) instead of being
// overwritten. Save sends exactly the touched fields (UpdateExperiment's
// update_mask). Hints are shown inline; the server's verdict is final and
// its message is shown when it refuses.

import { useState } from "preact/hooks";
import type { Experiment } from "../api/types";
import { fieldHint, fieldText, patchFrom, type Field } from "../logic/configFields";
import { updateExperiment } from "./actions";

const FIELDS: { f: Field; label: string; kind?: "area" | "number" | "check" | "mono"; wide?: boolean }[] = [
  { f: "name", label: "Name" },
  { f: "run_name", label: "Run name", },
  { f: "base_command", label: "Command", kind: "mono", wide: true },
  { f: "nodes", label: "Nodes", kind: "number" },
  { f: "gpus", label: "GPUs per node", kind: "number" },
  { f: "gpu_type", label: "GPU type" },
  { f: "infra", label: "Infra" },
  { f: "max_restarts", label: "Max restarts", kind: "number" },
  { f: "spot", label: "Spot instances", kind: "check" },
  { f: "labels", label: "Labels (k=v, …)", wide: true },
  { f: "template", label: "Task template" },
  { f: "workdir", label: "Workdir (directory or git URL)", kind: "mono" },
  { f: "envs", label: "Envs (NAME=value per line)", kind: "mono", wide: true },
  { f: "secrets", label: "Secrets (names; values stay on the daemon)", wide: true },
  { f: "description", label: "Description", kind: "area", wide: true },
];

export function ConfigForm({ e }: { e: Experiment }) {
  const [draft, setDraft] = useState<Partial<Record<Field, string>>>({});
  const [base, setBase] = useState<Partial<Record<Field, string>>>({});
  const [error, setError] = useState("");
  const [saving, setSaving] = useState(false);
  const dirty = Object.keys(draft).length > 0;

  const edit = (f: Field, text: string) => {
    if (!(f in base)) setBase({ ...base, [f]: fieldText(e, f) });
    const next = { ...draft, [f]: text };
    // Typing the server's value back is not an edit.
    if (text === fieldText(e, f)) delete next[f];
    setDraft(next);
    setError("");
  };
  const takeTheirs = (f: Field) => {
    const next = { ...draft };
    delete next[f];
    setDraft(next);
  };
  const save = async (ev: Event) => {
    ev.preventDefault();
    if (!dirty || saving) return;
    setSaving(true);
    const { patch, mask } = patchFrom(draft);
    const out = await updateExperiment(e.id!, patch, mask, { inline: true });
    setSaving(false);
    if (out.ok) {
      setDraft({});
      setBase({});
      setError("");
    } else {
      setError(out.error?.message ?? "refused");
    }
  };

  return (
    <form class="config" onSubmit={save} noValidate aria-label="Configuration">
      <div class="form-grid">
        {FIELDS.map(({ f, label, kind, wide }) => {
          const mine = draft[f];
          const value = mine ?? fieldText(e, f);
          const theirs = fieldText(e, f);
          const conflict = mine !== undefined && base[f] !== undefined && base[f] !== theirs;
          const h = mine !== undefined ? fieldHint(f, mine) : "";
          const id = `cfg-${f}`;
          return (
            <div key={f} class={`form-row ${wide ? "wide" : ""} ${mine !== undefined ? "dirty" : ""}`}>
              {kind === "check" ? (
                <label class="check">
                  <input type="checkbox" id={id} name={f} checked={value === "true"} onChange={(ev) => edit(f, ev.currentTarget.checked ? "true" : "false")} />
                  {label}
                </label>
              ) : (
                <>
                  <label for={id}>{label}</label>
                  {kind === "area" || kind === "mono" ? (
                    <textarea
                      id={id}
                      name={f}
                      class={kind === "mono" ? "mono" : ""}
                      rows={kind === "mono" ? 2 : 2}
                      value={value}
                      spellcheck={kind !== "mono"}
                      aria-invalid={!!h}
                      onInput={(ev) => edit(f, ev.currentTarget.value)}
                    />
                  ) : (
                    <input
                      id={id}
                      name={f}
                      type="text"
                      inputMode={kind === "number" ? "numeric" : undefined}
                      value={value}
                      aria-invalid={!!h}
                      onInput={(ev) => edit(f, ev.currentTarget.value)}
                    />
                  )}
                </>
              )}
              {h && <div class="hint bad-text">{h}</div>}
              {conflict && (
                <div class="hint warn-text" role="status">
                  Changed elsewhere to “{theirs}”.{" "}
                  <button type="button" class="link" onClick={() => takeTheirs(f)}>
                    Use that
                  </button>
                </div>
              )}
            </div>
          );
        })}
      </div>
      <div class="form-actions">
        <button type="submit" class="btn primary" disabled={!dirty || saving} data-testid="save-config">
          {saving ? "Saving…" : "Save changes"}
        </button>
        <button type="button" class="btn ghost" disabled={!dirty} onClick={() => { setDraft({}); setBase({}); setError(""); }}>
          Discard
        </button>
        {dirty && <span class="muted small">{Object.keys(draft).length} unsaved</span>}
        {error && (
          <div class="form-error" role="alert" data-testid="config-error">
            {error}
          </div>
        )}
      </div>
    </form>
  );
}
