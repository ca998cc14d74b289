/**
 * Every program is read back (docs/journal-format.md §7): a marker write that does not stick is alarmed with its
 * sector and slot and tried again; one that never sticks ends in a typed JournalWriteError after three tries,
 * never in a state the flash does not hold. Stryker found the read-back comparison of `#programChecked` undefended
 * by the core suites (docs/testing.md). Runs in Node and in XS.
 */
import { NorFlash } from "../../../modules/emulators/nor-flash";
import { JournalWriteError } from "../../../modules/journal/errors";
import { SLOT_BYTES } from "../../../modules/journal/format";
import { Journal, type JournalOptions } from "../../../modules/journal/journal";
import { SeededRandom } from "../../../modules/platform/random";
import { chipSale, TEST_IDENTITY, TEST_PAN, testCipher } from "../../../tools/journal/fixtures";
import { ForwardingFlash } from "./forwarding-flash";

/** Drops the next `lost` writes of 4 bytes (the marker words); everything else reaches the flash. */
class LosingMarkers extends ForwardingFlash {
  lost = 0;
  dropped = 0;
  override write(offset: number, length: number, bytes: Uint8Array): void {
    if (length === 4 && this.lost > 0) {
      this.lost--;
      this.dropped++;
      return;
    }
    super.write(offset, length, bytes);
  }
}

function armed(): { flash: LosingMarkers; options: JournalOptions; journal: Journal; seq: number } {
  const flash = new LosingMarkers(new NorFlash({ sectorCount: 4, blockSize: 4096, seed: 3 }));
  const options: JournalOptions = { flash, cipher: testCipher(), random: new SeededRandom(3), identity: TEST_IDENTITY };
  const journal = Journal.open(options);
  return { flash, options, journal, seq: journal.arm(chipSale(2, 1, 1500), TEST_PAN) };
}

describe("a marker write that does not read back", () => {
  test("is alarmed with its sector and slot and tried again: the record closes, and stays closed after a reboot", () => {
    const { flash, options, journal, seq } = armed();
    flash.lost = 1;
    journal.complete(seq);
    expect(flash.dropped).toBe(1);
    expect(journal.alarms).toHaveLength(1);
    const [alarm] = journal.alarms;
    expect(alarm.kind).toBe("write-verify");
    // The record's slot: the first record after the sector header, in the active sector.
    expect(alarm.slot).toBe(1);
    expect(alarm.sector * options.flash.blockSize + alarm.slot * SLOT_BYTES).toBeLessThan(options.flash.byteLength);
    expect(journal.stateOf(seq)).toBe("closed");
    const after = Journal.open(options);
    expect(after.pendingReversals()).toEqual([]);
    expect(after.stateOf(seq)).toBe("closed");
  });

  test("that never sticks ends in JournalWriteError after three tries, and the record is still owed its reversal", () => {
    const { flash, options, journal, seq } = armed();
    flash.lost = 1_000;
    expect(() => journal.complete(seq)).toThrow(JournalWriteError);
    expect(flash.dropped).toBe(3);
    expect(journal.alarms.map((a) => a.kind)).toEqual(["write-verify", "write-verify", "write-verify"]);
    flash.lost = 0;
    // Nothing on flash says closed: after a reboot the armed record is owed a reversal (98), as after a power cut.
    const after = Journal.open(options);
    expect(after.pendingReversals().map((r) => [r.seq, r.reason])).toEqual([[seq, "98"]]);
  });
});
