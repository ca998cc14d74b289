/**
 * The host core in-process (no network): authentication, MAC and PIN checks,
 * the card catalogue, the ledger's money rules, and every fault kind's effect
 * on the ledger.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { TEST_CARDS } from "../../../modules/card/test-cards";
import { KeyCheckError } from "../../../modules/crypto/errors";
import { SeededRandom } from "../../../modules/platform/random";
import { findCard } from "../../../tools/host/cards";
import { HostCore, type HostCoreOptions } from "../../../tools/host/core";
import type { HostDecision } from "../../../tools/host/decision";
import { FAULT_KINDS, FaultSpecError, parseFault, type FaultKind } from "../../../tools/host/faults";
import { SqliteLedger } from "../../../tools/host/sqlite-ledger";
import { DEFAULT_TERMINALS, registry } from "../../../tools/host/terminals";
import { TestTerminal, type SaleInput } from "../../../tools/host/test-terminal";

const NOW_MS = Date.UTC(2026, 10, 25, 12, 0, 0);
const VISA: Omit<SaleInput, "stan"> = { amount: 1234, pan: "4761730000000011", expiry: "3012", pin: "1234" };

function setup(
  dbPath = ":memory:",
  options: Pick<HostCoreOptions, "cards"> = {},
): { core: HostCore; ledger: SqliteLedger; terminal: TestTerminal } {
  const ledger = new SqliteLedger(dbPath);
  const core = new HostCore({ ledger, terminals: registry(DEFAULT_TERMINALS), random: new SeededRandom(7), ...options });
  return { core, ledger, terminal: new TestTerminal(DEFAULT_TERMINALS[0]) };
}

function signOn(core: HostCore, terminal: TestTerminal): void {
  const decision = core.handle(terminal.signOn("000001"), { nowMs: NOW_MS });
  terminal.acceptSignOn(decision.response!);
}

function answer(terminal: TestTerminal, decision: HostDecision): Record<number, string | undefined> {
  expect(decision.response).toBeDefined();
  return terminal.decode(decision.response!).fields;
}

describe("sign-on and authentication", () => {
  test("0810 carries working keys whose check values verify under the TMK, and the open batch", () => {
    const { core, terminal } = setup();
    const decision = core.handle(terminal.signOn("000001"), { nowMs: NOW_MS });
    const message = terminal.acceptSignOn(decision.response!);
    expect(message.mti).toBe("0810");
    expect(message.tpdu).toBe("6000000003");
    expect(message.fields[39]).toBe("00");
    expect(message.fields[60]).toBe("00000001003");
    expect(message.fields[62]).toHaveLength(80);
    expect(message.fields[64]).toBeUndefined();
  });

  test("each sign-on issues fresh keys", () => {
    const { core, terminal } = setup();
    const first = terminal.decode(core.handle(terminal.signOn("000001"), { nowMs: NOW_MS }).response!).fields[62];
    const second = terminal.decode(core.handle(terminal.signOn("000002"), { nowMs: NOW_MS }).response!).fields[62];
    expect(first).not.toBe(second);
  });

  test("a terminal signed on with another TMK fails the check values", () => {
    const { core } = setup();
    const impostor = new TestTerminal({ ...DEFAULT_TERMINALS[0], tmk: DEFAULT_TERMINALS[1].tmk });
    const decision = core.handle(impostor.signOn("000001"), { nowMs: NOW_MS });
    expect(() => impostor.acceptSignOn(decision.response!)).toThrow(KeyCheckError);
  });

  test("an unknown terminal gets a well-formed 97, a wrong merchant 03, never silence", () => {
    const { core } = setup();
    const stranger = new TestTerminal({ tid: "99999999", mid: "898100012340001", tmk: DEFAULT_TERMINALS[0].tmk });
    const unknown = core.handle(stranger.signOn("000001"), { nowMs: NOW_MS });
    expect(unknown.delivery).toEqual({ kind: "respond", delayMs: 0, copies: 1 });
    expect(answer(stranger, unknown)[39]).toBe("97");
    expect(answer(stranger, unknown)[41]).toBe("99999999");
    const wrongMid = new TestTerminal({ ...DEFAULT_TERMINALS[0], mid: "898100012349999" });
    expect(answer(wrongMid, core.handle(wrongMid.signOn("000001"), { nowMs: NOW_MS }))[39]).toBe("03");
  });

  test("a MAC'd request before any sign-on answers 77", () => {
    const { core, terminal } = setup();
    const other = setup().terminal;
    signOn(setup().core, other); // keys from a different host: this host has no session
    const decision = core.handle(other.sale({ ...VISA, stan: "000002" }), { nowMs: NOW_MS });
    expect(answer(terminal, decision)[39]).toBe("77");
  });

  test("malformed bytes give a close decision naming the problem; a response MTI is not a request", () => {
    const { core, terminal } = setup();
    for (const bytes of [new Uint8Array([1, 2, 3]), new Uint8Array(40).fill(0xff)]) {
      const decision = core.handle(bytes, { nowMs: NOW_MS });
      expect(decision.delivery.kind).toBe("close");
      expect(decision.malformed).toMatch(/at byte/);
    }
    const response = core.handle(terminal.signOn("000001"), { nowMs: NOW_MS }).response!;
    expect(core.handle(response, { nowMs: NOW_MS }).malformed).toMatch("not a request");
  });
});

describe("sales by the card catalogue", () => {
  test("an approved sale has a valid response MAC, echoes the keys fields and is booked", () => {
    const { core, ledger, terminal } = setup();
    signOn(core, terminal);
    const decision = core.handle(terminal.sale({ ...VISA, stan: "000002" }), { nowMs: NOW_MS });
    const f = answer(terminal, decision);
    expect(terminal.decode(decision.response!).mti).toBe("0210");
    expect(terminal.macValid(decision.response!)).toBe(true);
    expect(f).toMatchObject({ 3: "000000", 4: "000000001234", 11: "000002", 39: "00", 41: "10000001", 42: "898100012340001" });
    expect(f[38]).toHaveLength(6);
    expect(f[12]).toBe("120000");
    expect(f[13]).toBe("1125");
    const stored = ledger.find("10000001", "000001", "000002")!;
    expect(stored).toMatchObject({ state: "approved", amount: 1234, panMasked: "476173******0011", domestic: false });
  });

  test.each([
    ["wrong PIN", "55", { ...VISA, pin: "9999" }],
    ["no PIN block (the terminal did not ask for one)", "00", { ...VISA, pin: undefined }],
    ["insufficient funds", "51", { ...VISA, pan: "6228480000000049" }],
    ["expired card", "54", { ...VISA, pan: "6228480000000056", expiry: "2001" }],
    ["unknown card", "14", { ...VISA, pan: "6228480000000999" }],
    ["zero amount", "13", { ...VISA, amount: 0 }],
    ["chip card with its PIN", "00", { ...VISA, pan: "6228480000000023" }],
  ])("%s answers %s", (_name, code, input) => {
    const { core, ledger, terminal } = setup();
    signOn(core, terminal);
    const decision = core.handle(terminal.sale({ ...input, stan: "000002" }), { nowMs: NOW_MS });
    expect(answer(terminal, decision)[39]).toBe(code);
    expect(terminal.macValid(decision.response!)).toBe(true);
    expect(ledger.view("10000001").approved.count).toBe(code === "00" ? 1 : 0);
  });

  test.each(TEST_CARDS.map((card) => [card.name, card.hostResponse, card] as const))(
    "test card %s: a sale answers %s",
    (_name, code, card) => {
      const { core, terminal } = setup();
      signOn(core, terminal);
      const decision = core.handle(terminal.sale({ stan: "000002", amount: 100, pan: card.pan, expiry: card.expiry, pin: card.pin }), {
        nowMs: NOW_MS,
      });
      expect(answer(terminal, decision)[39]).toBe(code);
    },
  );

  test("the catalogue is the test cards themselves: every one is known, expired and chip-removed included", () => {
    const names = TEST_CARDS.map((card) => card.name);
    expect(names).toEqual(expect.arrayContaining(["expired", "chip-removed-mid-transaction", "insufficient-funds"]));
    for (const card of TEST_CARDS) expect(findCard(card.pan, undefined)).toBe(card);
    expect(findCard("6228480000000999", undefined)).toBeUndefined();
  });

  test("a catalogue passed to the core is used instead, with its own PIN", () => {
    const card = { name: "own", pan: VISA.pan, expiry: "3012", pin: "4321", hostResponse: "00" };
    const { core, terminal } = setup(":memory:", { cards: [card] });
    signOn(core, terminal);
    const sale = (stan: string, pin: string) =>
      answer(terminal, core.handle(terminal.sale({ stan, amount: 100, pan: card.pan, expiry: card.expiry, pin }), { nowMs: NOW_MS }))[39];
    expect(sale("000002", "1234")).toBe("55");
    expect(sale("000003", "4321")).toBe("00");
  });

  test("a request with a wrong MAC answers A0 and books nothing", () => {
    const { core, ledger, terminal } = setup();
    signOn(core, terminal);
    const request = terminal.sale({ ...VISA, stan: "000002" });
    request[request.length - 1] ^= 0x01;
    expect(answer(terminal, core.handle(request, { nowMs: NOW_MS }))[39]).toBe("A0");
    expect(ledger.find("10000001", "000001", "000002")).toBeUndefined();
  });

  test("the same STAN twice in a batch answers 94 and books once", () => {
    const { core, ledger, terminal } = setup();
    signOn(core, terminal);
    expect(answer(terminal, core.handle(terminal.sale({ ...VISA, stan: "000002" }), { nowMs: NOW_MS }))[39]).toBe("00");
    expect(answer(terminal, core.handle(terminal.sale({ ...VISA, stan: "000002" }), { nowMs: NOW_MS }))[39]).toBe("94");
    expect(ledger.view("10000001").approved.count).toBe(1);
  });
});

describe("reversals", () => {
  test("the same 0400 sent five times changes the ledger once and always answers 00", () => {
    const { core, ledger, terminal } = setup();
    signOn(core, terminal);
    const original = terminal.saleMessage({ ...VISA, stan: "000002" });
    core.handle(terminal.sale({ ...VISA, stan: "000002" }), { nowMs: NOW_MS });
    const before = ledger.view("10000001");
    expect(before.net).toBe(1234);
    const views = [];
    for (let i = 0; i < 5; i++) {
      const decision = core.handle(terminal.reversal(original, "98"), { nowMs: NOW_MS + i });
      const f = answer(terminal, decision);
      expect(terminal.decode(decision.response!).mti).toBe("0410");
      expect(f[39]).toBe("00");
      expect(terminal.macValid(decision.response!)).toBe(true);
      views.push(ledger.view("10000001"));
    }
    expect(views[0]).toMatchObject({ net: 0, approved: { count: 0 }, reversed: { count: 1, amount: 1234 } });
    for (const view of views) expect(view).toEqual(views[0]);
  });

  test("a reversal of an unknown original answers 25 and shows as unresolved", () => {
    const { core, ledger, terminal } = setup();
    signOn(core, terminal);
    const decision = core.handle(terminal.reversal(terminal.saleMessage({ ...VISA, stan: "000777" }), "98"), { nowMs: NOW_MS });
    expect(answer(terminal, decision)[39]).toBe("25");
    expect(ledger.view("10000001").unresolved).toEqual([{ batch: "000001", stan: "000777", reason: "unknownOriginal" }]);
  });

  test("a reversal of a declined sale answers 00 and changes nothing", () => {
    const { core, ledger, terminal } = setup();
    signOn(core, terminal);
    const input = { ...VISA, pan: "6228480000000049", stan: "000002" };
    core.handle(terminal.sale(input), { nowMs: NOW_MS });
    expect(answer(terminal, core.handle(terminal.reversal(terminal.saleMessage(input), "98"), { nowMs: NOW_MS }))[39]).toBe("00");
    expect(ledger.find("10000001", "000001", "000002")!.state).toBe("declined");
  });
});

describe("voids, refunds and settlement", () => {
  test("a void cancels its sale; reversing the void puts the sale back", () => {
    const { core, ledger, terminal } = setup();
    signOn(core, terminal);
    core.handle(terminal.sale({ ...VISA, stan: "000002" }), { nowMs: NOW_MS });
    const voidRequest = terminal.voidSale("000003", VISA, "000002");
    expect(answer(terminal, core.handle(voidRequest, { nowMs: NOW_MS }))[39]).toBe("00");
    expect(ledger.view("10000001").net).toBe(0);
    expect(ledger.find("10000001", "000001", "000002")!.state).toBe("voided");
    core.handle(terminal.reversal(terminal.decode(voidRequest), "98"), { nowMs: NOW_MS });
    expect(ledger.view("10000001").net).toBe(1234);
  });

  test("a void of an unknown sale answers 25, of a different amount 64", () => {
    const { core, terminal } = setup();
    signOn(core, terminal);
    expect(answer(terminal, core.handle(terminal.voidSale("000003", VISA, "000099"), { nowMs: NOW_MS }))[39]).toBe("25");
    core.handle(terminal.sale({ ...VISA, stan: "000002" }), { nowMs: NOW_MS });
    expect(answer(terminal, core.handle(terminal.voidSale("000004", { ...VISA, amount: 1 }, "000002"), { nowMs: NOW_MS }))[39]).toBe("64");
  });

  test("a refund is a credit: net falls", () => {
    const { core, ledger, terminal } = setup();
    signOn(core, terminal);
    core.handle(terminal.sale({ ...VISA, stan: "000002" }), { nowMs: NOW_MS });
    const decision = core.handle(terminal.refund({ ...VISA, amount: 234, stan: "000003" }), { nowMs: NOW_MS });
    expect(terminal.decode(decision.response!).mti).toBe("0230");
    expect(answer(terminal, decision)[39]).toBe("00");
    expect(ledger.view("10000001").net).toBe(1000);
  });

  test("refunds naming a sale come to no more than it (13), none follows its void and no void follows one (12); a reversed refund gives its share back", () => {
    const { core, ledger, terminal } = setup();
    signOn(core, terminal);
    const code = (request: Uint8Array) => answer(terminal, core.handle(request, { nowMs: NOW_MS }))[39];
    core.handle(terminal.sale({ ...VISA, stan: "000002" }), { nowMs: NOW_MS });
    core.handle(terminal.sale({ ...VISA, amount: 500, stan: "000003" }), { nowMs: NOW_MS });
    expect(code(terminal.refund({ ...VISA, amount: 1235, stan: "000004", originalStan: "000002" }))).toBe("13");
    const first = terminal.refund({ ...VISA, amount: 1000, stan: "000005", originalStan: "000002" });
    expect(code(first)).toBe("00");
    expect(ledger.find("10000001", "000001", "000005")).toMatchObject({ originalBatch: "000001", originalStan: "000002" });
    expect(ledger.refundedAmount("10000001", "000001", "000002")).toBe(1000);
    expect(code(terminal.refund({ ...VISA, amount: 235, stan: "000006", originalStan: "000002" }))).toBe("13");
    expect(code(terminal.voidSale("000007", VISA, "000002"))).toBe("12");
    core.handle(terminal.reversal(terminal.decode(first), "98"), { nowMs: NOW_MS });
    expect(ledger.refundedAmount("10000001", "000001", "000002")).toBe(0);
    expect(code(terminal.refund({ ...VISA, amount: 1234, stan: "000008", originalStan: "000002" }))).toBe("00");
    expect(code(terminal.voidSale("000009", { ...VISA, amount: 500 }, "000003"))).toBe("00");
    expect(code(terminal.refund({ ...VISA, amount: 1, stan: "000010", originalStan: "000003" }))).toBe("12");
    // A refund naming a sale the host does not have is the host's ordinary refund.
    expect(code(terminal.refund({ ...VISA, amount: 99_999, stan: "000011", originalStan: "000099" }))).toBe("00");
    expect(ledger.view("10000001").net).toBe(1234 - 1234 - 99_999);
  });

  test("a refund the next day names its sale by STAN alone: the host finds it in the settled batch and counts what was refunded there", () => {
    const { core, ledger, terminal } = setup();
    signOn(core, terminal);
    const code = (request: Uint8Array) => answer(terminal, core.handle(request, { nowMs: NOW_MS }))[39];
    core.handle(terminal.sale({ ...VISA, stan: "000002" }), { nowMs: NOW_MS });
    expect(code(terminal.refund({ ...VISA, amount: 1000, stan: "000003", originalStan: "000002" }))).toBe("00");
    expect(code(terminal.settlement("000004", { debit: 0, debits: 0 }, { debit: 1234, debits: 1 }))).toBe("00");
    expect(ledger.session("10000001")!.batch).toBe("000002");
    signOn(core, terminal);
    expect(code(terminal.refund({ ...VISA, amount: 235, stan: "000006", originalStan: "000002" }))).toBe("13");
    expect(code(terminal.refund({ ...VISA, amount: 234, stan: "000007", originalStan: "000002" }))).toBe("00");
    expect(ledger.find("10000001", "000002", "000007")).toMatchObject({ originalBatch: "000001", originalStan: "000002" });
    expect(ledger.refundedAmount("10000001", "000001", "000002")).toBe(1234);
  });

  test("a refund whose F61 is not 12 or 16 digits answers 30 and books nothing", () => {
    const { core, ledger, terminal } = setup();
    signOn(core, terminal);
    core.handle(terminal.sale({ ...VISA, stan: "000002" }), { nowMs: NOW_MS });
    const refund = terminal.decode(terminal.refund({ ...VISA, amount: 100, stan: "000003", originalStan: "000002" }));
    const malformed = terminal.encode({ ...refund, fields: { ...refund.fields, 61: "00000002" } });
    expect(answer(terminal, core.handle(malformed, { nowMs: NOW_MS }))[39]).toBe("30");
    expect(ledger.find("10000001", "000001", "000003")).toBeUndefined();
    expect(ledger.refundedAmount("10000001", "000001", "000002")).toBe(0);
  });

  test("settlement compares totals per batch (1 balanced, 2 not) and opens the next batch", () => {
    const { core, ledger, terminal } = setup();
    signOn(core, terminal);
    core.handle(terminal.sale({ ...VISA, pan: "6228480000000015", stan: "000002" }), { nowMs: NOW_MS });
    const balanced = answer(terminal, core.handle(terminal.settlement("000003", { debit: 1234, debits: 1 }), { nowMs: NOW_MS }));
    expect(balanced[39]).toBe("00");
    expect(balanced[48]).toBe(`000000001234001${"0".repeat(15)}1${"0".repeat(30)}1`);
    expect(ledger.session("10000001")!.batch).toBe("000002");
    const unbalanced = answer(terminal, core.handle(terminal.settlement("000004", { debit: 1, debits: 1 }), { nowMs: NOW_MS }));
    expect(unbalanced[48]!.slice(30, 31)).toBe("2");
    expect(ledger.view("10000001").unresolved).toContainEqual({ batch: "000001", reason: "unbalancedSettlement" });
  });
});

describe("faults", () => {
  const processedKinds: FaultKind[] = [
    "delay",
    "noResponse",
    "closeAfterRead",
    "closeMidResponse",
    "badMac",
    "duplicateResponse",
    "wrongStan",
    "wrongMerchant",
    "stripMac",
  ];

  test.each(processedKinds)("%s drops or spoils the answer but the host approved: the sale is booked", (kind) => {
    const { core, ledger, terminal } = setup();
    signOn(core, terminal);
    core.faults.add(parseFault(kind === "delay" ? { kind, ms: 70000 } : { kind }));
    const decision = core.handle(terminal.sale({ ...VISA, stan: "000002" }), { nowMs: NOW_MS });
    expect(decision.fault?.kind).toBe(kind);
    expect(decision.processed).toBe(true);
    expect(ledger.find("10000001", "000001", "000002")!.state).toBe("approved");
    const expected: Record<string, unknown> = {
      delay: { kind: "respond", delayMs: 70000, copies: 1 },
      noResponse: { kind: "silent" },
      closeAfterRead: { kind: "close" },
      closeMidResponse: { kind: "closeMidResponse", bytes: Math.floor((decision.response!.length + 2) / 2) },
      badMac: { kind: "respond", delayMs: 0, copies: 1 },
      duplicateResponse: { kind: "respond", delayMs: 0, copies: 2 },
      wrongStan: { kind: "respond", delayMs: 0, copies: 1 },
      wrongMerchant: { kind: "respond", delayMs: 0, copies: 1 },
      stripMac: { kind: "respond", delayMs: 0, copies: 1 },
    };
    expect(decision.delivery).toEqual(expected[kind]);
    if (kind === "badMac") expect(terminal.macValid(decision.response!)).toBe(false);
    if (kind === "wrongStan") {
      expect(answer(terminal, decision)[11]).toBe("000003");
      expect(terminal.macValid(decision.response!)).toBe(true);
    }
    if (kind === "stripMac") {
      expect(answer(terminal, decision)[64]).toBeUndefined();
      expect(answer(terminal, decision)[39]).toBe("00");
    }
    if (kind === "wrongMerchant") {
      expect(answer(terminal, decision)).toMatchObject({ 11: "000002", 39: "00", 42: "898100012340002" });
      expect(terminal.macValid(decision.response!)).toBe(true);
    }
    // The next message is unaffected: count defaults to 1.
    const next = core.handle(terminal.sale({ ...VISA, stan: "000003" }), { nowMs: NOW_MS });
    expect(next.fault).toBeUndefined();
  });

  test("closeBeforeRead: the host never processed it, nothing is booked, a reversal answers 25", () => {
    const { core, ledger, terminal } = setup();
    signOn(core, terminal);
    core.faults.add(parseFault({ kind: "closeBeforeRead" }));
    const decision = core.handle(terminal.sale({ ...VISA, stan: "000002" }), { nowMs: NOW_MS });
    expect(decision).toMatchObject({ processed: false, response: undefined, delivery: { kind: "close" } });
    expect(ledger.find("10000001", "000001", "000002")).toBeUndefined();
    const reversal = core.handle(terminal.reversal(terminal.saleMessage({ ...VISA, stan: "000002" }), "98"), { nowMs: NOW_MS });
    expect(answer(terminal, reversal)[39]).toBe("25");
  });

  test("decline answers the code and books a decline", () => {
    const { core, ledger, terminal } = setup();
    signOn(core, terminal);
    core.faults.add(parseFault({ kind: "decline", code: "05" }));
    expect(answer(terminal, core.handle(terminal.sale({ ...VISA, stan: "000002" }), { nowMs: NOW_MS }))[39]).toBe("05");
    expect(ledger.find("10000001", "000001", "000002")).toMatchObject({ state: "declined", responseCode: "05" });
  });

  test("connection faults act on connection attempts, not messages", () => {
    const { core, terminal } = setup();
    core.faults.add(parseFault({ kind: "refuseConnection", count: 2 }));
    core.faults.add(parseFault({ kind: "tlsHandshakeFail" }));
    expect(core.handle(terminal.signOn("000001"), { nowMs: NOW_MS }).fault).toBeUndefined();
    expect([core.admitConnection(), core.admitConnection(), core.admitConnection(), core.admitConnection()]).toEqual([
      "refuse",
      "refuse",
      "handshakeFail",
      "accept",
    ]);
  });

  test("mti filter and count: only the next two 0400s are dropped", () => {
    const { core, terminal } = setup();
    signOn(core, terminal);
    core.faults.add(parseFault({ kind: "noResponse", mti: "0400", count: 2 }));
    expect(core.handle(terminal.sale({ ...VISA, stan: "000002" }), { nowMs: NOW_MS }).fault).toBeUndefined();
    const reversal = terminal.reversal(terminal.saleMessage({ ...VISA, stan: "000002" }), "98");
    const kinds = [0, 1, 2].map(() => core.handle(reversal, { nowMs: NOW_MS }).delivery.kind);
    expect(kinds).toEqual(["silent", "silent", "respond"]);
    expect(core.faults.list()).toEqual([]);
  });

  test("fault specs are validated", () => {
    expect(FAULT_KINDS).toHaveLength(16);
    expect(parseFault({ kind: "delay", ms: 5, count: 3, mti: "0200" })).toEqual({ kind: "delay", ms: 5, count: 3, mti: "0200" });
    for (const bad of [
      null,
      [],
      { kind: "explode" },
      { kind: "delay" },
      { kind: "decline" },
      { kind: "decline", code: "00" },
      { kind: "badMac", count: 0 },
      { kind: "badMac", mti: "200" },
      { kind: "badMac", ms: 3 },
      { kind: "badMac", extra: 1 },
    ])
      expect(() => parseFault(bad)).toThrow(FaultSpecError);
  });
});

describe("restart", () => {
  test("a file ledger keeps transactions, reversals and working keys across a host restart", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-host-"));
    const db = path.join(dir, "ledger.db");
    try {
      const first = setup(db);
      signOn(first.core, first.terminal);
      first.core.handle(first.terminal.sale({ ...VISA, stan: "000002" }), { nowMs: NOW_MS });
      first.ledger.close();
      const second = setup(db);
      // The terminal keeps its keys; the restarted host recovers them from the ledger.
      const decision = second.core.handle(first.terminal.reversal(first.terminal.saleMessage({ ...VISA, stan: "000002" }), "98"), {
        nowMs: NOW_MS,
      });
      expect(answer(first.terminal, decision)[39]).toBe("00");
      expect(first.terminal.macValid(decision.response!)).toBe(true);
      expect(second.ledger.view("10000001").reversed.count).toBe(1);
      second.ledger.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
