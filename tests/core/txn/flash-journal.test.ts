// The engine's journal port over the flash journal: state changes, recovery, the 0400 rebuilt from flash, PAN sealing.
import { fromHex, toHex } from "../../../modules/base/hex";
import { SecretKey } from "../../../modules/crypto/keys";
import { NorFlash } from "../../../modules/emulators/nor-flash";
import { JournalFullError } from "../../../modules/journal/errors";
import { SeededRandom } from "../../../modules/platform/random";
import { FlashJournal } from "../../../modules/txn/flash-journal";
import type { ApprovedRecord, CardOnFile, ReversalRecord } from "../../../modules/txn/ports";

const IDENTITY = { terminalId: "10000001", merchantId: "898100012340001", ifdSerial: "XSPOS001" };
const CHIP: CardOnFile = { pan: "6228480000000023", expiry: "3012", domestic: true };
const SWIPED: CardOnFile = { pan: "4761730000000011", expiry: "3012", domestic: false };
const F55 = "9505000000800082025C009F1E085853504F533030319F100807010103A00000009F360200019F2608A1B2C3D4E5F60718";

function journal(flash: NorFlash): FlashJournal {
  return new FlashJournal({
    flash,
    dataKey: new SecretKey("sm4", fromHex("00112233445566778899AABBCCDDEEFF")),
    random: new SeededRandom(3),
    identity: IDENTITY,
    nowSeconds: () => 1_768_467_600,
  });
}

function record(stan: string, chip: boolean): ReversalRecord {
  const fields: Record<number, string> = { 3: "000000", 4: "000000001234", 11: stan, 22: chip ? "051" : "021", 25: "00", 41: "10000001" };
  Object.assign(fields, { 42: "898100012340001", 49: "156", 60: "22000001" });
  if (chip) Object.assign(fields, { 2: CHIP.pan, 14: "3012", 23: "001", 55: F55 });
  return { stan, batch: "000001", op: "sale", amount: 1234, fields, state: "armed" };
}

/** The approved log as an array: this test's own, never the firmware's way (it walks the log). */
function log(j: FlashJournal): ApprovedRecord[] {
  const records: ApprovedRecord[] = [];
  j.forEachApproved((r, index) => {
    expect(index).toBe(records.length);
    records.push(r);
  });
  return records;
}

function approved(stan: string, card: CardOnFile): ApprovedRecord {
  return {
    stan,
    batch: "000001",
    op: "sale",
    amount: 1234,
    pan: card.pan,
    panMasked: "",
    expiry: card.expiry,
    domestic: card.domestic,
    authCode: "123456",
    rrn: "000000000042",
  };
}

