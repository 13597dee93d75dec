// File: ui/CreateDialog.tsx
//
// The form that creates an experiment, blank or as a duplicate of another
// (same configuration, the next free name in its series). Flags are edited
// with the same typed editor and typeahead as an existing experiment's, and
// once the form has flags, a name and a command the daemon is asked for its
// verdict on the whole experiment (a validate_only create) before it is sent.

import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api/client";
import { store } from "../app";
import type { Experiment, FlagMap } from "../api/types";
import { declaredSchemaVersion } from "../logic/flagDraft";
import { formatLabels, parseLabels } from "../logic/flagText";
import { formatEnvs, formatSecretNames, parseEnvs, parseSecretNames } from "../logic/workloadText";
import { nextFreeName } from "../logic/names";
import { configOf, createExperiment } from "./actions";
import { DaemonVerdict, useDaemonCheck } from "./DaemonVerdict";
import { FlagsEditor } from "./FlagsEditor";
import { navigate } from "./route";

export function CreateDialog({ fromId, onClose }: { fromId?: string; onClose: () => void }) {
  const source = fromId ? store.get(fromId) : undefined;
  const init = source ? configOf(source) : undefined;
  const [name, setName] = useState(init ? nextFreeName(init.name ?? "experiment", store.names()) : "");
  const [command, setCommand] = useState(init?.base_command ?? "");
  const [nodes, setNodes] = useState(String(init?.nodes || 1));
  const [gpus, setGpus] = useState(String(init?.gpus ?? 0));
  const [gpuType, setGpuType] = useState(init?.gpu_type ?? "");
  const [infra, setInfra] = useState(init?.infra ?? "");
  const [spot, setSpot] = useState(!!init?.spot);
  const [maxRestarts, setMaxRestarts] = useState(init?.max_restarts === undefined ? "" : String(init.max_restarts));
  const [labels, setLabels] = useState(formatLabels(init?.labels));
  const [description, setDescription] = useState(init?.description ?? "");
  const [template, setTemplate] = useState(init?.template ?? "");
  const [workdir, setWorkdir] = useState(init?.workdir ?? "");
  const [envs, setEnvs] = useState(formatEnvs(init?.envs));
  const [secretNames, setSecretNames] = useState(formatSecretNames(init?.secrets));
  const [templates, setTemplates] = useState<string[]>([]);
  const [start, setStart] = useState(false);
  const [flags, setFlags] = useState<FlagMap>(init?.flags ?? {});
  const [flagErrors, setFlagErrors] = useState<string[]>([]);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const dialogRef = useRef<HTMLDivElement>(null);
  const opener = useRef<Element | null>(document.activeElement);

  useEffect(() => {
    // For the template field's suggestions; the daemon checks the name anyway.
    api.templates().then(
      (all) => setTemplates(all.map((t) => t.name ?? "").filter(Boolean)),
      () => setTemplates([]),
    );
  }, []);

  useEffect(() => {
    dialogRef.current?.querySelector<HTMLInputElement>("input")?.focus();
    const back = opener.current;
    return () => (back as HTMLElement | null)?.focus?.();
  }, []);

  const labelParse = parseLabels(labels);
  const envParse = parseEnvs(envs);
  const secretParse = parseSecretNames(secretNames);
  const exp: Experiment = {
    name: name.trim(),
    base_command: command,
    description,
    nodes: Number(nodes) || 0,
    gpus: Number(gpus) || 0,
    gpu_type: gpuType,
    infra,
    spot,
    labels: labelParse.labels,
    flags,
    envs: envParse.envs,
    secrets: secretParse.names,
    workdir: workdir.trim(),
  };
  if (maxRestarts.trim() !== "") exp.max_restarts = Number(maxRestarts);
  // Left empty, a new experiment gets the daemon's default template (if
  // any); a duplicate keeps its source's, none included.
  if (template.trim() !== "" || source) exp.template = template.trim();
  const checkable = Object.keys(flags).length > 0 && !!exp.name && !!command.trim();
  const verdict = useDaemonCheck(
    checkable ? JSON.stringify([declaredSchemaVersion(store.schemas, command), exp]) : null,
    () => api.createExperiment(exp, false, { validateOnly: true }),
  );

  const submit = async (ev: Event) => {
    ev.preventDefault();
    if (busy) return;
    setBusy(true);
    const out = await createExperiment(exp, start, { inline: true });
    setBusy(false);
    if (out.ok && out.value?.id) navigate({ view: "exp", id: out.value.id, tab: "overview" });
    else setError(out.error?.message ?? "refused");
  };

  // Keep Tab inside the dialog.
  const trap = (ev: KeyboardEvent) => {
    if (ev.key !== "Tab") return;
    const items = [...(dialogRef.current?.querySelectorAll<HTMLElement>("input,select,textarea,button,[href]") ?? [])].filter((x) => !x.hasAttribute("disabled"));
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (ev.shiftKey && document.activeElement === first) {
      ev.preventDefault();
      last.focus();
    } else if (!ev.shiftKey && document.activeElement === last) {
      ev.preventDefault();
      first.focus();
    }
  };

  return (
    <div class="overlay" onMouseDown={(ev) => ev.target === ev.currentTarget && onClose()}>
      <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="create-title" ref={dialogRef} onKeyDown={trap} data-testid="create-dialog">
        <form onSubmit={submit} noValidate>
          <header class="panel-head">
            <h2 id="create-title">{source ? `Duplicate ${source.name}` : "New experiment"}</h2>
            <span class="spacer" />
            <button type="button" class="btn ghost small" onClick={onClose} aria-label="Close">
              ✕
            </button>
          </header>
          <div class="panel-body">
            <div class="form-grid">
              <div class="form-row">
                <label for="new-name">Name</label>
                <input id="new-name" name="name" value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="lr-sweep-1" autocomplete="off" spellcheck={false} />
              </div>
              <div class="form-row">
                <label for="new-labels">Labels (k=v, …)</label>
                <input id="new-labels" name="labels" value={labels} onInput={(e) => setLabels(e.currentTarget.value)} aria-invalid={labelParse.errors.length > 0} placeholder="sweep=lr, team=nlp" />
                {labelParse.errors.length > 0 && <div class="hint bad-text">{labelParse.errors.join("; ")}</div>}
              </div>
              <div class="form-row wide">
                <label for="new-command">Command</label>
                <textarea id="new-command" name="base_command" class="mono" rows={2} value={command} onInput={(e) => setCommand(e.currentTarget.value)} placeholder="python train.py" spellcheck={false} />
              </div>
              <div class="form-row">
                <label for="new-nodes">Nodes</label>
                <input id="new-nodes" name="nodes" inputMode="numeric" value={nodes} onInput={(e) => setNodes(e.currentTarget.value)} />
              </div>
              <div class="form-row">
                <label for="new-gpus">GPUs per node</label>
                <input id="new-gpus" name="gpus" inputMode="numeric" value={gpus} onInput={(e) => setGpus(e.currentTarget.value)} />
              </div>
              <div class="form-row">
                <label for="new-gpu-type">GPU type</label>
                <input id="new-gpu-type" name="gpu_type" value={gpuType} onInput={(e) => setGpuType(e.currentTarget.value)} placeholder="H100" />
              </div>
              <div class="form-row">
                <label for="new-infra">Infra</label>
                <input id="new-infra" name="infra" value={infra} onInput={(e) => setInfra(e.currentTarget.value)} placeholder="aws, k8s/ctx, …" />
              </div>
              <div class="form-row">
                <label for="new-max-restarts">Max restarts</label>
                <input id="new-max-restarts" name="max_restarts" inputMode="numeric" value={maxRestarts} onInput={(e) => setMaxRestarts(e.currentTarget.value)} placeholder="3" />
              </div>
              <div class="form-row">
                <label class="check">
                  <input type="checkbox" checked={spot} onChange={(e) => setSpot(e.currentTarget.checked)} /> Spot instances
                </label>
              </div>
              <div class="form-row">
                <label for="new-template">Task template</label>
                <input id="new-template" name="template" list="new-template-names" value={template} onInput={(e) => setTemplate(e.currentTarget.value)} placeholder={source ? "none" : "the daemon's default"} autocomplete="off" spellcheck={false} />
                <datalist id="new-template-names">
                  {templates.map((t) => (
                    <option key={t} value={t} />
                  ))}
                </datalist>
              </div>
              <div class="form-row">
                <label for="new-workdir">Workdir (directory or git URL)</label>
                <input id="new-workdir" name="workdir" class="mono" value={workdir} onInput={(e) => setWorkdir(e.currentTarget.value)} placeholder="/home/me/project" spellcheck={false} />
              </div>
              <div class="form-row wide">
                <label for="new-envs">Envs (NAME=value per line)</label>
                <textarea id="new-envs" name="envs" class="mono" rows={2} value={envs} onInput={(e) => setEnvs(e.currentTarget.value)} aria-invalid={envParse.errors.length > 0} placeholder="WANDB_PROJECT=llm" spellcheck={false} />
                {envParse.errors.length > 0 && <div class="hint bad-text">{envParse.errors.join("; ")}</div>}
              </div>
              <div class="form-row wide">
                <label for="new-secrets">Secrets (names; values stay on the daemon)</label>
                <input id="new-secrets" name="secrets" value={secretNames} onInput={(e) => setSecretNames(e.currentTarget.value)} aria-invalid={secretParse.errors.length > 0} placeholder="WANDB_API_KEY, HF_TOKEN" spellcheck={false} />
                {secretParse.errors.length > 0 && <div class="hint bad-text">{secretParse.errors.join("; ")}</div>}
              </div>
              <div class="form-row wide">
                <label for="new-description">Description</label>
                <textarea id="new-description" rows={2} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
              </div>
            </div>
            <h3>Flags</h3>
            <FlagsEditor
              idPrefix="new"
              base={init?.flags ?? {}}
              baseCommand={command}
              onChange={(f, errors) => {
                setFlags(f);
                setFlagErrors(errors);
              }}
            />
            {flagErrors.length > 0 && <div class="hint warn-text">{flagErrors.join("; ")}</div>}
            <DaemonVerdict verdict={verdict} sent={flags} subject="this experiment" />
          </div>
          <footer class="form-actions">
            <label class="check">
              <input type="checkbox" checked={start} onChange={(e) => setStart(e.currentTarget.checked)} data-testid="start-now" /> Start now
            </label>
            <span class="spacer" />
            {error && (
              <div class="form-error" role="alert" data-testid="create-error">
                {error}
              </div>
            )}
            <button type="button" class="btn ghost" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" class="btn primary" disabled={busy} data-testid="create-submit">
              {busy ? "Creating…" : start ? "Create and start" : "Create"}
            </button>
          </footer>
        </form>
      </div>
    </div>
  );
}
