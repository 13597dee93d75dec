// File: ui/DaemonVerdict.tsx
//
// The daemon's verdict on a form before it is saved (live/daemonCheck.ts):
// "accepts" with the values it would normalise and the warnings it would
// give, or its refusal in its own words. Advice only: saving stays possible,
// and the save's own answer is shown as before.

import { useEffect, useMemo, useState } from "preact/hooks";
import type { WriteResult } from "../api/client";
import type { FlagMap } from "../api/types";
import { DaemonCheck, type Verdict } from "../live/daemonCheck";
import { flagKind, formatFlagValue, sameFlagValue } from "../logic/format";

/** Re-checks whenever `key` changes (null: nothing to check); `run` is the validate_only call. */
export function useDaemonCheck(key: string | null, run: () => Promise<WriteResult>): Verdict {
  const [verdict, setVerdict] = useState<Verdict>({ state: "idle" });
  const check = useMemo(() => new DaemonCheck(setVerdict), []);
  useEffect(() => () => check.stop(), [check]);
  useEffect(() => check.request(key, run), [key]);
  return verdict;
}

interface Props {
  verdict: Verdict;
  /** The flags the form would send, to point out the ones the daemon stores differently. */
  sent: FlagMap;
  /** "these flags", "this experiment". */
  subject: string;
}

export function DaemonVerdict({ verdict, sent, subject }: Props) {
  if (verdict.state === "idle") return null;
  return (
    <div class={`daemon-check ${verdict.state}`} data-testid="daemon-check" data-state={verdict.state} aria-live="polite">
      {verdict.state === "checking" && <span class="muted">Checking with the daemon…</span>}
      {verdict.state === "unreachable" && <span class="muted">Could not check with the daemon: {verdict.message}</span>}
      {verdict.state === "refused" && (
        <span class="bad-text">
          ✗ The daemon would refuse {subject}: <span data-testid="daemon-check-message">{verdict.message}</span>
        </span>
      )}
      {verdict.state === "accepted" && <Accepted result={verdict.result} sent={sent} subject={subject} />}
    </div>
  );
}

function Accepted({ result, sent, subject }: { result: WriteResult; sent: FlagMap; subject: string }) {
  const stored = result.experiment.flags ?? {};
  const normalised = Object.keys(sent).filter((k) => stored[k] && !sameFlagValue(stored[k], sent[k]));
  return (
    <>
      <span class="ok-text">✓ The daemon accepts {subject}</span>
      {normalised.map((k) => (
        <div key={k} class="hint muted">
          {k} is stored as {formatFlagValue(stored[k])} ({flagKind(stored[k])})
        </div>
      ))}
      {result.warnings.map((w) => (
        <div key={w} class="hint warn-text" data-testid="daemon-check-warning">
          ⚠ {w}
        </div>
      ))}
    </>
  );
}
