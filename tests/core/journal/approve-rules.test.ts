/**
 * The approval write (docs/journal-format.md §5): one program of the record's approval group, never over bytes a
 * stray write left there. When the group is no longer erased, the record is copied forward to a fresh slot, the
 * approval programmed there, and the spoiled slot alarmed as `audit`. Only an armed record is approved, and only an armed or
 * owed one can owe a reversal. Runs in Node and in XS.
 */
import { NorFlash } from "../../../modules/emulators/nor-flash";
import { JournalStateError } from "../../../modules/journal/errors";
import { GROUP_BYTES, GROUP_OFFSET, SLOT_BYTES } from "../../../modules/journal/format";
import { Journal, type JournalOptions } from "../../../modules/journal/journal";
import { SeededRandom } from "../../../modules/platform/random";
import { chipSale, TEST_IDENTITY, testCipher } from "../../../tools/journal/fixtures";
import { thrownBy } from "../thrown";
import { firstChange, flashImage, writtenSlots } from "./flash-image";

const SECTOR_BYTES = 4096;

function setup(): { flash: NorFlash; options: JournalOptions } {
  const flash = new NorFlash({ sectorCount: 4, blockSize: SECTOR_BYTES, seed: 5 });
  return { flash, options: { flash, cipher: testCipher(), random: new SeededRandom(5), identity: TEST_IDENTITY } };
}

const lastWrittenSlot = (flash: NorFlash): number => writtenSlots(flash).at(-1) ?? -1;

describe("an approval whose group a stray write spoiled", () => {
  test("is written to a fresh copy of the record, not over the stray bytes, and the slot is alarmed as audit", () => {
    const { flash, options } = setup();
    const journal = Journal.open(options);
    journal.arm(chipSale(1, 1, 100));
    const seq = journal.arm(chipSale(2, 1, 250));
    const slot = lastWrittenSlot(flash);
    // One byte of the erased approval group cleared by a misdirected write.
    flash.write(slot + GROUP_OFFSET + 5, 1, Uint8Array.of(0x7e));
    journal.approve(seq, "AB12CD", "123456789012");

    expect(journal.alarms).toEqual([
      { kind: "audit", seq, sector: Math.floor(slot / SECTOR_BYTES), slot: (slot % SECTOR_BYTES) / SLOT_BYTES },
    ]);
    // The stray bytes are left as they were: nothing was programmed over them.
    const spoiled = new Uint8Array(flash.read(slot + GROUP_OFFSET, GROUP_BYTES));
    expect(Array.from(spoiled)).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0x7e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(lastWrittenSlot(flash)).toBeGreaterThan(slot);

    // Read back after a power loss: approved with the host's references, nothing owed but the first record's.
    const rebooted = Journal.open(options);
    expect(rebooted.stateOf(seq)).toBe("approved");
    expect(rebooted.approvedLog().map((a) => [a.seq, a.txn.stan, a.txn.amount, a.authCode, a.rrn])).toEqual([
      [seq, "000002", 250, "AB12CD", "123456789012"],
    ]);
    expect(rebooted.pendingReversals().map((r) => r.txn.stan)).toEqual(["000001"]);
  });

  test("an erased group is programmed in place: no copy, no alarm", () => {
    const { flash, options } = setup();
    const journal = Journal.open(options);
    const seq = journal.arm(chipSale(1, 1, 100));
    const slot = lastWrittenSlot(flash);
    journal.approve(seq, "AB12CD", "123456789012");
    expect(journal.alarms).toEqual([]);
    expect(lastWrittenSlot(flash)).toBe(slot);
    expect(new Uint8Array(flash.read(slot + GROUP_OFFSET, GROUP_BYTES)).some((b) => b !== 0xff)).toBe(true);
    expect(Journal.open(options).stateOf(seq)).toBe("approved");
  });
});

test("only an armed record is approved: an approved or reversal-due one is refused, and nothing is written", () => {
  const { flash, options } = setup();
  const journal = Journal.open(options);
  const approved = journal.arm(chipSale(1, 1, 100));
  journal.approve(approved, "AB12CD", "123456789012");
  const due = journal.arm(chipSale(2, 1, 100));
  journal.reversalDue(due, "98");
  const before = flashImage(flash);
  for (const seq of [approved, due]) thrownBy(JournalStateError, () => journal.approve(seq, "AB12CD", "123456789012"));
  expect(firstChange(flash, before)).toBe(-1);
  expect([journal.stateOf(approved), journal.stateOf(due)]).toEqual(["approved", "reversalDue"]);
});

test("a reversal is owed only by an armed record or one already owed: an approved or completed one is refused, and nothing is written", () => {
  const { flash, options } = setup();
  const journal = Journal.open(options);
  const approved = journal.arm(chipSale(1, 1, 100));
  journal.approve(approved, "AB12CD", "123456789012");
  const completed = journal.arm(chipSale(2, 1, 100));
  journal.complete(completed);
  const before = flashImage(flash);
  for (const seq of [approved, completed]) {
    const error = thrownBy(JournalStateError, () => journal.reversalDue(seq, "06"));
    expect(error.message).toBe(`record ${seq} is ${journal.stateOf(seq)}, not armed`);
  }
  expect(firstChange(flash, before)).toBe(-1);
  expect(journal.pendingReversals()).toEqual([]);
});
