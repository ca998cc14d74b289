/**
 * The append's tries (docs/journal-format.md §7: every program is read back; `JournalWriteError` after 3 tries) and
 * the attempts a first REVERSAL starts from. A body that never reads back is alarmed and its slot voided at each of
 * exactly three tries, then the call fails typed and the journal closes until recovery; nothing half-written is
 * believed after it. Runs in Node and in XS.
 */
import { NorFlash } from "../../../modules/emulators/nor-flash";
import { JournalClosedError, JournalWriteError } from "../../../modules/journal/errors";
import { BODY_BYTES } from "../../../modules/journal/format";
import { Journal, type JournalOptions } from "../../../modules/journal/journal";
import { SeededRandom } from "../../../modules/platform/random";
import { chipSale, TEST_IDENTITY, testCipher } from "../../../tools/journal/fixtures";
import { thrownBy } from "../thrown";
import { imageStory } from "./flash-image";
import { ForwardingFlash } from "./forwarding-flash";

/** Loses every record body while `losing` (the chip takes the command, the bytes never land). */
class LosingBodies extends ForwardingFlash {
  losing = false;
  lost = 0;
  override write(offset: number, length: number, bytes: Uint8Array): void {
    if (this.losing && length === BODY_BYTES) {
      this.lost++;
      return;
    }
    super.write(offset, length, bytes);
  }
}

function setup(): { flash: LosingBodies; options: JournalOptions; journal: Journal } {
  const flash = new LosingBodies(new NorFlash({ sectorCount: 4, blockSize: 1024, seed: 8 }));
  const options: JournalOptions = { flash, cipher: testCipher(), random: new SeededRandom(8), identity: TEST_IDENTITY };
  return { flash, options, journal: Journal.open(options) };
}

test("a body that never reads back: three tries, each alarmed and its slot voided, then JournalWriteError and a closed journal", () => {
  const { flash, options, journal } = setup();
  journal.approve(journal.arm(chipSale(1, 1, 100)), "AB12CD", "123456789012");
  flash.losing = true;
  const error = thrownBy(JournalWriteError, () => journal.arm(chipSale(2, 1, 200)));
  expect(error.message).toContain("appends do not read back");
  expect(flash.lost).toBe(3);
  expect(journal.alarms.map((a) => `${a.kind} S${a.sector}/${a.slot}`)).toEqual([
    "write-verify S0/2",
    "write-verify S0/3",
    "write-verify S0/4",
  ]);
  thrownBy(JournalClosedError, () => journal.arm(chipSale(3, 1, 300)));
  expect(imageStory(flash.inner).slice(1, 5)).toEqual([
    "S0/1 txn 1 stan 000001 approved AB12CD 123456789012",
    "S0/2 void",
    "S0/3 void",
    "S0/4 void",
  ]);

  // After a reboot nothing of the failed arm is believed; the next record goes on after the voided slots (and the
  // boot burn). No byte of seq 2 reached the flash, so seq 2 is still free.
  flash.losing = false;
  const rebooted = Journal.open(options);
  expect([rebooted.pendingReversals(), rebooted.approvedLog().map((a) => a.seq)]).toEqual([[], [1]]);
  expect(rebooted.arm(chipSale(3, 1, 300))).toBe(2);
  expect(imageStory(flash.inner).slice(5, 7)).toEqual(["S0/5 void", "S0/6 txn 2 stan 000003"]);
});

test("a first REVERSAL starts from no attempt, whatever record holds the index rows next to its sale", () => {
  const { journal } = setup();
  const first = journal.arm(chipSale(1, 1, 100));
  journal.reversalDue(first, "98");
  journal.attempt(first);
  journal.attempt(first);
  const second = journal.arm(chipSale(2, 1, 200));
  journal.reversalDue(second, "A0");
  expect(journal.pendingReversals().map((r) => `${r.txn.stan} ${r.reason} x${r.attempts}`)).toEqual(["000001 98 x2", "000002 A0 x0"]);
});
