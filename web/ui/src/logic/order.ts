// File: logic/order.ts
//
// Order within a group by drag: where a dragged experiment lands, as the
// positions to write. Positions are sparse numbers (an experiment never
// moved has its id): a drop between two rows takes the midpoint of their
// positions, so one drag is one write. A group is a subset of all
// experiments, and the order is one global order restricted to it, so a
// move never disturbs another group. Only when two neighbours are so close
// that no number lies between them (after ~50 drops into the same gap) is
// the whole group renumbered, one write per experiment.

import type { Experiment } from "../api/types";
import { positionOf } from "./grouping";

export interface Move {
  id: string;
  position: number;
}

/**
 * The writes that move `movedId` to index `to` of `shown` (the group's
 * rows as displayed, `dir` 1 when shown by ascending position, -1 when
 * descending; `to` counts rows of `shown` without the moved one). Empty
 * when nothing changes.
 */
export function movesFor(shown: Experiment[], movedId: string, to: number, dir: 1 | -1 = 1): Move[] {
  const from = shown.findIndex((e) => e.id === movedId);
  if (from < 0) return [];
  const rest = shown.filter((e) => e.id !== movedId);
  const at = Math.max(0, Math.min(to, rest.length));
  if (at === from) return [];
  const before = rest[at - 1];
  const after = rest[at];
  let position: number;
  if (before && after) position = (positionOf(before) + positionOf(after)) / 2;
  else if (before) position = positionOf(before) + dir;
  else if (after) position = positionOf(after) - dir;
  else return [];
  const strictlyBetween =
    (!before || Math.sign(position - positionOf(before)) === dir) && (!after || Math.sign(positionOf(after) - position) === dir);
  if (strictlyBetween) return [{ id: movedId, position }];
  // No room left between the neighbours: renumber the group as it will be shown.
  const order = [...rest.slice(0, at), shown[from], ...rest.slice(at)];
  return order
    .map((e, i) => ({ id: e.id!, position: dir * (i + 1) }))
    .filter((m, i) => positionOf(order[i]) !== m.position);
}
