import { describe, expect, it } from "vitest";
import type { Experiment } from "../api/types";
import { movesFor } from "./order";

const exp = (id: string, position?: number): Experiment => ({ id, name: `e${id}`, position });

describe("movesFor", () => {
  const shown = [exp("1"), exp("2"), exp("3"), exp("4")]; // positions = ids

  it("moves between two rows with one write at the midpoint", () => {
    expect(movesFor(shown, "4", 1)).toEqual([{ id: "4", position: 1.5 }]);
  });

  it("moves to the top and the bottom, one past the end row", () => {
    expect(movesFor(shown, "3", 0)).toEqual([{ id: "3", position: 0 }]);
    expect(movesFor(shown, "1", 3)).toEqual([{ id: "1", position: 5 }]);
  });

  it("writes nothing when dropped where it was", () => {
    expect(movesFor(shown, "2", 1)).toEqual([]);
    expect(movesFor(shown, "9", 0)).toEqual([]);
  });

  it("follows a descending display", () => {
    const desc = [exp("4"), exp("3"), exp("2"), exp("1")];
    expect(movesFor(desc, "1", 0, -1)).toEqual([{ id: "1", position: 5 }]);
    expect(movesFor(desc, "4", 2, -1)).toEqual([{ id: "4", position: 1.5 }]);
  });

  it("uses stored positions over ids", () => {
    const moved = [exp("7", 0.5), exp("1"), exp("2")];
    expect(movesFor(moved, "2", 0)).toEqual([{ id: "2", position: -0.5 }]);
  });

  it("renumbers the group when no number lies between the neighbours", () => {
    const a = 1;
    const b = a + Number.EPSILON; // adjacent doubles
    const tight = [exp("1", a), exp("2", b), exp("3", 3)];
    const moves = movesFor(tight, "3", 1);
    expect(moves).toEqual([
      { id: "3", position: 2 },
      { id: "2", position: 3 },
    ]);
  });
});
