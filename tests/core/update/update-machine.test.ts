/** The update machine's table: closed, frozen, and every state reachable from `available`. */
import { AssertionError } from "../../../modules/base/assert";
import { nextUpdateState, UPDATE_FINAL_STATES, UPDATE_TRANSITIONS, type UpdateState } from "../../../modules/update/update-machine";

describe("update machine", () => {
  test("the table is frozen, each row too, and no (state, event) pair appears twice", () => {
    expect(Object.isFrozen(UPDATE_TRANSITIONS)).toBe(true);
    expect(UPDATE_TRANSITIONS.every((t) => Object.isFrozen(t))).toBe(true);
    const pairs = UPDATE_TRANSITIONS.map((t) => `${t.from}/${t.on}`);
    expect(new Set(pairs).size).toBe(pairs.length);
  });

  test("every state is reachable from available; final states have no way out", () => {
    const reached = new Set<UpdateState>(["available"]);
    for (let round = 0; round < UPDATE_TRANSITIONS.length; round++)
      for (const t of UPDATE_TRANSITIONS) if (reached.has(t.from)) reached.add(t.to);
    expect([...reached].sort()).toEqual(
      ["activated", "available", "confirmed", "downloading", "rejected", "rolledBack", "verified", "waiting"].sort(),
    );
    for (const final of UPDATE_FINAL_STATES) expect(UPDATE_TRANSITIONS.filter((t) => t.from === final)).toEqual([]);
  });

  test("the paths of the issue: a good image waits and confirms; one that crashes rolls back", () => {
    const walk = (from: UpdateState, events: Parameters<typeof nextUpdateState>[1][]) => events.reduce(nextUpdateState, from);
    expect(
      walk("available", ["accept", "boot", "interrupted", "digestMatch", "journalBusy", "boot", "journalClean", "boot", "bootPassed"]),
    ).toBe("confirmed");
    expect(walk("available", ["accept", "digestMatch", "journalClean", "bootFailed"])).toBe("rolledBack");
    expect(walk("available", ["refuse"])).toBe("rejected");
    expect(walk("available", ["accept", "digestMismatch"])).toBe("rejected");
  });

  test("a pair the table does not name is an assertion (a bug), never a silent path", () => {
    expect(() => nextUpdateState("available", "bootPassed")).toThrow(AssertionError);
    expect(() => nextUpdateState("rejected", "boot")).toThrow(AssertionError);
    expect(() => nextUpdateState("waiting", "journalBusy")).toThrow(AssertionError);
  });
});
