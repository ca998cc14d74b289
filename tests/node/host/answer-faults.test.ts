/**
 * The host faults that spoil one part of an answer the host did process, and nothing else: a decline whose
 * MAC is spoilt (`decline` with `badMac`), an approval that does not echo F3, F4 or F42 (`wrongEcho`), an
 * approval without F37 or F38 (`dropFields`). The terminal's side is tests/core/txn/engine-answers.test.ts;
 * here, what the host sends and books, and that the parser and docs/schemas/fault.schema.json agree.
 */
import Ajv from "ajv";
import fs from "node:fs";
import { SeededRandom } from "../../../modules/platform/random";
import { HostCore } from "../../../tools/host/core";
import type { HostDecision } from "../../../tools/host/decision";
import { FaultSpecError, parseFault } from "../../../tools/host/faults";
import { SqliteLedger } from "../../../tools/host/sqlite-ledger";
import { DEFAULT_TERMINALS, registry } from "../../../tools/host/terminals";
import { TestTerminal, type SaleInput } from "../../../tools/host/test-terminal";

const NOW_MS = Date.UTC(2026, 10, 25, 12, 0, 0);
const VISA: Omit<SaleInput, "stan"> = { amount: 1234, pan: "4761730000000011", expiry: "3012", pin: "1234" };
const TID = DEFAULT_TERMINALS[0].tid;

const validFault = new Ajv({ allErrors: true }).compile(JSON.parse(fs.readFileSync("docs/schemas/fault.schema.json", "utf8")) as object);

function setup(): { core: HostCore; ledger: SqliteLedger; terminal: TestTerminal } {
  const ledger = new SqliteLedger(":memory:");
  const core = new HostCore({ ledger, terminals: registry(DEFAULT_TERMINALS), random: new SeededRandom(7) });
  const terminal = new TestTerminal(DEFAULT_TERMINALS[0]);
  terminal.acceptSignOn(core.handle(terminal.signOn("000001"), { nowMs: NOW_MS }).response!);
  return { core, ledger, terminal };
}

/** The sale 000002 under `fault`: the answer's fields, whether its MAC verifies, and what the host booked. */
function saleUnder(fault: unknown) {
  const { core, ledger, terminal } = setup();
  core.faults.add(parseFault(fault));
  const decision: HostDecision = core.handle(terminal.sale({ ...VISA, stan: "000002" }), { nowMs: NOW_MS });
  expect(decision.response).toBeDefined();
  const booked = ledger.find(TID, "000001", "000002");
  const result = { fields: terminal.decode(decision.response!).fields, macValid: terminal.macValid(decision.response!), booked };
  ledger.close();
  return result;
}

describe("decline with badMac", () => {
  test.each(["12", "25", "51"])("answers %s with a spoilt MAC and books the decline", (code) => {
    const { fields, macValid, booked } = saleUnder({ kind: "decline", code, badMac: true, mti: "0200" });
    expect([fields[39], fields[64] !== undefined, macValid]).toEqual([code, true, false]);
    expect(booked).toMatchObject({ state: "declined", responseCode: code });
  });

  test("without badMac (or badMac false) the decline's MAC verifies", () => {
    expect(saleUnder({ kind: "decline", code: "12" }).macValid).toBe(true);
    expect(saleUnder({ kind: "decline", code: "12", badMac: false }).macValid).toBe(true);
  });
});

describe("wrongEcho", () => {
  test.each([
    [3, "000001"],
    [4, "000000001235"],
    [42, "898100012340002"],
  ])("changes the last digit of F%i (%s), MAC correct, the approval booked", (field, changed) => {
    const { fields, macValid, booked } = saleUnder({ kind: "wrongEcho", field });
    expect(fields[field]).toBe(changed);
    expect([fields[39], fields[11], macValid]).toEqual(["00", "000002", true]);
    expect(booked).toMatchObject({ state: "approved", amount: 1234 });
  });

  test("a field the answer does not carry stays absent (F4 of a balance inquiry)", () => {
    const { core, ledger, terminal } = setup();
    core.faults.add(parseFault({ kind: "wrongEcho", field: 4 }));
    const decision = core.handle(terminal.balance({ ...VISA, stan: "000002" }), { nowMs: NOW_MS });
    const fields = terminal.decode(decision.response!).fields;
    expect([fields[3], fields[4], fields[39], terminal.macValid(decision.response!)]).toEqual(["310000", undefined, "00", true]);
    ledger.close();
  });
});

describe("dropFields", () => {
  test.each([[[37]], [[38]], [[37, 38]]])("an approval without %j: the bitmap and MAC match, the approval booked", (dropped) => {
    const { fields, macValid, booked } = saleUnder({ kind: "dropFields", fields: dropped });
    for (const n of [37, 38]) expect([n, fields[n] === undefined]).toEqual([n, dropped.includes(n)]);
    expect([fields[39], macValid]).toEqual(["00", true]);
    // The host booked its own references: only the answer goes without them.
    expect(booked).toMatchObject({
      state: "approved",
      rrn: expect.stringMatching(/^[0-9]{12}$/),
      authCode: expect.stringMatching(/^.{6}$/),
    });
  });
});

describe("oddReferences", () => {
  test("F38 in lower case and F37 with letters: valid an6/an12 for the codec, the MAC over them, the approval booked", () => {
    const { fields, macValid, booked } = saleUnder({ kind: "oddReferences", fields: [37, 38] });
    expect(fields[38]).toBe("ab12cd");
    expect(fields[37]).toMatch(/^RRN[0-9]{8}X$/);
    expect([fields[39], macValid]).toEqual(["00", true]);
    expect(booked).toMatchObject({ state: "approved", rrn: expect.stringMatching(/^[0-9]{12}$/) });
  });
});

describe("the new parameters: parser and schema agree", () => {
  test.each([
    { kind: "decline", code: "12", badMac: true },
    { kind: "decline", code: "25", badMac: false, mti: "0200" },
    { kind: "wrongEcho", field: 3 },
    { kind: "wrongEcho", field: 42, count: 2, mti: "0220" },
    { kind: "dropFields", fields: [38] },
    { kind: "dropFields", fields: [37, 38] },
    { kind: "oddReferences", fields: [37] },
  ])("%j is accepted", (fault) => {
    expect(validFault(fault)).toBe(true);
    expect(parseFault(fault)).toEqual({ count: 1, ...fault });
  });

  test.each([
    [{ kind: "badMac", badMac: true }, "badMac"],
    [{ kind: "decline", code: "12", badMac: "yes" }, "badMac"],
    [{ kind: "wrongEcho" }, "field"],
    [{ kind: "wrongEcho", field: 11 }, "field"],
    [{ kind: "wrongEcho", field: "3" }, "field"],
    [{ kind: "wrongMerchant", field: 42 }, "field"],
    [{ kind: "dropFields" }, "fields"],
    [{ kind: "dropFields", fields: [] }, "fields"],
    [{ kind: "dropFields", fields: [39] }, "fields"],
    [{ kind: "dropFields", fields: [38, 38] }, "fields"],
    [{ kind: "dropFields", fields: 38 }, "fields"],
    [{ kind: "stripMac", fields: [38] }, "fields"],
    [{ kind: "oddReferences" }, "fields"],
    [{ kind: "oddReferences", fields: [39] }, "fields"],
  ])("%j is refused, naming %s", (fault, key) => {
    expect(validFault(fault)).toBe(false);
    expect(() => parseFault(fault)).toThrow(FaultSpecError);
    expect(() => parseFault(fault)).toThrow(`fault ${key}:`);
  });
});
