// File: logic/workloadText.ts
//
// The text forms of an experiment's workload fields as the forms edit them:
// envs one NAME=value per line (a value may hold commas and inner spaces;
// each line is trimmed),
// secret names separated by commas or spaces, and the short forms shown
// for a job's template version and code commit. Names are checked with the
// daemon's rule, so a typo is caught before a request.

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DOCKER_LOGIN = new Set(["SKYPILOT_DOCKER_USERNAME", "SKYPILOT_DOCKER_PASSWORD", "SKYPILOT_DOCKER_SERVER"]);

/** Why `name` cannot be an env or secret name; "" when it can. */
export function envNameProblem(name: string): string {
  if (!NAME.test(name)) return `"${name}" must match [A-Za-z_][A-Za-z0-9_]*`;
  if (/^(SKYDECK_|SKYPILOT_)/.test(name) && !DOCKER_LOGIN.has(name)) return `${name} is reserved (set by SkyDeck or SkyPilot)`;
  return "";
}

export function parseEnvs(text: string): { envs: Record<string, string>; errors: string[] } {
  const envs: Record<string, string> = {};
  const errors: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) {
      errors.push(`"${line}" is not NAME=value`);
      continue;
    }
    const name = line.slice(0, eq).trim();
    const problem = envNameProblem(name);
    if (problem) errors.push(problem);
    else if (name in envs) errors.push(`${name} given twice`);
    else envs[name] = line.slice(eq + 1);
  }
  return { envs, errors };
}

export function formatEnvs(envs: Record<string, string> | undefined): string {
  return Object.entries(envs ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join("\n");
}

export function parseSecretNames(text: string): { names: string[]; errors: string[] } {
  const names: string[] = [];
  const errors: string[] = [];
  for (const part of text.split(/[\s,]+/)) {
    if (!part) continue;
    const problem = envNameProblem(part);
    if (problem) errors.push(problem);
    else if (names.includes(part)) errors.push(`${part} given twice`);
    else names.push(part);
  }
  return { names, errors };
}

export function formatSecretNames(names: string[] | undefined): string {
  return (names ?? []).join(", ");
}

/** "h100 v3"; "" without a template. */
export function templateLabel(name: string | undefined, version: string | undefined): string {
  if (!name) return "";
  return version && version !== "0" ? `${name} v${version}` : name;
}

/** "3f2a9c1 (dirty)"; "" when the job recorded no commit. */
export function codeLabel(commit: string | undefined, dirty: boolean | undefined): string {
  if (!commit) return "";
  return `${commit.slice(0, 7)}${dirty ? " (dirty)" : ""}`;
}

/**
 * "snapshot 9f3c1a2b4c5d @ 3f2a9c1 (dirty)": the code snapshot a job ran
 * (or an experiment will run) and the commit it was taken at; just the
 * commit label without a snapshot; "" without either.
 */
export function snapshotLabel(snapshot: string | undefined, commit: string | undefined, dirty: boolean | undefined): string {
  const commitText = codeLabel(commit, dirty);
  if (!snapshot) return commitText;
  return `snapshot ${snapshot.slice(0, 12)}${commitText ? ` @ ${commitText}` : ""}`;
}
