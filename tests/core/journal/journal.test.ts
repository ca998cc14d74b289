import { NorFlash, PowerCut } from "../../../modules/emulators/nor-flash";
import { JournalClosedError, JournalFullError, JournalInputError, JournalStateError } from "../../../modules/journal/errors";
import { Journal, type JournalOptions } from "../../../modules/journal/journal";
import { SeededRandom } from "../../../modules/platform/random";
import { chipSale, TEST_IDENTITY, TEST_PAN, testCipher } from "../../../tools/journal/fixtures";
import { ForwardingFlash } from "./forwarding-flash";

function setup(sectorCount = 4, blockSize = 4096): { flash: NorFlash; options: JournalOptions } {
  const flash = new NorFlash({ sectorCount, blockSize, seed: 42 });
  return { flash, options: { flash, cipher: testCipher(), random: new SeededRandom(7), identity: TEST_IDENTITY } };
}

function reboot(flash: NorFlash, options: JournalOptions): Journal {
  flash.cutPower();
  flash.powerCycle();
  return Journal.open(options);
}

describe("Journal API", () => {
  test("arm, approve and the approved log with the sealed PAN", () => {
    const { flash, options } = setup();
    const journal = Journal.open(options);
    const seq = journal.arm(chipSale(1, 7, 1234), TEST_PAN);
    expect(journal.stateOf(seq)).toBe("armed");
    journal.approve(seq, "AB12CD", "123456789012");
    const log = journal.approvedLog("000007");
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({
      seq,
      authCode: "AB12CD",
      rrn: "123456789012",
      txn: { stan: "000001", amount: 1234, batch: "000007", hasPan: true },
    });
    expect(log[0].txn.emv?.issuerApplicationData).toHaveLength(18);
    expect(journal.panOf(seq)).toBe(TEST_PAN);
    expect(journal.pendingReversals()).toEqual([]);
    const again = reboot(flash, options);
    expect(again.approvedLog()).toHaveLength(1);
    expect(again.pendingReversals()).toEqual([]);
  });

  test("no PAN digits, track or PIN material in clear on flash", () => {
    const { flash, options } = setup();
    const journal = Journal.open(options);
    journal.approve(journal.arm(chipSale(1, 1, 5), TEST_PAN), "000001", "000000000001");
    const image = flash.exportImage();
    let text = "";
    for (const b of image) text += (b >> 4).toString(16) + (b & 15).toString(16);
    expect(text).not.toContain("6225880123456789012");
    expect(text).not.toContain("0123456789012");
    let ascii = "";
    for (const b of image) ascii += String.fromCharCode(b);
    expect(ascii).not.toContain("6225880123456789012");
  });

  test("after power loss every armed record is reversal-due (98) and can never be approved", () => {
    const { flash, options } = setup();
    const journal = Journal.open(options);
    const seq = journal.arm(chipSale(1, 1, 100), TEST_PAN);
    const after = reboot(flash, options);
    expect(after.pendingReversals()).toMatchObject([{ seq, reason: "98", attempts: 0, failed: false }]);
    expect(() => after.approve(seq, "AB12CD", "123456789012")).toThrow(JournalStateError);
    expect(after.attempt(seq)).toBe(1);
    expect(after.attempt(seq)).toBe(2);
    after.failed(seq);
    const later = reboot(flash, options);
    expect(later.pendingReversals()).toMatchObject([{ seq, attempts: 2, failed: true }]);
    later.reversed(seq);
    expect(reboot(flash, options).pendingReversals()).toEqual([]);
  });

  test("reversalDue keeps the refreshed F55, the received F38 and the attempts", () => {
    const { flash, options } = setup();
    const journal = Journal.open(options);
    const seq = journal.arm(chipSale(2, 1, 100), TEST_PAN);
    journal.reversalDue(seq, "98");
    journal.attempt(seq);
    const f55 = new Uint8Array([0x9f, 0x36, 0x02, 0x00, 0x07, 0xdf, 0x31, 0x01, 0x20]);
    journal.reversalDue(seq, "06", { f55, authCode: "XY1234" });
    expect(journal.pendingReversals()).toMatchObject([
      { seq, reason: "06", authCode: "XY1234", f55, attempts: 1, identity: TEST_IDENTITY },
    ]);
    expect(reboot(flash, options).pendingReversals()).toMatchObject([{ seq, reason: "06", attempts: 1 }]);
  });

  test("complete closes; settle clears the batch's approved log", () => {
    const { flash, options } = setup();
    const journal = Journal.open(options);
    const a = journal.arm(chipSale(1, 3, 1), TEST_PAN);
    journal.complete(a);
    const b = journal.arm(chipSale(2, 3, 2));
    journal.approve(b, "123456", "000000000002");
    expect(journal.approvedLog()).toHaveLength(1);
    journal.settle("000003");
    expect(journal.approvedLog()).toEqual([]);
    expect(journal.stateOf(b)).toBe("settled");
    expect(reboot(flash, options).approvedLog()).toEqual([]);
  });

  test("typed errors for bad input and wrong state", () => {
    const { options } = setup();
    const journal = Journal.open(options);
    expect(() => journal.arm({ ...chipSale(1, 1, 1), stan: "12" })).toThrow(JournalInputError);
    expect(() => journal.arm(chipSale(1, 1, 1), "12ab")).toThrow(JournalInputError);
    expect(() =>
      journal.arm({
        ...chipSale(1, 1, 1),
        emv: { tvr: new Uint8Array(5), atc: new Uint8Array(2), issuerApplicationData: new Uint8Array(40) },
      }),
    ).toThrow(JournalInputError);
    const seq = journal.arm(chipSale(1, 1, 1));
    expect(() => journal.approve(seq, "ab", "1")).toThrow(JournalInputError);
    expect(() => journal.reversed(seq)).toThrow(JournalStateError);
    expect(() => journal.settle("000001")).toThrow(JournalStateError);
    expect(() => journal.complete(999)).toThrow(JournalStateError);
    expect(() => journal.reversalDue(seq, "99" as "98")).toThrow(JournalInputError);
  });

  test("refuses new transactions when full or when too many reversals are unresolved", () => {
    const { options } = setup(3, 1024);
    const journal = Journal.open({ ...options, reversalsPendingMax: 2 });
    journal.reversalDue(journal.arm(chipSale(1, 1, 1)), "98");
    journal.arm(chipSale(2, 1, 1));
    expect(() => journal.arm(chipSale(3, 1, 1))).toThrow(JournalFullError);
  });

  test("a power cut inside any operation of a call closes the journal until it is reopened", () => {
    const counted = setup();
    const before = counted.flash.operations;
    Journal.open(counted.options).arm(chipSale(1, 1, 1));
    const operations = counted.flash.operations - before;
    expect(operations).toBeGreaterThanOrEqual(2); // the first arm on a fresh partition erases, then programs
    const alarmKinds = new Set<string>();
    for (let op = 0; op < operations; op++) {
      const { flash, options } = setup();
      const journal = Journal.open(options);
      flash.schedule({ atOperation: flash.operations + op, kind: "cutInside" });
      expect(() => journal.arm(chipSale(1, 1, 1))).toThrow(PowerCut);
      expect(flash.fired).toBeDefined();
      expect(() => journal.pendingReversals()).toThrow(JournalClosedError);
      const after = reboot(flash, options);
      expect(after.pendingReversals().length).toBeLessThanOrEqual(1);
      for (const alarm of after.alarms) alarmKinds.add(alarm.kind);
    }
    // The cut inside the record's program leaves a torn tail, found and reported; nothing else is alarmed.
    expect([...alarmKinds]).toEqual(["torn-tail"]);
  });

  test("streaming reads: forEachApproved in seq order and stopping early, approvedCount per batch, liveSeqOf by STAN", () => {
    const { flash, options } = setup();
    const journal = Journal.open(options);
    const approved: number[] = [];
    for (let stan = 1; stan <= 6; stan++) {
      const seq = journal.arm(chipSale(stan, stan <= 4 ? 1 : 2, stan * 100), TEST_PAN);
      journal.approve(seq, `AB000${stan}`, `00000000000${stan}`);
      approved.push(seq);
    }
    const declined = journal.arm(chipSale(7, 2, 700));
    journal.complete(declined);
    const armed = journal.arm(chipSale(8, 2, 800));
    const visited: string[] = [];
    journal.forEachApproved((a) => {
      visited.push(`${a.seq}:${a.txn.stan}:${a.authCode}:${a.rrn}`);
    });
    expect(visited).toEqual(approved.map((seq, i) => `${seq}:00000${i + 1}:AB000${i + 1}:00000000000${i + 1}`));
    const firstTwo: number[] = [];
    journal.forEachApproved((a) => {
      firstTwo.push(a.txn.amount);
      return firstTwo.length < 2;
    });
    expect(firstTwo).toEqual([100, 200]);
    const batchTwo: string[] = [];
    journal.forEachApproved((a) => {
      batchTwo.push(a.txn.stan);
    }, "000002");
    expect(batchTwo).toEqual(["000005", "000006"]);
    const afterThird: string[] = [];
    journal.forEachApproved(
      (a) => {
        afterThird.push(a.txn.stan);
      },
      undefined,
      approved[2],
    );
    expect(afterThird).toEqual(["000004", "000005", "000006"]);
    expect([journal.approvedCount(), journal.approvedCount("000001"), journal.approvedCount("000002")]).toEqual([6, 4, 2]);
    expect(journal.liveSeqOf("000003")).toBe(approved[2]);
    expect(journal.liveSeqOf("000008")).toBe(armed);
    expect(journal.liveSeqOf("000007")).toBeUndefined(); // declined: closed, not live
    expect(journal.liveSeqOf("000099")).toBeUndefined();
    journal.reversalDue(armed, "98");
    journal.reversed(armed);
    journal.settle("000001");
    expect([journal.approvedCount(), journal.liveSeqOf("000001"), journal.liveSeqOf("000005")]).toEqual([2, undefined, approved[4]]);
    const again = reboot(flash, options);
    expect([again.approvedCount(), again.approvedCount("000001"), again.liveSeqOf("000006")]).toEqual([2, 0, approved[5]]);
  });

  test("a full partition of one open batch: every approval kept through compaction and reboot, the next arm refused, settlement frees it", () => {
    const { flash, options } = setup(6, 1024);
    let journal = Journal.open(options);
    let stan = 1;
    let refused = false;
    // Bounded: a journal that never fills must fail this test, not hang it (capacity here is 17).
    for (let arms = 0; arms < 64 && !refused; arms++) {
      let seq: number;
      try {
        seq = journal.arm(chipSale(stan, 1, stan), TEST_PAN);
      } catch (error) {
        expect(error).toBeInstanceOf(JournalFullError);
        refused = true;
        break;
      }
      journal.approve(seq, "123456", String(stan).padStart(12, "0"));
      stan++;
      if (stan % 9 === 0) journal = reboot(flash, options);
    }
    expect(refused).toBe(true);
    const approvals = stan - 1;
    // 6 sectors of 7 record slots: the capacity rule (docs §8) leaves (6 - 1) * (7 - 3) = 20 live records, less the arm reserve.
    expect(approvals).toBe(journal.counts().capacity - 3);
    journal = reboot(flash, options);
    const amounts: number[] = [];
    journal.forEachApproved((a) => {
      amounts.push(a.txn.amount);
    });
    expect(amounts).toEqual(Array.from({ length: approvals }, (_, i) => i + 1));
    journal.settle("000001");
    expect(journal.approvedCount()).toBe(0);
    journal.approve(journal.arm(chipSale(stan, 2, 5), TEST_PAN), "123456", "000000000001");
    expect(reboot(flash, options).approvedLog("000002")).toHaveLength(1);
  });

  test("wear: sectors rotate and compaction keeps live records across many sales", () => {
    const { flash, options } = setup(4, 1024);
    let journal = Journal.open(options);
    let stan = 1;
    for (let batch = 1; batch <= 15; batch++) {
      for (let i = 0; i < 5; i++) journal.approve(journal.arm(chipSale(stan++, batch, 1)), "123456", "000000000001");
      if (batch % 7 === 0) journal = reboot(flash, options);
      journal.settle(String(batch).padStart(6, "0"));
    }
    expect(journal.approvedLog()).toEqual([]);
    const counts = flash.eraseCounts();
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(3);
  });
});

