/**
 * The audit (docs/journal-format.md §7.9, §9): a write that does not read back may have landed somewhere else, so the
 * journal re-reads every header and stored copy against its index and alarms each one that changed under it — a
 * marker, an approval group or a header body — and nothing else. Runs in Node and in XS.
 */
import { NorFlash } from "../../../modules/emulators/nor-flash";
import { Journal, type JournalOptions } from "../../../modules/journal/journal";
import { SeededRandom } from "../../../modules/platform/random";
import { chipSale, TEST_IDENTITY, testCipher } from "../../../tools/journal/fixtures";
import { ForwardingFlash } from "./forwarding-flash";

const SECTOR_BYTES = 2048;
const SLOT_BYTES = 128;

/** Sends the next write of `length` bytes `delta` bytes away from where it was meant to go, once. */
class Misdirecting extends ForwardingFlash {
  #next: { readonly length: number; readonly delta: number } | undefined;
  misdirectNext(length: number, delta: number): void {
    this.#next = { length, delta };
  }
  override write(offset: number, length: number, bytes: Uint8Array): void {
    const next = this.#next;
    if (next === undefined || next.length !== length) return super.write(offset, length, bytes);
    this.#next = undefined;
    super.write(offset + next.delta, length, bytes);
  }
}

/**
 * Slots of S0 (seq = slot): 1 sale armed, 2 sale armed, 3 sale owed (A0), 4 its REVERSAL, 5 sale owed (98), 6 its
 * REVERSAL, 7 sale closed, 8 sale owed (06), 9 its REVERSAL, tried once and 冲正失败: every marker state is there for the audit to compare.
 */
function setup(): { flash: Misdirecting; journal: Journal; options: JournalOptions } {
  const flash = new Misdirecting(new NorFlash({ sectorCount: 4, blockSize: SECTOR_BYTES, seed: 3 }));
  const options: JournalOptions = { flash, cipher: testCipher(), random: new SeededRandom(3), identity: TEST_IDENTITY };
  const journal = Journal.open(options);
  journal.arm(chipSale(1, 1, 100));
  journal.arm(chipSale(2, 1, 200));
  journal.reversalDue(journal.arm(chipSale(3, 1, 300)), "A0");
  journal.reversalDue(journal.arm(chipSale(5, 1, 500)), "98");
  journal.complete(journal.arm(chipSale(7, 1, 700)));
  const failed = journal.arm(chipSale(8, 1, 800));
  journal.reversalDue(failed, "06");
  journal.attempt(failed);
  journal.failed(failed);
  expect(journal.alarms).toEqual([]);
  return { flash, journal, options };
}

const alarmLines = (journal: Journal) =>
  journal.alarms.map((a) => `${a.kind}${a.seq === undefined ? "" : ` ${a.seq}`} S${a.sector}/${a.slot}`);

test("a CLOSED marker that lands on the next record: the write is alarmed and retried, the record it hit is audited", () => {
  const { flash, journal, options } = setup();
  flash.misdirectNext(4, SLOT_BYTES);
  journal.complete(1);
  expect(alarmLines(journal)).toEqual(["write-verify S0/1", "audit 2 S0/2"]);
  expect(journal.stateOf(1)).toBe("closed");
  // The stray marker is on flash: the record reads closed after a reboot (degraded, but alarmed first).
  expect(Journal.open(options).stateOf(2)).toBe("closed");
});

test("a 冲正失败 marker that lands on another REVERSAL: that REVERSAL is audited, the owed reversal is marked failed", () => {
  const { flash, journal } = setup();
  flash.misdirectNext(4, -2 * SLOT_BYTES); // from seq 6 (slot 6) onto seq 4 (slot 4)
  journal.failed(5);
  expect(alarmLines(journal)).toEqual(["write-verify S0/6", "audit 4 S0/4"]);
  expect(journal.pendingReversals().map((r) => `${r.txn.stan} ${r.failed}`)).toEqual(["000003 false", "000005 true", "000008 true"]);
});

test("an approval group that lands on another armed record's group: that record is audited, the approval is kept", () => {
  const { flash, journal } = setup();
  flash.misdirectNext(12, SLOT_BYTES); // seq 1's group onto seq 2's
  journal.approve(1, "AB12CD", "123456789012");
  expect(alarmLines(journal)).toEqual(["write-verify S0/1", "audit 2 S0/2"]);
  expect(journal.approvedLog().map((a) => `${a.seq} ${a.authCode} ${a.rrn}`)).toEqual(["1 AB12CD 123456789012"]);
});

test("a marker that lands in a sector header's body: the header is audited (slot 0), no record is", () => {
  const { flash, journal } = setup();
  flash.misdirectNext(4, 0x10 - (SLOT_BYTES + 0x70)); // seq 1's CLOSED word onto the header's erase count
  journal.complete(1);
  expect(alarmLines(journal)).toEqual(["write-verify S0/1", "audit S0/0"]);
});

test("a write that reads back as written audits nothing", () => {
  const { journal } = setup();
  journal.complete(1);
  journal.failed(5);
  journal.approve(2, "AB12CD", "123456789012");
  expect(journal.alarms).toEqual([]);
});
