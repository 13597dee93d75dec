// File: ui/CostTotal.tsx
//
// The total GPU-hours and cost of every job (GetCost), in the top bar.

import { costCell, formatGpuHours } from "../logic/cost";
import type { Costs } from "../state/costs";

export function CostTotal({ costs }: { costs: Costs }) {
  const t = costs.total;
  if (!t || !t.gpu_hours) return null;
  const running = t.live_job_count ? ` · ${t.live_job_count} running` : "";
  return (
    <span
      class="cost-total"
      data-testid="cost-total"
      title={`All jobs: ${formatGpuHours(t.gpu_hours)}${running}; skydeck cost --by experiment shows the lines`}
    >
      <span class="muted small">Total</span> {costCell(t, costs.hasPrices)}
    </span>
  );
}
