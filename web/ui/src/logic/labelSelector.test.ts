// tests/golden/label_selector.json: the daemon's LabelSelector
// (tests/common/label_selector_golden_test.cc) is tested against the same
// table, and it is the API's truth.
import { describe, expect, it } from "vitest";
import golden from "../../../../tests/golden/label_selector.json";
import { parseLabelSelector } from "./labelSelector";

const labelSets = Object.entries(golden.labels as Record<string, Record<string, string>>);

describe("label selectors agree with the daemon (golden table)", () => {
  it.each(golden.cases)("selector '$selector'", (c) => {
    if ("error" in c) {
      expect(() => parseLabelSelector(c.selector)).toThrow();
      return;
    }
    const matches = parseLabelSelector(c.selector);
    expect(labelSets.filter(([, labels]) => matches(labels)).map(([name]) => name)).toEqual(c.matches);
  });
});
