/**
 * Issue 15, in-process: one message never takes the host down or leaves the
 * ledger half-written; settlements whose totals do not fit F48 get 95; every
 * F64 is verified (sign-on and echo included); a third party's sign-on cannot
 * make the genuine terminal's next sale fail; under mTLS another F41 changes
 * nothing; a balance inquiry answers F54.
 */
import { fromHex, toHex } from "../../../modules/base/hex";
import { decodeField54 } from "../../../modules/iso8583/subfields";
import { SeededRandom } from "../../../modules/platform/random";
import { HostCore, type InternalErrorReport } from "../../../tools/host/core";
import type { HostDecision } from "../../../tools/host/decision";
import type { TerminalSession } from "../../../tools/host/ledger";
import { SqliteLedger } from "../../../tools/host/sqlite-ledger";
import { DEFAULT_TERMINALS, registry } from "../../../tools/host/terminals";
import { TestTerminal, type SaleInput } from "../../../tools/host/test-terminal";

const NOW_MS = Date.UTC(2026, 10, 25, 12, 0, 0);
const TID = DEFAULT_TERMINALS[0].tid;
const VISA: Omit<SaleInput, "stan"> = { amount: 1234, pan: "4761730000000011", expiry: "3012" };
const UNIONPAY: Omit<SaleInput, "stan"> = { amount: 1234, pan: "6228480000000015", expiry: "3012" };

/** A ledger that fails on demand, the way a full disk or a bug would, after the message already wrote something. */
class FailingLedger extends SqliteLedger {
  failSaveSession = false;
  override saveSession(session: TerminalSession): void {
    if (this.failSaveSession) throw new Error("disk I/O error");
    super.saveSession(session);
  }
}

function setup(): { core: HostCore; ledger: FailingLedger; terminal: TestTerminal; reports: InternalErrorReport[] } {
  const ledger = new FailingLedger(":memory:");
  const reports: InternalErrorReport[] = [];
  const core = new HostCore({
    ledger,
    terminals: registry(DEFAULT_TERMINALS),
    random: new SeededRandom(11),
    onInternalError: (report) => reports.push(report),
  });
  return { core, ledger, terminal: new TestTerminal(DEFAULT_TERMINALS[0]), reports };
}

let stanCounter = 0;
function nextStan(): string {
  stanCounter += 1;
  return String(stanCounter).padStart(6, "0");
}

function handle(core: HostCore, bytes: Uint8Array, peerTid?: string): HostDecision {
  return core.handle(bytes, { nowMs: NOW_MS, ...(peerTid === undefined ? {} : { peerTid }) });
}

function f39(terminal: TestTerminal, decision: HostDecision): string | undefined {
  expect(decision.response).toBeDefined();
  return terminal.decode(decision.response!).fields[39];
}

function signOn(core: HostCore, terminal: TestTerminal): void {
  terminal.acceptSignOn(handle(core, terminal.signOn(nextStan())).response!);
}

/** A sale the terminal believes: 00 and a valid response MAC. */
function saleApproved(core: HostCore, terminal: TestTerminal, input = VISA): boolean {
  const decision = handle(core, terminal.sale({ ...input, stan: nextStan() }));
  return f39(terminal, decision) === "00" && terminal.macValid(decision.response!);
}

/** The same bytes with the last one (inside F64) changed. */
function spoilMac(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  out[out.length - 1] ^= 0x01;
  return out;
}

