// The parameter table's text parameter, the TMS parameter block, and a download applied through the
// state record as a whole or not at all (power cut at every flash operation), in Node and in XS.
import { crc32 } from "../../../modules/base/crc32";
import {
  decodeParameterBlock,
  encodeParameterBlock,
  ParameterError,
  PARAMETER_BLOCK_BYTES_MAX,
  PARAMETER_TABLE,
  resolveParameters,
} from "../../../modules/terminal/parameters";
import { renderSlip } from "../../../modules/ui/slips";
import { runScenario } from "../../../tools/scenario/runner";
import { parseScenario } from "../../../tools/scenario/scenario-file";

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof ParameterError) return error.parameter;
    throw error;
  }
  return "none";
}

describe("hotlineText", () => {
  test("UTF-8 text of at most 48 bytes, no control characters; default empty", () => {
    expect(resolveParameters().hotlineText).toBe("");
    expect(resolveParameters({ hotlineText: "收单客服 95516" }).hotlineText).toBe("收单客服 95516");
    expect(resolveParameters({ hotlineText: "客".repeat(16) }).hotlineText.length).toBe(16); // 48 bytes
    expect(refusal(() => resolveParameters({ hotlineText: "客".repeat(16) + "x" }))).toBe("hotlineText");
    expect(refusal(() => resolveParameters({ hotlineText: "call\n95516" }))).toBe("hotlineText");
    expect(refusal(() => resolveParameters({ hotlineText: 95516 }))).toBe("hotlineText");
  });

  test("is printed on 冲正失败 slips when set", () => {
    const slip = { terminalId: "10000001", merchantId: "898100012340003", atMs: 0, kind: "reversalFailed" as const };
    const base = { ...slip, op: "sale" as const, stan: "000002", amount: 100, attempts: 3, salesBlocked: false };
    expect(renderSlip({ ...base, hotline: "收单客服 95516" })).toContain("客服热线 HOTLINE 收单客服 95516");
    expect(renderSlip(base).some((line) => line.includes("HOTLINE"))).toBe(false);
  });
});

describe("the TMS parameter block", () => {
  test("tag, length, value: numbers big-endian, flags one byte, text UTF-8; round trip of every parameter", () => {
    expect(Array.from(encodeParameterBlock({ amountMaxMinor: 5000, blockSalesWhileReversalFailed: true }))).toEqual([
      4, 1, 1, 5, 2, 0x13, 0x88,
    ]);
    const all = { ...resolveParameters(), hotlineText: "客服 95516", batchAmountMaxMinor: 999_999_999_999 };
    const block = encodeParameterBlock(all);
    expect(block.length).toBeLessThanOrEqual(PARAMETER_BLOCK_BYTES_MAX);
    expect(resolveParameters(decodeParameterBlock(block))).toEqual(all);
    expect(new Set(PARAMETER_TABLE.map((p) => p.tag)).size).toBe(PARAMETER_TABLE.length);
  });

  test("malformed blocks are ParameterErrors: empty, too long, cut short, past the end, unknown tag, twice, wide number, bad UTF-8", () => {
    for (const bad of [
      [],
      new Array(PARAMETER_BLOCK_BYTES_MAX + 1).fill(0),
      [5],
      [5, 3, 1, 2],
      [99, 1, 0],
      [3, 1, 2, 3, 1, 2],
      [5, 7, 1, 1, 1, 1, 1, 1, 1],
      [5, 0],
      [8, 2, 0xc0, 0x80],
    ])
      expect(() => decodeParameterBlock(Uint8Array.from(bad))).toThrow(ParameterError);
    expect(refusal(() => encodeParameterBlock({ nosuch: 1 }))).toBe("nosuch");
    expect(refusal(() => encodeParameterBlock({ hotlineText: 1 }))).toBe("hotlineText");
    expect(refusal(() => encodeParameterBlock({ amountMaxMinor: "1" }))).toBe("amountMaxMinor");
    expect(refusal(() => encodeParameterBlock({ amountMaxMinor: -1 }))).toBe("block");
  });

  test("an out-of-range value decodes (the block is well formed) and is refused by the table", () => {
    const values = decodeParameterBlock(encodeParameterBlock({ reversalAttempts: 0, amountMaxMinor: 5 }));
    expect(values).toEqual({ reversalAttempts: 0, amountMaxMinor: 5 });
    expect(refusal(() => resolveParameters(values))).toBe("reversalAttempts");
    expect(crc32(encodeParameterBlock({ amountMaxMinor: 5 }))).toBe(crc32(Uint8Array.of(5, 1, 5)));
  });
});

describe("a download through the state record", () => {
  const PUBLISH = { op: "tmsPublish", parameters: { amountMaxMinor: 5000, reversalAttempts: 2 } };
  const run = (steps: unknown[]) => runScenario(parseScenario({ terminal: { responseTimeoutMs: 1000 }, steps }));
  const before = [{ op: "powerOn" }, { op: "signOn" }, { op: "drain" }, PUBLISH];
  const SALE = [{ op: "powerOn" }, { op: "sale", amount: 6000, card: "unionpay-msr", pin: "1234" }, { op: "drain" }];

  test("a cut at any flash operation of the check leaves the old parameters or the new ones, all of them", () => {
    // The check's flash operations: the runs with and without it differ by exactly those.
    const checkOps = run([...before, { op: "tmsCheck" }, { op: "drain" }]).flashOps - run(before).flashOps;
    expect(checkOps).toBeGreaterThan(3);
    let sawOld = 0;
    let sawNew = 0;
    for (let cut = 1; cut <= checkOps; cut++) {
      const events = run([...before, { op: "powerCut", atFlashOp: cut }, { op: "tmsCheck" }, { op: "drain" }, ...SALE]).events;
      expect(events).toContainEqual(expect.objectContaining({ ev: "power", state: "cut" }));
      const refused = events.some((e) => e.ev === "result" && e.op === "sale" && e.refusal === "amountLimit");
      const approved = events.some((e) => e.ev === "result" && e.op === "sale" && e.outcome === "approved");
      expect([cut, refused !== approved]).toEqual([cut, true]);
      if (refused) sawNew++;
      else sawOld++;
      expect(events.at(-1)).toMatchObject({ ev: "reconcile", agree: true });
    }
    expect(sawOld).toBeGreaterThan(0);
    expect(sawNew).toBeGreaterThan(0);
  });
});
