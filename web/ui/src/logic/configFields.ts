// File: logic/configFields.ts
//
// The editable configuration fields of an experiment as the form holds
// them (text), the hints shown while typing (the daemon's own limits, so
// most mistakes are caught before a request), and the UpdateExperiment body
// for the fields the user touched.

import type { MaskField } from "../api/client";
import type { Experiment } from "../api/types";
import { formatLabels, parseLabels } from "./flagText";
import { formatEnvs, formatSecretNames, parseEnvs, parseSecretNames } from "./workloadText";

export type Field =
  | "name"
  | "description"
  | "base_command"
  | "run_name"
  | "nodes"
  | "gpus"
  | "gpu_type"
  | "infra"
  | "spot"
  | "labels"
  | "max_restarts"
  | "template"
  | "workdir"
  | "envs"
  | "secrets";

/** The text form of each field (what the input shows). */
export function fieldText(e: Experiment, f: Field): string {
  switch (f) {
    case "labels":
      return formatLabels(e.labels);
    case "envs":
      return formatEnvs(e.envs);
    case "secrets":
      return formatSecretNames(e.secrets);
    case "spot":
      return e.spot ? "true" : "false";
    case "nodes":
      return String(e.nodes || 1);
    case "gpus":
      return String(e.gpus ?? 0);
    case "max_restarts":
      return e.max_restarts === undefined ? "" : String(e.max_restarts);
    default:
      return (e[f] as string | undefined) ?? "";
  }
}

export function fieldHint(f: Field, text: string): string {
  switch (f) {
    case "name":
      return /^[A-Za-z][A-Za-z0-9._-]{0,62}$/.test(text) ? "" : "a letter, then letters, digits, . _ -; at most 63";
    case "nodes":
      return /^\d+$/.test(text) && +text >= 1 && +text <= 512 ? "" : "1–512";
    case "gpus":
      return /^\d+$/.test(text) && +text <= 64 ? "" : "0–64 per node";
    case "max_restarts":
      return /^\d+$/.test(text) && +text <= 100 ? "" : "0–100";
    case "labels":
      return parseLabels(text).errors.join("; ");
    case "envs":
      return parseEnvs(text).errors.join("; ");
    case "secrets":
      return parseSecretNames(text).errors.join("; ");
    case "workdir":
      return text === "" || text.startsWith("/") || text.includes("://") || /^[^/@]+@[^:]+:/.test(text)
        ? ""
        : "an absolute directory on the daemon's machine, or a git URL[@REF]";
    case "base_command":
      return text.trim() ? "" : "required";
  }
  return "";
}

/** The Experiment fields for the touched ones (the request body). */
export function patchFrom(draft: Partial<Record<Field, string>>): { patch: Experiment; mask: MaskField[] } {
  const patch: Experiment = {};
  const mask: MaskField[] = [];
  for (const [f, text] of Object.entries(draft) as [Field, string][]) {
    mask.push(f);
    switch (f) {
      case "labels":
        patch.labels = parseLabels(text).labels;
        break;
      case "envs":
        patch.envs = parseEnvs(text).envs;
        break;
      case "secrets":
        patch.secrets = parseSecretNames(text).names;
        break;
      case "spot":
        patch.spot = text === "true";
        break;
      case "nodes":
      case "gpus":
      case "max_restarts":
        patch[f] = text.trim() === "" ? 0 : Number(text);
        break;
      default:
        patch[f] = text;
    }
  }
  return { patch, mask };
}
