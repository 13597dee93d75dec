// File: ui/bits.tsx
//
// Small pieces used across views: state badges, ticking ages and durations,
// the reconciling mark.

import type { Experiment, Job } from "../api/types";
import { activeCondition, isReconciling } from "../logic/conditions";
import { formatAge, formatDuration, formatTimestamp, millis, stateLabel, stateName } from "../logic/format";
import { useNow } from "../state/hooks";

/** Tone of a state for colour: ok, bad, busy, idle, off. */
export function tone(state: string | undefined): string {
  const s = stateName(state);
  if (/^(SUCCEEDED)$/.test(s)) return "ok";
  if (/^(FAILED|LOST)/.test(s)) return "bad";
  if (/^(RUNNING)$/.test(s)) return "run";
  if (/^(LAUNCHING|PENDING|SUBMITTED|STARTING|RECOVERING|STOPPING|CANCELLING|UNKNOWN)$/.test(s)) return "busy";
  if (/^(TERMINATED|CANCELLED)$/.test(s)) return "off";
  return "idle";
}

export function StateBadge({ state, title }: { state: string | undefined; title?: string }) {
  if (!state) return <span class="muted">—</span>;
  return (
    <span class={`badge tone-${tone(state)}`} title={title ?? stateName(state)} data-state={stateName(state)}>
      {stateLabel(state)}
    </span>
  );
}

/** observed → desired, with marks for reconciling and stalled. */
export function StatePair({ e }: { e: Experiment }) {
  const reconciling = isReconciling(e);
  const stalled = activeCondition(e, "Stalled");
  const degraded = activeCondition(e, "Degraded");
  return (
    <span class="state-pair">
      <StateBadge state={e.observed_state} title={`observed: ${stateName(e.observed_state)}`} />
      <span class="arrow" aria-hidden="true">→</span>
      <span class="desired" title={`desired: ${stateName(e.desired_state)}`}>
        <span class="sr-only">desired </span>
        {stateLabel(e.desired_state)}
      </span>
      {reconciling && (
        <span
          class="mark reconciling"
          title={`reconciling: generation ${e.generation ?? 0}, observed ${e.observed_generation ?? 0}`}
          aria-label="reconciling"
        >
          ↻
        </span>
      )}
      {stalled && (
        <span class="mark stalled" title={`stalled: ${stalled.message || stalled.reason}`} aria-label="stalled">
          ⚠
        </span>
      )}
      {degraded && (
        <span class="mark stalled" title={`degraded: ${degraded.message || degraded.reason}`} aria-label="degraded">
          ⚡
        </span>
      )}
    </span>
  );
}

export function Ago({ ts }: { ts: string | undefined }) {
  const now = useNow();
  if (!ts || Number.isNaN(millis(ts))) return <span class="muted">—</span>;
  return (
    <time dateTime={ts} title={formatTimestamp(ts)}>
      {formatAge(ts, now)}
    </time>
  );
}

/** How long something has been in its state ("3h"), ticking; the time itself on hover. */
export function InStateFor({ since, label = "in this state since" }: { since: string | undefined; label?: string }) {
  const now = useNow();
  const t = millis(since);
  if (!since || Number.isNaN(t) || t <= 0) return <span class="muted">—</span>;
  return (
    <time class="in-state" dateTime={since} title={`${label} ${formatTimestamp(since)}`} data-testid="in-state">
      {formatDuration(now - t)}
    </time>
  );
}

/** A job's run time, ticking while it runs. */
export function JobDuration({ job }: { job: Job | undefined }) {
  const running = !!job?.start_time && !job.end_time;
  return running ? <TickingDuration from={job!.start_time!} /> : <>{staticDuration(job)}</>;
}

function TickingDuration({ from }: { from: string }) {
  const now = useNow();
  return <span>{formatDuration(now - millis(from))}</span>;
}

function staticDuration(job: Job | undefined): string {
  const start = millis(job?.start_time);
  const end = millis(job?.end_time);
  return Number.isNaN(start) || Number.isNaN(end) ? "—" : formatDuration(end - start);
}

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  return (
    <button
      type="button"
      class="btn small ghost"
      onClick={(ev) => {
        const btn = ev.currentTarget as HTMLButtonElement;
        void navigator.clipboard?.writeText(text).then(
          () => {
            btn.textContent = "Copied";
            setTimeout(() => (btn.textContent = label), 1200);
          },
          () => undefined,
        );
      }}
    >
      {label}
    </button>
  );
}
