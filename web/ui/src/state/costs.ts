// File: state/costs.ts
//
// Each experiment's GPU-hours and cost, and their total, for the table's
// cost column: one GetCost (grouped by experiment, added up by the daemon)
// now and then, rather than a request per experiment. Running jobs accrue,
// so the answer is read again every `intervalMs` while the page is open.

import { useEffect, useState } from "preact/hooks";
import { api } from "../api/client";
import type { CostLine } from "../api/types";
import { costsById } from "../logic/cost";

export interface Costs {
  byId: Map<string, CostLine>;
  total: CostLine | undefined;
  hasPrices: boolean;
}

export const NO_COSTS: Costs = { byId: new Map(), total: undefined, hasPrices: false };

export function useCosts(intervalMs = 30_000, refreshKey: unknown = undefined): Costs {
  const [costs, setCosts] = useState<Costs>(NO_COSTS);
  useEffect(() => {
    let live = true;
    const load = () =>
      api.cost("experiment").then(
        (r) => live && setCosts({ byId: costsById(r.lines), total: r.total, hasPrices: !!r.has_prices }),
        () => undefined, // an older daemon without GetCost: no column values
      );
    void load();
    const t = setInterval(load, intervalMs);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [intervalMs, refreshKey]);
  return costs;
}