describe("FlashJournal", () => {
  test("records(): every live record oldest first with state, reason, attempts and the PAN masked; the same after a reboot", () => {
    const flash = new NorFlash({ sectorCount: 6, blockSize: 1024, seed: 5 });
    const j = journal(flash);
    j.recover();
    j.arm(record("000002", true), CHIP);
    j.approve(approved("000002", CHIP));
    j.arm(record("000003", false), SWIPED);
    j.reversalDue("000003", "98");
    j.attempt("000003");
    j.attempt("000003");
    j.failed("000003");
    j.arm(record("000004", false), SWIPED);
    j.arm(record("000005", false), SWIPED);
    j.complete("000005");
    const live = [
      { stan: "000002", batch: "000001", op: "sale", amount: 1234, state: "approved", panMasked: "622848******0023", attempts: 0 },
      {
        stan: "000003",
        batch: "000001",
        op: "sale",
        amount: 1234,
        state: "failed",
        panMasked: "476173******0011",
        reason: "98",
        attempts: 2,
      },
      { stan: "000004", batch: "000001", op: "sale", amount: 1234, state: "armed", panMasked: "476173******0011", attempts: 0 },
    ];
    expect(j.records()).toStrictEqual(live); // strict: no `reason` key on a row without one
    expect(JSON.stringify(j.records())).not.toContain(SWIPED.pan);
    // A reboot: the armed record is reversal-due 98; masked PANs come from the sealed ones on flash.
    const after = journal(flash);
    after.recover();
    expect(after.records()).toEqual([live[0], live[1], { ...live[2], state: "reversalDue", reason: "98" }]);
    after.reversed("000003");
    after.closeBatch("000001");
    expect(after.records().map((r) => r.stan)).toEqual(["000004"]);
  });

  test("approved, declined and reversed records; the approved log opens the PAN only on demand", () => {
    const flash = new NorFlash({ sectorCount: 6, blockSize: 1024, seed: 1 });
    const j = journal(flash);
    expect(j.recover()).toBe(0);
    j.arm(record("000002", true), CHIP);
    j.approve(approved("000002", CHIP));
    j.arm(record("000003", false), SWIPED);
    j.complete("000003");
    j.arm(record("000004", false), SWIPED);
    j.reversalDue("000004", "A0");
    expect(j.pending().map((r) => [r.stan, r.state, r.reason])).toEqual([["000004", "reversalDue", "A0"]]);
    j.reversed("000004");
    expect(j.pending()).toEqual([]);
    expect(log(j).map((r) => [r.stan, r.op, r.amount, r.authCode, r.rrn, r.pan, r.panMasked])).toEqual([
      ["000002", "sale", 1234, "123456", "000000000042", CHIP.pan, "622848******0023"],
    ]);
    j.closeBatch("000001");
    expect(log(j)).toEqual([]);
    expect(j.approvedCount()).toBe(0);
  });

  test("after a reboot an armed record is reversal-due 98 and its 0400 fields come back from flash (§2.4)", () => {
    const flash = new NorFlash({ sectorCount: 6, blockSize: 1024, seed: 2 });
    const before = journal(flash);
    before.recover();
    before.arm(record("000005", true), CHIP);
    before.arm(record("000006", false), SWIPED);
    const after = journal(flash);
    expect(after.recover()).toBe(2);
    const [chip, swiped] = after.pending();
    expect(chip).toMatchObject({ stan: "000005", state: "reversalDue", reason: "98", op: "sale", amount: 1234 });
    expect(chip.fields).toMatchObject({ 2: CHIP.pan, 3: "000000", 4: "000000001234", 11: "000005", 14: "3012", 22: "051", 23: "001" });
    // The reversal tag set: 95, 9F1E (the terminal identity), 9F10, 9F36; not 82 or 9F26.
    expect(chip.fields[55]).toBe("950500000080009F1E085853504F533030319F100807010103A00000009F36020001");
    expect(swiped.fields[2]).toBeUndefined();
    expect(swiped.fields[14]).toBeUndefined();
    expect(swiped.fields).toMatchObject({ 11: "000006", 22: "021", 41: "10000001", 42: "898100012340001", 60: "22000001" });
  });

  test("an approval reversed (A0) keeps its F38 in the 0400, before and after a reboot; a 98 carries none", () => {
    const flash = new NorFlash({ sectorCount: 6, blockSize: 1024, seed: 4 });
    const before = journal(flash);
    before.recover();
    before.arm(record("000007", true), CHIP);
    before.reversalDue("000007", "A0", undefined, "AB12CD");
    before.arm(record("000008", true), CHIP);
    expect(before.pending().map((r) => [r.stan, r.reason, r.fields[38]])).toEqual([["000007", "A0", "AB12CD"]]);
    const after = journal(flash);
    expect(after.recover()).toBe(2);
    const [reversed, cut] = after.pending();
    expect([reversed.reason, reversed.fields[38]]).toEqual(["A0", "AB12CD"]);
    expect(reversed.fields).toMatchObject({ 2: CHIP.pan, 11: "000007", 14: "3012", 23: "001" });
    expect([cut.stan, cut.reason, Object.hasOwn(cut.fields, 38)]).toEqual(["000008", "98", false]);
  });

  test("reversal attempts are persisted: a reboot reads back the count and the 冲正失败 state", () => {
    const flash = new NorFlash({ sectorCount: 6, blockSize: 1024, seed: 8 });
    const before = journal(flash);
    before.recover();
    before.arm(record("000008", false), SWIPED);
    before.reversalDue("000008", "98");
    expect(before.attempt("000008")).toBe(1);
    expect(before.attempt("000008")).toBe(2);
    expect(before.pending()[0].attempts).toBe(2);
    const after = journal(flash);
    expect(after.recover()).toBe(1);
    expect(after.pending()[0]).toMatchObject({ stan: "000008", state: "reversalDue", attempts: 2 });
    after.failed("000008");
    const third = journal(flash);
    expect(third.recover()).toBe(1);
    expect(third.pending()[0]).toMatchObject({ state: "failed", attempts: 2 });
    expect(() => third.attempt("000009")).toThrow("not reversal-due");
  });

  test("the PAN never reaches flash in clear, neither as digits nor as BCD", () => {
    const flash = new NorFlash({ sectorCount: 6, blockSize: 1024, seed: 3 });
    const j = journal(flash);
    j.recover();
    j.arm(record("000007", true), CHIP);
    j.approve(approved("000007", CHIP));
    const image = toHex(flash.exportImage());
    expect(image).not.toContain(CHIP.pan);
    expect(image).not.toContain(toHex(new TextEncoderLessAscii(CHIP.pan).bytes));
  });

  test("a refund is reversible: armed, reversal-due after a cut, its 0400 rebuilt from flash as a refund (F3 200000, F60 25, same STAN); approved in one step", () => {
    // Each names its original sale (F61 000000 + STAN), which its 0400 and its log entry keep.
    const refund = (stan: string): ReversalRecord => {
      const base = record(stan, false);
      const fields = {
        ...base.fields,
        3: "200000",
        4: "000000000800",
        60: "25000001",
        61: `000000${String(Number(stan) + 20).padStart(6, "0")}`,
      };
      return { ...base, op: "refund", amount: 800, fields };
    };
    const flash = new NorFlash({ sectorCount: 6, blockSize: 1024, seed: 6 });
    const j = journal(flash);
    j.recover();
    j.arm(refund("000002"), SWIPED);
    j.arm(refund("000003"), SWIPED);
    j.approve({ ...approved("000003", SWIPED), op: "refund", amount: 800 });
    expect(j.records().map((r) => [r.stan, r.op, r.state])).toEqual([
      ["000002", "refund", "armed"],
      ["000003", "refund", "approved"],
    ]);
    // Power lost with the refund's request possibly at the host: reversal-due 98 at boot, a refund's 0400 fields.
    const after = journal(flash);
    expect(after.recover()).toBe(1);
    const [due] = after.pending();
    expect(due).toMatchObject({ stan: "000002", op: "refund", amount: 800, state: "reversalDue", reason: "98" });
    expect(due.fields).toMatchObject({ 3: "200000", 4: "000000000800", 11: "000002", 60: "25000001", 61: "000000000022" });
    expect(due.fields[2]).toBeUndefined(); // swiped: no F2 in the 0400
    expect(log(after).map((r) => [r.stan, r.op, r.amount, r.originalStan])).toEqual([["000003", "refund", 800, "000023"]]);
    // approve() needs the armed record: a refund is never logged approved without one.
    expect(() => after.approve({ ...approved("000009", SWIPED), op: "refund" })).toThrow("no live record");
  });

  test("records(): a page ends at its limit whether the limit falls on an unresolved row or an approved one", () => {
    const j = journal(new NorFlash({ sectorCount: 6, blockSize: 1024, seed: 11 }));
    j.recover();
    j.arm(record("000002", false), SWIPED);
    j.arm(record("000003", false), SWIPED);
    j.reversalDue("000003", "98");
    j.arm(record("000004", false), SWIPED);
    j.approve(approved("000004", SWIPED));
    const rows = (page: { offset?: number; limit?: number }) => j.records(page).map((r) => `${r.stan} ${r.state}`);
    expect(rows({ limit: 1 })).toEqual(["000002 armed"]);
    expect(rows({ limit: 2 })).toEqual(["000002 armed", "000003 reversalDue"]);
    expect(rows({ offset: 1, limit: 2 })).toEqual(["000003 reversalDue", "000004 approved"]);
    expect(rows({ offset: 2 })).toEqual(["000004 approved"]);
    expect(rows({ offset: 3 })).toEqual([]);
  });

  test("pending() is oldest first by arming order, whatever order the reversals fell due in", () => {
    const j = journal(new NorFlash({ sectorCount: 6, blockSize: 1024, seed: 7 }));
    j.recover();
    for (const stan of ["000002", "000003", "000004"]) j.arm(record(stan, false), SWIPED);
    for (const stan of ["000004", "000002", "000003"]) j.reversalDue(stan, "98");
    expect(j.pending().map((r) => r.stan)).toEqual(["000002", "000003", "000004"]);
    j.reversed("000002");
    j.attempt("000004");
    expect(j.pending().map((r) => [r.stan, r.attempts])).toEqual([
      ["000003", 0],
      ["000004", 1],
    ]);
  });

  test("approved(stan) answers only for an approved STAN, and not for the last one once its batch is closed", () => {
    const j = journal(new NorFlash({ sectorCount: 6, blockSize: 1024, seed: 7 }));
    j.recover();
    j.arm(record("000002", false), SWIPED);
    j.approve(approved("000002", SWIPED));
    j.arm(record("000003", false), SWIPED);
    expect(j.approved("000003")).toBeUndefined();
    j.reversalDue("000003", "98");
    expect(j.approved("000003")).toBeUndefined();
    expect(j.approved("000002")).toMatchObject({ stan: "000002", authCode: "123456" });
    j.closeBatch("000001");
    expect(j.approved("000002")).toBeUndefined();
  });

  test("records() refuses a page it cannot mean: a negative or fractional offset, a limit of 0, a fraction or over 64", () => {
    const j = journal(new NorFlash({ sectorCount: 6, blockSize: 1024, seed: 7 }));
    j.recover();
    for (const offset of [-1, 1.5]) expect(() => j.records({ offset })).toThrow("offset must be a whole number");
    for (const limit of [0, 1.5, 65]) expect(() => j.records({ limit })).toThrow("limit must be 1-64");
    expect(j.records({ offset: 0, limit: 1 })).toEqual([]);
  });

  test("a request F55 with a malformed 95 or 9F36 arms without EMV data; one without 9F10 gives a 0400 F55 without it", () => {
    const flash = new NorFlash({ sectorCount: 6, blockSize: 1024, seed: 11 });
    const j = journal(flash);
    j.recover();
    const withF55 = (stan: string, f55: string): ReversalRecord => {
      const base = record(stan, true);
      return { ...base, fields: { ...base.fields, 55: f55 } };
    };
    // 95 of 4 bytes; 9F36 of 3 bytes; no 9F10 at all.
    j.arm(withF55("000002", "950400000080" + "9F36020001"), CHIP);
    j.arm(withF55("000003", "95050000008000" + "9F3603000102"), CHIP);
    j.arm(withF55("000004", "95050000008000" + "9F36020001"), CHIP);
    const after = journal(flash);
    expect(after.recover()).toBe(3);
    const f55 = after.pending().map((r) => [r.stan, r.fields[55]]);
    expect(f55).toEqual([
      ["000002", undefined],
      ["000003", undefined],
      ["000004", "950500000080009F1E085853504F533030319F36020001"],
    ]);
  });

  test("calls out of order are refused", () => {
    const j = journal(new NorFlash({ sectorCount: 6, blockSize: 1024, seed: 4 }));
    expect(() => j.arm(record("000001", false), SWIPED)).toThrow("recover() first");
    j.recover();
    expect(() => j.complete("000009")).toThrow("no live record");
    j.arm(record("000001", false), SWIPED);
    expect(() => j.arm(record("000001", false), SWIPED)).toThrow("is live");
  });
});

