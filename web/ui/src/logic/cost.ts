// File: logic/cost.ts
//
// GPU-hours and cost as the dashboard shows them (the daemon adds them up:
// GetCost), and which links are safe to open.

import type { CostLine, Link } from "../api/types";

/** "12.3 GPU-h" (one decimal from 10 on, two below); "" for none. */
export function formatGpuHours(hours: number | undefined): string {
  if (!hours) return "";
  return `${hours >= 10 ? hours.toFixed(1) : hours.toFixed(2)} GPU-h`;
}

/** "$1,234.56"; "" when unknown. */
export function formatCost(usd: number | undefined): string {
  if (usd === undefined || !Number.isFinite(usd)) return "";
  return `$${usd.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/**
 * The cost cell of a line: its cost when priced ("+ n GPU-h unpriced" when
 * part is not), its GPU-hours when the daemon has no prices; "" for none.
 */
export function costCell(line: CostLine | undefined, hasPrices: boolean): string {
  if (!line || !line.gpu_hours) return "";
  if (!hasPrices) return formatGpuHours(line.gpu_hours);
  const unpriced = line.unpriced_gpu_hours ?? 0;
  if (unpriced >= line.gpu_hours) return `${formatGpuHours(line.gpu_hours)} (no price)`;
  const cost = formatCost(line.cost ?? 0);
  return unpriced > 0 ? `${cost} + ${formatGpuHours(unpriced)} unpriced` : cost;
}

/** Only absolute http(s) links are rendered (the daemon validates them too). */
export function safeLinks(links: Link[] | undefined): Link[] {
  return (links ?? []).filter((l) => !!l.url && /^https?:\/\/[^/\s]/i.test(l.url));
}

/** Costs by experiment id, from a GetCost answer grouped by experiment. */
export function costsById(lines: CostLine[] | undefined): Map<string, CostLine> {
  const out = new Map<string, CostLine>();
  for (const l of lines ?? []) if (l.experiment_id) out.set(String(l.experiment_id), l);
  return out;
}