describe("one message never takes the host down", () => {
  test("a ledger failure half-way through a settlement answers 96, is reported with TID and STAN, and leaves no settlement row", () => {
    const { core, ledger, terminal, reports } = setup();
    signOn(core, terminal);
    expect(saleApproved(core, terminal, UNIONPAY)).toBe(true);
    ledger.failSaveSession = true;
    // Unbalanced on purpose: a written settlement row would show in `unresolved`.
    const decision = handle(core, terminal.settlement("000777", { debit: 1, debits: 1 }));
    expect(f39(terminal, decision)).toBe("96");
    expect(terminal.macValid(decision.response!)).toBe(true);
    expect(decision.processed).toBe(false);
    expect(reports).toEqual([{ mti: "0500", tid: TID, stan: "000777", error: "Error: disk I/O error" }]);
    expect(ledger.view(TID).unresolved).toEqual([]);
    expect(ledger.session(TID)!.batch).toBe("000001");
    ledger.failSaveSession = false;
    expect(saleApproved(core, terminal)).toBe(true);
  });

  test("a failure while re-keying keeps the keys the terminal has", () => {
    const { core, ledger, terminal } = setup();
    signOn(core, terminal);
    ledger.failSaveSession = true;
    const other = new TestTerminal(DEFAULT_TERMINALS[0]);
    expect(f39(other, handle(core, other.signOn(nextStan())))).toBe("96");
    ledger.failSaveSession = false;
    expect(saleApproved(core, terminal)).toBe(true);
  });
});

describe("settlement totals that do not fit F48 answer 95 and change nothing", () => {
  test("1,000 approved sales in one batch", () => {
    const { core, ledger, terminal } = setup();
    signOn(core, terminal);
    for (let i = 0; i < 1000; i++)
      expect(f39(terminal, handle(core, terminal.sale({ ...UNIONPAY, amount: 1, stan: nextStan() })))).toBe("00");
    const decision = handle(core, terminal.settlement(nextStan(), { debit: 1000, debits: 999 }));
    expect(f39(terminal, decision)).toBe("95");
    expect(terminal.decode(decision.response!).fields[48]).toBeUndefined();
    expect(terminal.macValid(decision.response!)).toBe(true);
    expect(ledger.session(TID)!.batch).toBe("000001");
    expect(ledger.view(TID).unresolved).toEqual([]);
    expect(saleApproved(core, terminal)).toBe(true);
  });

  test("approved totals above 999,999,999,999 fen", () => {
    const { core, ledger, terminal } = setup();
    signOn(core, terminal);
    for (let i = 0; i < 2; i++) expect(saleApproved(core, terminal, { ...UNIONPAY, amount: 600_000_000_000 })).toBe(true);
    expect(f39(terminal, handle(core, terminal.settlement(nextStan(), { debit: 999_999_999_999, debits: 2 })))).toBe("95");
    expect(ledger.session(TID)!.batch).toBe("000001");
  });
});

describe("every F64 is verified, sign-on and echo included", () => {
  test("an 0800 with a wrong F64 answers A0 and issues no keys", () => {
    const { core, terminal } = setup();
    signOn(core, terminal);
    const signed = terminal.encode({
      ...terminal.signOnMessage(nextStan()),
      fields: { ...terminal.signOnMessage("000000").fields, 64: "0".repeat(16) },
    });
    const decision = handle(core, spoilMac(signed));
    expect(f39(terminal, decision)).toBe("A0");
    expect(terminal.decode(decision.response!).fields[62]).toBeUndefined();
    expect(saleApproved(core, terminal)).toBe(true);
  });

  test("an 0820 with a wrong F64 answers A0; with a good one 00", () => {
    const { core, terminal } = setup();
    signOn(core, terminal);
    const echo = terminal.decode(terminal.echo(nextStan()));
    const signed = terminal.encode({ ...echo, fields: { ...echo.fields, 64: "0".repeat(16) } });
    expect(f39(terminal, handle(core, spoilMac(signed)))).toBe("A0");
    expect(f39(terminal, handle(core, signed))).toBe("00");
  });
});

