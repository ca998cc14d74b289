import { tortureSeed } from "../../../tools/journal/torture";

describe("journal torture (small run; the full run is tools/xspos torture)", () => {
  test.each([1, 2, 3])("seed %i: no violation under cuts, torn and lost writes, rot", (seed) => {
    const result = tortureSeed(seed, { steps: 120 });
    expect(result.violation).toBeUndefined();
    expect(result.crashPoints).toBeGreaterThan(5);
  });

  test("a seed replays exactly", () => {
    expect(tortureSeed(9, { steps: 80 })).toEqual(tortureSeed(9, { steps: 80 }));
  });
});
