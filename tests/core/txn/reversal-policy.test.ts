/**
 * The two reversal policies (modules/txn/reversal-policy.ts) as the bank and the merchant see them, through the
 * scenario runner on a virtual clock (Node and XS): when each 0400 goes out, what counts as an attempt, when a
 * reversal is 冲正失败 and when it is only pending. The tables themselves are frozen data; these tests read their
 * effect, so a changed entry fails here, in the txn room's own suites (docs/testing.md).
 */
import { REFERENCE_POLICY, XSPOS_POLICY, type ReversalPolicy } from "../../../modules/txn/reversal-policy";
import { runScenario, type ScenarioEvent } from "../../../tools/scenario/runner";
import { parseScenario } from "../../../tools/scenario/scenario-file";

const RESPONSE_TIMEOUT_MS = 1000;
const ATTEMPTS = 3;
/** The sale's 0200 is read and its connection closed: the sale (STAN 000002) is owed a reversal at once. */
const SALE_OWED = [
  { op: "hostFault", fault: { kind: "closeAfterRead", mti: "0200" } },
  { op: "sale", amount: 1234, card: "unionpay-msr", pin: "1234" },
  { op: "advance", ms: 22 },
];

function run(steps: unknown[], policy: ReversalPolicy, attempts = ATTEMPTS): ScenarioEvent[] {
  const terminal = { reversalAttempts: attempts, responseTimeoutMs: RESPONSE_TIMEOUT_MS };
  const scenario = { terminal, steps: [{ op: "powerOn" }, { op: "signOn" }, ...SALE_OWED, ...steps, { op: "drain" }] };
  return runScenario(parseScenario(scenario), { reversalPolicy: policy }).events as ScenarioEvent[];
}
const times0400 = (events: readonly ScenarioEvent[]) => events.filter((e) => e.ev === "send" && e.mti === "0400").map((e) => e.t);
const states = (events: readonly ScenarioEvent[]) => events.filter((e) => e.ev === "journal" && e.stan === "000002").map((e) => e.state);
const saleResult = (events: readonly ScenarioEvent[]) => events.find((e) => e.ev === "result" && e.op === "sale");
const gaps = (times: readonly number[]) => times.slice(1).map((t, i) => t - times[i]);
const timeOf = (events: readonly ScenarioEvent[], state: string) => events.find((e) => e.ev === "journal" && e.state === state)!.t;

describe("a host reached that never answers the 0400", () => {
  const unanswered = { op: "hostFault", fault: { kind: "noResponse", mti: "0400", count: ATTEMPTS } };

  test("reference: the attempts back to back, one response timeout apart, then 冲正失败 until the next online message", () => {
    const events = run([unanswered], REFERENCE_POLICY);
    const sends = times0400(events);
    expect(sends).toHaveLength(ATTEMPTS);
    expect(gaps(sends)).toEqual([RESPONSE_TIMEOUT_MS, RESPONSE_TIMEOUT_MS]);
    expect(states(events)).toEqual(["armed", "reversalDue", "failed"]);
    expect(timeOf(events, "failed") - sends[ATTEMPTS - 1]).toBe(RESPONSE_TIMEOUT_MS);
    expect(saleResult(events)).toMatchObject({ outcome: "timeout" });
    expect(saleResult(events)).not.toHaveProperty("reversalPending");
  });

  test("xspos: 2 s then 5 s of backoff between attempts, 冲正失败 after the third, then the idle worker's retry 5 s later goes through", () => {
    const events = run([unanswered], XSPOS_POLICY);
    const sends = times0400(events);
    expect(sends).toHaveLength(ATTEMPTS + 1);
    // Each gap: the response timeout, the backoff, and the 20 ms the emulated network takes to connect again.
    const connectMs = gaps(sends)[0] - RESPONSE_TIMEOUT_MS - 2_000;
    expect(connectMs).toBeGreaterThanOrEqual(0);
    expect(connectMs).toBeLessThan(100);
    expect(gaps(sends).slice(0, 2)).toEqual([RESPONSE_TIMEOUT_MS + 2_000 + connectMs, RESPONSE_TIMEOUT_MS + 5_000 + connectMs]);
    expect(states(events)).toEqual(["armed", "reversalDue", "failed", "reversed"]);
    const failedAt = timeOf(events, "failed");
    expect(failedAt - sends[ATTEMPTS - 1]).toBe(RESPONSE_TIMEOUT_MS);
    // The first idle retry: 5 s after the episode ended, then the connect.
    expect(sends[ATTEMPTS] - failedAt - 5_000).toBe(connectMs);
  });
});