describe("a third party's sign-on cannot make the genuine terminal's next sale fail", () => {
  test("an impostor's 0800 (right TID and MID, no keys) leaves the genuine terminal's keys valid", () => {
    const { core, terminal } = setup();
    signOn(core, terminal);
    expect(saleApproved(core, terminal)).toBe(true);
    const impostor = new TestTerminal({ ...DEFAULT_TERMINALS[0], tmk: fromHex("00".repeat(16)) });
    for (let i = 0; i < 3; i++) expect(f39(impostor, handle(core, impostor.signOn(nextStan())))).toBe("00");
    expect(saleApproved(core, terminal)).toBe(true);
    // The genuine terminal's own re-sign-on still takes effect: its first MAC'd request makes the new keys current.
    signOn(core, terminal);
    expect(saleApproved(core, terminal)).toBe(true);
    expect(saleApproved(core, terminal)).toBe(true);
  });

  test("pending keys survive a host restart", () => {
    const { core, ledger, terminal } = setup();
    signOn(core, terminal);
    expect(saleApproved(core, terminal)).toBe(true);
    signOn(core, terminal);
    const restarted = new HostCore({ ledger, terminals: registry(DEFAULT_TERMINALS), random: new SeededRandom(12) });
    expect(saleApproved(restarted, terminal)).toBe(true);
  });

  test("under mTLS a request whose F41 is not the certificate's TID answers 58 and changes nothing", () => {
    const { core, ledger, terminal } = setup();
    signOn(core, terminal);
    const other = new TestTerminal(DEFAULT_TERMINALS[1]);
    const before = toHex(ledger.session(TID)!.workingKeysUnderTmk!);
    const decision = handle(core, terminal.signOn(nextStan()), DEFAULT_TERMINALS[1].tid);
    expect(f39(other, decision)).toBe("58");
    expect(terminal.decode(decision.response!).fields[62]).toBeUndefined();
    expect(toHex(ledger.session(TID)!.workingKeysUnderTmk!)).toBe(before);
    expect(ledger.session(TID)!.pendingKeysUnderTmk).toBeUndefined();
    // The certificate's own TID signs on and its keys take effect at once (proven by the certificate).
    terminal.acceptSignOn(handle(core, terminal.signOn(nextStan()), TID).response!);
    expect(ledger.session(TID)!.pendingKeysUnderTmk).toBeUndefined();
    expect(saleApproved(core, terminal)).toBe(true);
  });
});

describe("balance inquiry", () => {
  test("answers F54: available balance in CNY, ¥1,000.00 plus the PAN's last four digits in yuan", () => {
    const { core, terminal } = setup();
    signOn(core, terminal);
    const decision = handle(core, terminal.balance({ pan: VISA.pan, expiry: VISA.expiry, pin: "1234", stan: nextStan() }));
    const fields = terminal.decode(decision.response!).fields;
    expect(fields[39]).toBe("00");
    expect(terminal.macValid(decision.response!)).toBe(true);
    expect(decodeField54(fields[54]!)).toEqual([{ accountType: "00", amountType: "02", currency: "156", sign: "C", amount: 101_100 }]);
  });

  test("a declined inquiry (wrong PIN) carries no F54", () => {
    const { core, terminal } = setup();
    signOn(core, terminal);
    const fields = terminal.decode(
      handle(core, terminal.balance({ pan: VISA.pan, expiry: VISA.expiry, pin: "9999", stan: nextStan() })).response!,
    ).fields;
    expect(fields[39]).toBe("55");
    expect(fields[54]).toBeUndefined();
  });
});

describe("embedded without onInternalError (scenario and chaos runners)", () => {
  test("a host bug propagates, after the rollback", () => {
    const ledger = new FailingLedger(":memory:");
    const core = new HostCore({ ledger, terminals: registry(DEFAULT_TERMINALS), random: new SeededRandom(13) });
    const terminal = new TestTerminal(DEFAULT_TERMINALS[0]);
    signOn(core, terminal);
    ledger.failSaveSession = true;
    expect(() => handle(core, terminal.settlement(nextStan(), { debit: 1, debits: 1 }))).toThrow("disk I/O error");
    expect(ledger.view(TID).unresolved).toEqual([]);
  });
});