describe("FlashJournal: the approved log stays on flash", () => {
  type Op = "sale" | "void" | "refund";
  const stanOf = (n: number) => String(n).padStart(6, "0");
  const fieldsOf: Record<Op, Record<number, string>> = {
    sale: { 3: "000000", 60: "22000001" },
    void: { 3: "200000", 60: "23000001" },
    refund: { 3: "200000", 60: "25000001" },
  };
  function take(j: FlashJournal, stan: string, op: Op, amount: number, card: CardOnFile, originalStan?: string): void {
    const base = record(stan, false);
    const fields = {
      ...base.fields,
      ...fieldsOf[op],
      4: String(amount).padStart(12, "0"),
      ...(originalStan ? { 61: `000001${originalStan}` } : {}),
    };
    j.arm({ ...base, op, amount, fields }, card);
    j.approve({ ...approved(stan, card), op, amount, ...(originalStan ? { originalStan } : {}) });
  }
  /** The engine's batchTotals over an array, as it was before the log moved to flash. */
  function reference(log: readonly ApprovedRecord[]) {
    const voided = new Set(log.filter((r) => r.op === "void").map((r) => r.originalStan));
    const of = (rs: readonly ApprovedRecord[]) => ({ count: rs.length, amount: rs.reduce((s, r) => s + r.amount, 0) });
    const sales = of(log.filter((r) => r.op === "sale" && !voided.has(r.stan)));
    const voids = of(log.filter((r) => r.op === "void"));
    const refunds = of(log.filter((r) => r.op === "refund"));
    return {
      saleCount: sales.count,
      saleAmount: sales.amount,
      voidCount: voids.count,
      voidAmount: voids.amount,
      refundCount: refunds.count,
      refundAmount: refunds.amount,
    };
  }
  const totalsOf = (log: readonly ApprovedRecord[]) => ({
    domestic: reference(log.filter((r) => r.domestic)),
    foreign: reference(log.filter((r) => !r.domestic)),
  });

  test("300 approvals: running totals per origin as batchTotals counts them, the same recounted at boot; lookups, paging, settlement", () => {
    const flash = new NorFlash({ sectorCount: 13, blockSize: 4096, seed: 8 });
    const j = journal(flash);
    j.recover();
    let lastSale = "";
    for (let n = 2; n < 302; n++) {
      const card = n % 3 === 0 ? SWIPED : CHIP;
      if (n % 7 === 0 && lastSale !== "") {
        take(j, stanOf(n), "void", 1000 + Number(lastSale), Number(lastSale) % 3 === 0 ? SWIPED : CHIP, lastSale);
        lastSale = "";
      } else if (n % 11 === 0) take(j, stanOf(n), "refund", 300 + n, card);
      else {
        take(j, stanOf(n), "sale", 1000 + n, card);
        lastSale = stanOf(n);
      }
    }
    // A second void of a voided sale (two voids queued before either ran): the sale comes off once, both voids count.
    take(j, stanOf(302), "void", 1006, SWIPED, "000006");
    const all = log(j);
    expect(all).toHaveLength(301);
    expect(j.approvedCount()).toBe(301);
    expect(all.filter((r) => r.originalStan === "000006")).toHaveLength(2);
    expect(j.approvedTotals()).toEqual(totalsOf(all));
    expect(j.approvedTotals().domestic.voidCount + j.approvedTotals().foreign.voidCount).toBe(44);
    // approved(stan): the latest from RAM, any other read from flash with its PAN opened on demand.
    expect(j.approved("000302")).toMatchObject({ stan: "000302", op: "void", originalStan: "000006" });
    expect(j.approved("000010")).toMatchObject({ stan: "000010", op: "sale", amount: 1010, domestic: true, pan: CHIP.pan });
    expect(j.approved("000009")?.panMasked).toBe("476173******0011");
    expect(j.approved("000001")).toBeUndefined();
    // A walk stops when its visitor says so.
    let visited = 0;
    j.forEachApproved(() => ++visited < 5);
    expect(visited).toBe(5);
    // Journal rows page at most 64 a call, oldest first, the unresolved ones merged in by seq.
    j.arm(record("000303", false), SWIPED);
    const rows = [];
    for (let page = j.records(); page.length > 0; page = j.records({ offset: rows.length })) {
      expect(page.length).toBeLessThanOrEqual(64);
      rows.push(...page);
    }
    expect(rows.map((r) => r.stan)).toEqual([...all.map((r) => r.stan), "000303"]);
    expect(rows.at(-1)).toMatchObject({ state: "armed", panMasked: "476173******0011" });
    expect(j.records({ offset: 299, limit: 2 }).map((r) => [r.stan, r.state])).toEqual([
      ["000301", "approved"],
      ["000302", "approved"],
    ]);
    expect(() => j.records({ limit: 65 })).toThrow("limit must be 1-64");
    // A reboot recounts the totals from flash (the armed record becomes reversal-due).
    const after = journal(flash);
    expect(after.recover()).toBe(1);
    expect(log(after).map((r) => [r.stan, r.op, r.amount, r.domestic])).toEqual(all.map((r) => [r.stan, r.op, r.amount, r.domestic]));
    expect(after.approvedTotals()).toEqual(j.approvedTotals());
    after.reversed("000303");
    after.closeBatch("000001");
    expect(after.approvedCount()).toBe(0);
    expect(after.approved("000302")).toBeUndefined();
    expect(after.approvedTotals()).toEqual(totalsOf([]));
  });

  test("a void takes off the sale it names by STAN and card origin, voids in any order; a refund naming a sale neither takes it off nor stops its void", () => {
    const flash = new NorFlash({ sectorCount: 6, blockSize: 4096, seed: 9 });
    const j = journal(flash);
    j.recover();
    // Domestic sales 2, 3, 4 and a foreign sale 5 (amount 100 × STAN).
    for (const n of [2, 3, 4]) take(j, stanOf(n), "sale", 100 * n, CHIP);
    take(j, stanOf(5), "sale", 500, SWIPED);
    // A refund that names sale 3 (its F61), then voids of 4 and 2: the newer sale voided first.
    take(j, stanOf(6), "refund", 50, CHIP, "000003");
    take(j, stanOf(7), "void", 400, CHIP, "000004");
    take(j, stanOf(8), "void", 200, CHIP, "000002");
    // A void that names sale 5 from the other card origin: no domestic sale 5 exists, so nothing comes off.
    take(j, stanOf(9), "void", 500, CHIP, "000005");
    expect(j.approvedTotals().domestic).toMatchObject({ saleCount: 1, saleAmount: 300, voidCount: 3, voidAmount: 1100 });
    // The void of sale 3, which the refund named before it: the sale comes off.
    take(j, stanOf(10), "void", 300, CHIP, "000003");
    const expected = {
      domestic: { saleCount: 0, saleAmount: 0, voidCount: 4, voidAmount: 1400, refundCount: 1, refundAmount: 50 },
      foreign: { saleCount: 1, saleAmount: 500, voidCount: 0, voidAmount: 0, refundCount: 0, refundAmount: 0 },
    };
    expect(j.approvedTotals()).toEqual(expected);
    // The same recounted from flash at boot.
    const after = journal(flash);
    after.recover();
    expect(after.approvedTotals()).toEqual(expected);
  });
});

