// File: ui/Links.tsx
//
// Link buttons: an experiment's (its own link and the daemon's --link
// templates, read with GetExperiment) and a job's (in its answers). Each
// opens in a new tab without giving the other page a handle on this one.

import { useEffect, useState } from "preact/hooks";
import { api } from "../api/client";
import type { Link } from "../api/types";
import { safeLinks } from "../logic/cost";

export function LinkButtons({ links, label }: { links: Link[] | undefined; label: string }) {
  const shown = safeLinks(links);
  if (!shown.length) return null;
  return (
    <span class="links" role="group" aria-label={label} data-testid="links">
      {shown.map((l) => (
        <a key={l.name} class="btn small ghost link-btn" href={l.url} target="_blank" rel="noopener noreferrer" title={l.url}>
          {l.name} ↗
        </a>
      ))}
    </span>
  );
}

/** The experiment's resolved links, read again when its newest job changes (a job's id fills templates). */
export function ExperimentLinks({ id, newestJob }: { id: string; newestJob: string | undefined }) {
  const [links, setLinks] = useState<Link[]>([]);
  useEffect(() => {
    let live = true;
    api.getExperiment(id).then(
      (e) => live && setLinks(e?.links ?? []),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [id, newestJob]);
  return <LinkButtons links={links} label="Experiment links" />;
}
