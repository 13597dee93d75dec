// File: ui/HealthBar.tsx
//
// The strip across the top: is the daemon answering and the live stream
// open, which backend and whether it is reachable (with its API version),
// how long since the backend was last polled successfully, and experiments
// by observed state (click one to filter the table). Below it, a banner that
// cannot be missed when the daemon or the backend is down.

import { askForToken } from "../api/client";
import { store, sync } from "../app";
import { OBSERVED_STATES } from "../api/types";
import { formatAge, stateLabel } from "../logic/format";
import { countByState } from "../logic/grouping";
import { useNow } from "../state/hooks";
import { tone } from "./bits";
import { BrowserNotifyToggle, NotifySinksPill } from "./NotifyStatus";

export function HealthBar({ observedFilter, onObserved }: { observedFilter: string; onObserved: (s: string) => void }) {
  const now = useNow();
  const h = store.health;
  const conn = store.connection;
  const daemonUp = !!h && !store.healthError;
  const live = conn.status === "live";
  const counts = countByState(store.list());
  const backendOk = !!h?.backend_reachable;
  const pollAge = h?.last_successful_poll_time ? formatAge(h.last_successful_poll_time, now) : "never";
  return (
    <div class="healthbar" role="status" aria-label="Daemon health">
      <span
        class={`pill ${daemonUp ? "good" : store.healthError ? "bad" : "plain"}`}
        title={h?.start_time ? `up since ${h.start_time}` : store.healthError}
      >
        <span class="dot" aria-hidden="true" />
        skydeckd {h?.version ?? ""} {store.healthError ? "unreachable" : ""}
      </span>
      <span class={`pill ${live ? "good" : "warn"}`} data-testid="live-status">
        <span class="dot" aria-hidden="true" />
        {live ? "live" : conn.status === "connecting" ? "connecting…" : `reconnecting ${retryIn(conn.retryAt, now)}`}
        {!live && conn.status !== "connecting" && (
          <button type="button" class="link" onClick={() => sync.reconnectNow()}>
            now
          </button>
        )}
      </span>
      {h && (
        <span
          class={`pill ${backendOk ? "good" : "bad"}`}
          title={[h.backend_version && `version ${h.backend_version}`, h.last_poll_error].filter(Boolean).join("\n")}
        >
          <span class="dot" aria-hidden="true" />
          {h.backend || "backend"}
          {h.backend_api_version ? ` · API ${h.backend_api_version}` : ""} · {backendOk ? "reachable" : "unreachable"}
        </span>
      )}
      {h && <span class="pill plain">polled {pollAge}</span>}
      <NotifySinksPill health={h} />
      <BrowserNotifyToggle />
      <span class="counts" aria-label="Experiments by observed state">
        {OBSERVED_STATES.filter((s) => counts[s]).map((s) => (
          <button
            type="button"
            key={s}
            class={`count tone-${tone(s)} ${observedFilter === s ? "active" : ""}`}
            aria-pressed={observedFilter === s}
            title={`Show only ${stateLabel(s)}`}
            onClick={() => onObserved(observedFilter === s ? "" : s)}
          >
            {stateLabel(s)} <b>{counts[s]}</b>
          </button>
        ))}
      </span>
    </div>
  );
}

function retryIn(at: number, now: number): string {
  const s = Math.max(0, Math.ceil((at - now) / 1000));
  return s ? `in ${s}s` : "…";
}

export function Banner() {
  const h = store.health;
  if (/bearer token/i.test(store.healthError)) {
    return (
      <div class="banner bad" role="alert">
        <b>This skydeckd requires an access token.</b>{" "}
        <button type="button" class="link" onClick={() => void askForToken().then((ok) => ok && sync.reconnectNow())}>
          Enter token
        </button>
      </div>
    );
  }
  if (store.healthError && !store.loaded) {
    return (
      <div class="banner bad" role="alert">
        <b>Cannot reach skydeckd.</b> {store.healthError}. Retrying…
      </div>
    );
  }
  if (store.healthError) {
    return (
      <div class="banner bad" role="alert">
        <b>Lost contact with skydeckd.</b> {store.healthError}. What you see may be out of date; reconnecting.
      </div>
    );
  }
  if (h?.database_problem) {
    return (
      <div class="banner bad" role="alert" data-testid="database-problem">
        <b>Changes cannot be saved.</b> {h.database_problem}
      </div>
    );
  }
  if (h && (!h.backend_reachable || h.status === "DEGRADED")) {
    return (
      <div class="banner bad" role="alert" data-testid="backend-down">
        <b>Backend {h.backend || ""} is unreachable.</b>{" "}
        {h.last_poll_error ? `${h.last_poll_error}. ` : ""}
        Jobs keep their last known state and changes are applied once it is back
        {h.last_successful_poll_time ? ` (last good poll ${formatAge(h.last_successful_poll_time, Date.now())})` : ""}.
      </div>
    );
  }
  if (store.connection.status === "reconnecting" && store.loaded) {
    return (
      <div class="banner warn" role="status">
        Live updates interrupted ({store.connection.error}); reconnecting and catching up from revision {store.revision}.
      </div>
    );
  }
  return null;
}

