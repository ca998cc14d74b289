/**
 * The journal's rules at their exact edges, where Stryker over journal.ts found no suite deciding
 * (docs/testing.md): `arm` refuses at the pending-reversal maximum and at capacity less the arm reserve, and not
 * one record earlier; an identity changed with nothing live is taken; a second `reversalDue` keeps the attempts
 * already spent; an append steps over slots a misdirected write spoiled instead of programming over them.
 * Runs in Node and in XS.
 */
import { NorFlash } from "../../../modules/emulators/nor-flash";
import { JournalFullError } from "../../../modules/journal/errors";
import { SLOT_BYTES } from "../../../modules/journal/format";
import { Journal, type JournalOptions } from "../../../modules/journal/journal";
import { SeededRandom } from "../../../modules/platform/random";
import { chipSale, TEST_IDENTITY, testCipher } from "../../../tools/journal/fixtures";
import { thrownBy } from "../thrown";
import { writtenSlots } from "./flash-image";

/** Stated here, not imported: the rule under test is that `arm` keeps this many records' room (docs §8). */
const ARM_RESERVE = 4;

function setup(reversalsPendingMax?: number): { flash: NorFlash; options: JournalOptions } {
  const flash = new NorFlash({ sectorCount: 4, blockSize: 4096, seed: 11 });
  const options: JournalOptions = {
    flash,
    cipher: testCipher(),
    random: new SeededRandom(11),
    identity: TEST_IDENTITY,
    ...(reversalsPendingMax === undefined ? {} : { reversalsPendingMax }),
  };
  return { flash, options };
}

describe("arm refuses at its limits, not before", () => {
  test("the pending-reversal maximum: one below is taken, at the maximum the next arm is refused", () => {
    const { options } = setup(3);
    const journal = Journal.open(options);
    journal.reversalDue(journal.arm(chipSale(1, 1, 100)), "98");
    journal.arm(chipSale(2, 1, 100)); // armed counts as pending: it may yet need a reversal
    journal.arm(chipSale(3, 1, 100)); // pending was 2 of 3: taken
    const error = thrownBy(JournalFullError, () => journal.arm(chipSale(4, 1, 100)));
    expect([error.liveRecords, error.capacity, error.message]).toEqual([3, 3, "too many unresolved reversals"]);
    // Far from capacity: it was the pending maximum that refused.
    expect(journal.counts().liveRecords + ARM_RESERVE).toBeLessThan(journal.counts().capacity);
  });

  test("capacity: an arm is taken while the live load plus the reserve fits exactly, refused one record later", () => {
    const { options } = setup();
    const journal = Journal.open(options);
    const { capacity } = journal.counts();
    expect(capacity).toBeGreaterThan(ARM_RESERVE + 2);
    // An approved record weighs 1; an armed one 2 (its possible REVERSAL). Fill with approvals up to the edge.
    let stan = 1;
    for (let i = 0; i < capacity && journal.counts().liveRecords + ARM_RESERVE < capacity; i++) {
      const seq = journal.arm(chipSale(stan, 1, 100));
      journal.approve(seq, "AB12CD", String(100000000000 + stan));
      stan++;
    }
    expect(journal.counts().liveRecords + ARM_RESERVE).toBe(capacity);
    const last = journal.arm(chipSale(stan++, 1, 100)); // live + reserve = capacity: taken
    journal.approve(last, "AB12CD", "100000000999");
    expect(journal.counts().liveRecords + ARM_RESERVE).toBe(capacity + 1);
    const error = thrownBy(JournalFullError, () => journal.arm(chipSale(stan, 1, 100)));
    expect([error.liveRecords, error.capacity, error.message]).toEqual([
      capacity + 1 - ARM_RESERVE,
      capacity,
      "journal full: settle or resolve reversals first",
    ]);
    // Settling frees the load: arms are taken again.
    journal.settle("000001");
    expect(journal.counts().liveRecords).toBe(1); // the SETTLE record itself
    expect(journal.stateOf(journal.arm(chipSale(stan, 2, 100)))).toBe("armed");
  });
});

describe("identity", () => {
  test("an identity changed with no record live is taken: the next record carries it, after a reboot too", () => {
    const { flash, options } = setup();
    Journal.open(options).settle("000001"); // formats the partition under the old identity
    const moved = { ...TEST_IDENTITY, terminalId: "87654321" };
    const journal = Journal.open({ ...options, identity: moved });
    journal.reversalDue(journal.arm(chipSale(1, 2, 100)), "98");
    expect(journal.pendingReversals().map((r) => r.identity)).toEqual([moved]);
    const rebooted = Journal.open({ ...options, flash, identity: moved });
    expect(rebooted.pendingReversals().map((r) => r.identity)).toEqual([moved]);
  });
});

describe("reversalDue called again", () => {
  test("the attempts already spent are kept under the new reason, and counted on from there after a reboot", () => {
    const { options } = setup();
    const journal = Journal.open(options);
    const seq = journal.arm(chipSale(1, 1, 100));
    journal.reversalDue(seq, "98");
    expect([journal.attempt(seq), journal.attempt(seq)]).toEqual([1, 2]);
    journal.reversalDue(seq, "06", { authCode: "AB12CD" });
    expect(journal.pendingReversals().map((r) => [r.reason, r.authCode, r.attempts])).toEqual([["06", "AB12CD", 2]]);
    expect(journal.attempt(seq)).toBe(3);
    const rebooted = Journal.open(options);
    expect(rebooted.pendingReversals().map((r) => [r.reason, r.attempts])).toEqual([["06", 3]]);
    expect(rebooted.attempt(seq)).toBe(4);
  });
});

describe("an append after a misdirected write", () => {
  test("steps over every spoiled slot ahead of it (more than its write tries), programs none of them, alarms nothing", () => {
    const { flash, options } = setup();
    const journal = Journal.open(options);
    journal.arm(chipSale(1, 1, 100));
    const record = writtenSlots(flash).at(-1) ?? -1;
    expect(record % 4096).toBeGreaterThan(0); // a record slot, past its sector's header
    // Four slots ahead of the append point hold a stray 16-byte write each (more than the 3 write tries).
    const stray = new Uint8Array(16).fill(0x5a);
    const spoiled = [1, 2, 3, 4].map((n) => record + n * SLOT_BYTES);
    for (const offset of spoiled) flash.write(offset + 32, stray.length, stray);
    const second = journal.arm(chipSale(2, 1, 200));
    expect(writtenSlots(flash).at(-1)).toBe(record + 5 * SLOT_BYTES);
    for (const offset of spoiled) {
      const slot = new Uint8Array(flash.read(offset, SLOT_BYTES));
      expect([slot.slice(32, 48), slot.slice(0, 32).every((b) => b === 0xff)]).toEqual([stray, true]);
    }
    expect(journal.alarms).toEqual([]);
    const rebooted = Journal.open(options);
    expect([rebooted.stateOf(1), rebooted.stateOf(second)]).toEqual(["reversalDue", "reversalDue"]);
    expect(rebooted.pendingReversals().map((r) => r.txn.stan)).toEqual(["000001", "000002"]);
  });
});