describe("FlashJournal.canArm", () => {
  const stanOf = (n: number) => String(n).padStart(6, "0");

  // canArm() mirrors Journal.arm's room rules: if this fails, the two drifted apart and a sale would throw mid-write.
  test.each([
    [3, 2048],
    [3, 1024],
    [4, 1024],
    [3, 4096],
  ])("%d sectors of %d bytes: canArm() is true exactly while arm() succeeds (approved sales)", (sectors, blockSize) => {
    const j = journal(new NorFlash({ sectorCount: sectors, blockSize, seed: 5 }));
    j.recover();
    let n = 1;
    // Bounded: a canArm() that never says no must fail this test, not hang it (the largest journal here holds 96 slots).
    while (n <= 200 && j.canArm()) {
      j.arm(record(stanOf(n), false), SWIPED);
      j.approve(approved(stanOf(n), SWIPED));
      n++;
    }
    expect(n).toBeGreaterThan(1);
    expect(() => j.arm(record(stanOf(n), false), SWIPED)).toThrow(JournalFullError);
    j.closeBatch("000001");
    expect(j.canArm()).toBe(true);
  });

  test("at most 512 live records, whatever room the flash has left: canArm() says no at the 512th, arm() refuses it", () => {
    const j = journal(new NorFlash({ sectorCount: 24, blockSize: 4096, seed: 12 }));
    j.recover();
    let n = 1;
    while (n <= 600 && j.canArm()) {
      j.arm(record(stanOf(n), false), SWIPED);
      if (n < 512) j.approve(approved(stanOf(n), SWIPED));
      n++;
    }
    // 511 approved and one armed: 512 live.
    expect(n - 1).toBe(512);
    expect(() => j.arm(record(stanOf(n), false), SWIPED)).toThrow("FlashJournal: too many live records");
    j.complete(stanOf(512));
    expect(j.canArm()).toBe(true);
  });

  test("unresolved reversals: refused at the pending limit, and every armed record can still become reversal-due", () => {
    const j = new FlashJournal({
      flash: new NorFlash({ sectorCount: 8, blockSize: 1024, seed: 6 }),
      dataKey: new SecretKey("sm4", fromHex("00112233445566778899AABBCCDDEEFF")),
      random: new SeededRandom(3),
      identity: IDENTITY,
      nowSeconds: () => 1_768_467_600,
      reversalsPendingMax: 3,
    });
    j.recover();
    for (let n = 1; n <= 3; n++) {
      expect(j.canArm()).toBe(true);
      j.arm(record(stanOf(n), true), CHIP);
      j.reversalDue(stanOf(n), "98");
    }
    expect(j.canArm()).toBe(false);
    expect(() => j.arm(record(stanOf(4), false), SWIPED)).toThrow(JournalFullError);
    j.reversed(stanOf(1));
    expect(j.canArm()).toBe(true);
  });

  test("a small journal full of reversal-due records still writes each one's REVERSAL", () => {
    const j = journal(new NorFlash({ sectorCount: 3, blockSize: 1024, seed: 7 }));
    j.recover();
    const armed: string[] = [];
    for (let n = 1; j.canArm(); n++) {
      j.arm(record(stanOf(n), false), SWIPED);
      armed.push(stanOf(n));
    }
    // 3 sectors of 1 KiB hold two armed records with room for their REVERSALs; an empty loop would prove nothing.
    expect(armed.length).toBe(2);
    expect(() => j.arm(record(stanOf(armed.length + 1), false), SWIPED)).toThrow(JournalFullError);
    for (const stan of armed) j.reversalDue(stan, "98");
    expect(j.pending().map((r) => r.stan)).toEqual(armed);
    expect(j.pending().every((r) => r.state === "reversalDue" && r.reason === "98")).toBe(true);
  });
});

/** ASCII bytes of a digit string (no TextEncoder in XS). */
class TextEncoderLessAscii {
  readonly bytes: Uint8Array;
  constructor(text: string) {
    this.bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
  }
}
