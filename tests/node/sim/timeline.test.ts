/**
 * The page's per-STAN reversal timeline from the engine's events and the
 * terminal's connection failures: what a test engineer reads instead of
 * piecing the trace together.
 */
import type { TxnEvent } from "../../../modules/txn/events";
import { ReversalTimeline } from "../../../tools/sim/timeline";

const sale = { stan: "000002", op: "sale", amount: 500 } as const;
const attempt = (n: number, deferred = false): TxnEvent => ({
  ev: "reversal",
  phase: "attempt",
  ...sale,
  attempt: n,
  attempts: 3,
  deferred,
});

test("a sale unanswered, a reversal refused at connect, owed, retried and reversed; the late 0210 marked", () => {
  const timeline = new ReversalTimeline();
  const feed: [number, TxnEvent][] = [
    [0, { ev: "exchange", op: "sale", stan: "000002", phase: "connecting" }],
    [1, { ev: "journal", stan: "000002", state: "armed" }],
    [2, { ev: "send", mti: "0200", stan: "000002" }],
    [60_002, { ev: "journal", stan: "000002", state: "reversalDue", reason: "98" }],
    [60_003, attempt(1)],
  ];
  for (const [t, event] of feed) timeline.onEngineEvent(t, event);
  timeline.onLinkFailure(60_010, "refused", "network down", false);
  timeline.onEngineEvent(60_011, { ev: "reversal", phase: "offline", ...sale, deferred: false });
  timeline.onEngineEvent(60_012, { ev: "result", op: "sale", stan: "000002", outcome: "timeout", amount: 500 });
  // A link failure with nothing on the wire belongs to no STAN.
  timeline.onLinkFailure(61_000, "refused", "network down", false);
  timeline.onEngineEvent(65_000, attempt(1, true));
  timeline.onEngineEvent(65_010, { ev: "send", mti: "0400", stan: "000002", f39: "98" });
  timeline.onEngineEvent(65_020, { ev: "recv", mti: "0410", stan: "000002", f39: "00" });
  timeline.onEngineEvent(65_021, { ev: "journal", stan: "000002", state: "reversed" });
  timeline.onEngineEvent(65_500, { ev: "recv", mti: "0210", stan: "000002", f39: "00", discarded: true, reason: "late" });

  const [line] = timeline.list();
  expect(line).toMatchObject({ stan: "000002", op: "sale", amount: 500, resolution: "reversed" });
  expect(line.entries.map((e) => [e.t, e.kind])).toEqual([
    [1, "request"],
    [2, "request"],
    [60_002, "deadline"],
    [60_003, "attempt"],
    [60_010, "refused"],
    [60_011, "offline"],
    [60_012, "result"],
    [65_000, "attempt"],
    [65_010, "sent"],
    [65_020, "answer"],
    [65_021, "resolution"],
    [65_500, "late"],
  ]);
  expect(line.entries[4].text).toBe("connect refused: network down");
  expect(line.entries[7].text).toBe("attempt 1 of 3 (owed from before)");
  expect(line.entries[11].text).toBe("0210 F39 00 late — the deadline had passed, discarded");
});

test("only STANs that owed a reversal are listed; a 冲正失败 stays failed while it is retried; a power cut is noted on open ones", () => {
  const timeline = new ReversalTimeline();
  timeline.onEngineEvent(0, { ev: "exchange", op: "sale", stan: "000003", phase: "connecting" });
  timeline.onEngineEvent(1, { ev: "send", mti: "0200", stan: "000003" });
  timeline.onEngineEvent(2, { ev: "recv", mti: "0210", stan: "000003", f39: "00" });
  timeline.onEngineEvent(3, { ev: "journal", stan: "000003", state: "completed" });
  expect(timeline.list()).toEqual([]);

  timeline.onEngineEvent(10, { ev: "journal", stan: "000004", state: "reversalDue", reason: "A0" });
  timeline.onEngineEvent(11, {
    ev: "reversal",
    phase: "failed",
    ...sale,
    stan: "000004",
    attempts: 3,
    deferred: false,
    firstFailure: true,
    salesBlocked: false,
  });
  timeline.onEngineEvent(12, { ev: "journal", stan: "000004", state: "failed" });
  timeline.onEngineEvent(20, { ev: "reversal", phase: "attempt", ...sale, stan: "000004", attempt: 1, attempts: 3, deferred: true });
  expect(timeline.list().map((l) => [l.stan, l.resolution])).toEqual([["000004", "failed"]]);
  expect(timeline.list()[0].entries[0].text).toBe("reversal due: A0 bad MAC");

  timeline.onEngineEvent(30, { ev: "journal", stan: "000005", state: "reversalDue", reason: "98" });
  timeline.onPower(31, "cut");
  expect(
    timeline
      .list()
      .find((l) => l.stan === "000005")!
      .entries.at(-1),
  ).toEqual({ t: 31, kind: "power", text: "power cut" });
  expect(
    timeline
      .list()
      .find((l) => l.stan === "000004")!
      .entries.at(-1)!.kind,
  ).toBe("attempt");
  timeline.clear();
  expect(timeline.list()).toEqual([]);
});

test("an answer with another STAN is shown on the exchange that was waiting, with the STAN it carried", () => {
  const timeline = new ReversalTimeline();
  timeline.onEngineEvent(0, { ev: "exchange", op: "sale", stan: "000007", phase: "connecting" });
  timeline.onEngineEvent(1, { ev: "send", mti: "0200", stan: "000007" });
  timeline.onEngineEvent(5, { ev: "recv", mti: "0210", stan: "999999", f39: "00", discarded: true, reason: "mismatch" });
  timeline.onEngineEvent(60_001, { ev: "journal", stan: "000007", state: "reversalDue", reason: "98" });
  const [line] = timeline.list();
  expect(line.stan).toBe("000007");
  expect(line.entries[1]).toEqual({ t: 5, kind: "discarded", text: "0210 F39 00 (STAN 999999) does not match the request — discarded" });
});
