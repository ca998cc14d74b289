import { AssertionError } from "../../../modules/base/assert";
import { nextReversalState, REVERSAL_FINAL_STATES, REVERSAL_TRANSITIONS, type ReversalState } from "../../../modules/txn/reversal-machine";

describe("the reversal machine", () => {
  test("the table is frozen and names each (state, event) pair once", () => {
    expect(Object.isFrozen(REVERSAL_TRANSITIONS)).toBe(true);
    const pairs = REVERSAL_TRANSITIONS.map((t) => `${t.from}/${t.on}`);
    expect(new Set(pairs).size).toBe(pairs.length);
  });

  test("the paths a sale can take", () => {
    const walk = (events: Parameters<typeof nextReversalState>[1][]): ReversalState =>
      events.reduce<ReversalState>((state, event) => nextReversalState(state, event), "armed");
    expect(walk(["written", "answer", "approved"])).toBe("approved");
    expect(walk(["written", "answer", "declined"])).toBe("completed");
    expect(walk(["written", "noAnswer", "attempt", "accepted"])).toBe("reversed");
    expect(walk(["written", "answer", "badMac", "attempt", "unanswered", "exhausted"])).toBe("failed");
    expect(walk(["written", "answer", "failedAfterApproval", "attempt", "unanswered", "exhausted", "attempt", "accepted"])).toBe(
      "reversed",
    );
    // A power cut anywhere before a final state comes back owing a reversal, and 冲正失败 stays 冲正失败.
    expect(walk(["written", "boot"])).toBe("reversalDue");
    expect(walk(["written", "noAnswer", "attempt", "boot"])).toBe("reversalDue");
    expect(walk(["written", "noAnswer", "exhausted", "boot"])).toBe("failed");
  });

  test("a move the table does not name is a bug, never a silent path", () => {
    expect(() => nextReversalState("armed", "approved")).toThrow(AssertionError);
    expect(() => nextReversalState("failed", "exhausted")).toThrow("reversal: no transition from failed on exhausted");
    for (const final of REVERSAL_FINAL_STATES) expect(REVERSAL_TRANSITIONS.filter((t) => t.from === final)).toEqual([]);
  });

  test("every state is reachable from armed, and every non-final state can still move", () => {
    const reached = new Set<ReversalState>(["armed"]);
    for (let changed = true; changed;) {
      changed = false;
      for (const t of REVERSAL_TRANSITIONS)
        if (reached.has(t.from) && !reached.has(t.to)) {
          reached.add(t.to);
          changed = true;
        }
    }
    const states = new Set(REVERSAL_TRANSITIONS.flatMap((t) => [t.from, t.to]));
    expect([...states].filter((s) => !reached.has(s))).toEqual([]);
    for (const s of states) if (!REVERSAL_FINAL_STATES.includes(s)) expect(REVERSAL_TRANSITIONS.some((t) => t.from === s)).toBe(true);
  });
});