test("xspos with more attempts than backoff entries: the last entry repeats", () => {
  const events = run([{ op: "hostFault", fault: { kind: "noResponse", mti: "0400", count: 5 } }], XSPOS_POLICY, 5);
  const sends = times0400(events).slice(0, 5);
  const connectMs = gaps(sends)[0] - RESPONSE_TIMEOUT_MS - 2_000;
  expect(gaps(sends)).toEqual([2_000, 5_000, 10_000, 10_000].map((backoffMs) => RESPONSE_TIMEOUT_MS + backoffMs + connectMs));
});

describe("a link that refuses every connection (nothing reaches the bank)", () => {
  const refused = (count: number) => ({ op: "hostFault", fault: { kind: "refuseConnection", count } });

  test("reference: each refused connect is an attempt, so three refusals are 冲正失败 with no 0400 ever sent", () => {
    const events = run([refused(ATTEMPTS)], REFERENCE_POLICY);
    expect(times0400(events)).toEqual([]);
    expect(states(events)).toEqual(["armed", "reversalDue", "failed"]);
    expect(saleResult(events)).not.toHaveProperty("reversalPending");
  });

  test("xspos: a refusal spends no attempt; the reversal stays pending and the idle worker retries 5, 15, 30, 60, 120 s apart", () => {
    const events = run([refused(5)], XSPOS_POLICY);
    expect(saleResult(events)).toMatchObject({ outcome: "timeout", reversalPending: true });
    expect(states(events)).toEqual(["armed", "reversalDue", "reversed"]);
    const [sent] = times0400(events);
    // Five refusals: the episode's own try and four idle retries; the fifth retry (after 5+15+30+60+120 s) is answered.
    const pendingAt = saleResult(events)!.t;
    expect(sent - pendingAt).toBeGreaterThanOrEqual(230_000);
    expect(sent - pendingAt).toBeLessThan(230_200);
  });
});

describe("a link that comes back", () => {
  /** The episode's connects are refused (`refusals`), then the link goes down for a second and comes back. */
  const steps = (refusals: number) => [
    { op: "hostFault", fault: { kind: "refuseConnection", count: refusals } },
    { op: "advance", ms: 100 },
    { op: "network", state: "down" },
    { op: "advance", ms: 1_000 },
    { op: "network", state: "up" },
    { op: "advance", ms: 1_000 },
  ];

  test("xspos sends what is owed as soon as the link is up, not at the idle worker's next retry", () => {
    const events = run(steps(1), XSPOS_POLICY);
    const pendingAt = saleResult(events)!.t;
    const sends = times0400(events);
    expect(sends).toHaveLength(1);
    expect(states(events)).toEqual(["armed", "reversalDue", "reversed"]);
    // The link came back 1 100 ms after the 22 ms step that ended the sale's episode; the idle retry was due at 5 s.
    expect(sends[0]).toBeGreaterThan(pendingAt + 1_000);
    expect(sends[0]).toBeLessThan(pendingAt + 1_200);
  });

  test("the reference does not: its 冲正失败 waits for the next online message", () => {
    const events = run(steps(ATTEMPTS), REFERENCE_POLICY);
    expect(times0400(events)).toEqual([]);
    expect(states(events)).toEqual(["armed", "reversalDue", "failed"]);
  });
});