/** Logs every program so the per-sale budget can be asserted. */
class SpyFlash extends ForwardingFlash {
  readonly writes: { offset: number; length: number }[] = [];
  erases = 0;
  override erase(sector: number): void {
    this.erases++;
    super.erase(sector);
  }
  override write(offset: number, length: number, bytes: Uint8Array): void {
    this.writes.push({ offset, length });
    super.write(offset, length, bytes);
  }
}

describe("per-sale flash budget (steady state, 4 KiB sectors)", () => {
  test("one record program of at most 128 bytes plus at most 3 marker words; at most one erase per 30 sales", () => {
    const spy = new SpyFlash(new NorFlash({ sectorCount: 16, seed: 3 }));
    const journal = Journal.open({ flash: spy, cipher: testCipher(), random: new SeededRandom(1), identity: TEST_IDENTITY });
    let stan = 1;
    const sale = (batch: number): void => journal.approve(journal.arm(chipSale(stan++, batch, 100), TEST_PAN), "123456", "000000000001");
    for (let i = 0; i < 100; i++) sale(1); // warm up past the first rotations
    journal.settle("000001");
    const erasesBefore = spy.erases;
    const sales = 300;
    for (let i = 0; i < sales; i++) {
      const batch = 2 + Math.floor(i / 100);
      spy.writes.length = 0;
      sale(batch);
      // Rotation writes (sector headers and the SEALED marker of the old sector) are counted with the erases.
      const perSale = spy.writes.filter((w) => w.offset % 4096 >= 128);
      const records = perSale.filter((w) => w.length > 12);
      expect(records).toHaveLength(1);
      expect(records[0].length).toBeLessThanOrEqual(128);
      const markerBytes = perSale.filter((w) => w.length <= 12).reduce((sum, w) => sum + w.length, 0);
      expect(markerBytes).toBeLessThanOrEqual(12);
      if (i % 100 === 99) journal.settle(String(batch).padStart(6, "0"));
    }
    expect(spy.erases - erasesBefore).toBeLessThanOrEqual(sales / 30);
  });
});
