/**
 * What the journal counts as live (docs/journal-format.md §8), the load its capacity rule and its compactions weigh:
 * an armed sale twice (its REVERSAL is reserved), an approved or owed one once, a closed or settled one not at all; a
 * REVERSAL only while it is the current one of a sale still owed. The same after a reboot, when recovery rebuilds the
 * index from flash alone. Runs in Node and in XS.
 */
import { NorFlash } from "../../../modules/emulators/nor-flash";
import { Journal, type JournalOptions } from "../../../modules/journal/journal";
import { SeededRandom } from "../../../modules/platform/random";
import { chipSale, TEST_IDENTITY, testCipher } from "../../../tools/journal/fixtures";
import { imageStory } from "./flash-image";

type Step = (journal: Journal, seq: number) => void;

const approve: Step = (journal, seq) => journal.approve(seq, "AB12CD", "123456789012");
const complete: Step = (journal, seq) => journal.complete(seq);
const owe =
  (reason: "98" | "A0" | "06"): Step =>
  (journal, seq) =>
    journal.reversalDue(seq, reason);
const reversed: Step = (journal, seq) => journal.reversed(seq);
const failed: Step = (journal, seq) => journal.failed(seq);
const settle: Step = (journal) => journal.settle("000001");

/** Each sale: arm, then its steps. */
function load(sales: readonly (readonly Step[])[]): { live: number; afterReboot: number; owed: string[] } {
  const flash = new NorFlash({ sectorCount: 4, blockSize: 4096, seed: 2 });
  const options: JournalOptions = { flash, cipher: testCipher(), random: new SeededRandom(2), identity: TEST_IDENTITY };
  const journal = Journal.open(options);
  sales.forEach((steps, i) => {
    const seq = journal.arm(chipSale(i + 1, 1, 100));
    for (const step of steps) step(journal, seq);
  });
  const rebooted = Journal.open(options);
  return {
    live: journal.counts().liveRecords,
    afterReboot: rebooted.counts().liveRecords,
    owed: rebooted.pendingReversals().map((r) => `${r.txn.stan} ${r.reason}`),
  };
}

test.each([
  { name: "armed", sales: [[]], load: 2, owed: ["000001 98"] },
  { name: "approved", sales: [[approve]], load: 1, owed: [] },
  { name: "closed", sales: [[complete]], load: 0, owed: [] },
  { name: "owed: the sale and its REVERSAL", sales: [[owe("A0")]], load: 2, owed: ["000001 A0"] },
  { name: "owed and 冲正失败: still both", sales: [[owe("A0"), failed]], load: 2, owed: ["000001 A0"] },
  { name: "reversed", sales: [[owe("A0"), reversed]], load: 0, owed: [] },
  { name: "owed twice: the sale and the newer REVERSAL only", sales: [[owe("A0"), owe("06")]], load: 2, owed: ["000001 06"] },
  { name: "approved then settled (the SETTLE beside the approval)", sales: [[approve, settle]], load: 0, owed: [] },
  {
    name: "one of each",
    sales: [[approve], [complete], [owe("98")], [owe("A0"), reversed], []],
    load: 1 + 0 + 2 + 0 + 2,
    owed: ["000003 98", "000005 98"],
  },
] satisfies { name: string; sales: Step[][]; load: number; owed: string[] }[])("$name: load $load", ({ sales, load: expected, owed }) => {
  expect(load(sales)).toEqual({ live: expected, afterReboot: expected, owed });
});

test("a long day on a small partition: every live record is found by its seq after each sale, and after a reboot", () => {
  const flash = new NorFlash({ sectorCount: 4, blockSize: 1024, seed: 4 });
  const options: JournalOptions = { flash, cipher: testCipher(), random: new SeededRandom(4), identity: TEST_IDENTITY };
  let journal = Journal.open(options);
  /** The state each live record must have; closed and settled ones leave (their slots are erased in time). */
  const live = new Map<number, string>();
  const lost: string[] = [];
  const check = (when: string) => {
    for (const [seq, state] of live)
      if (journal.stateOf(seq) !== state) lost.push(`${when}: ${seq} ${String(journal.stateOf(seq))} not ${state}`);
    // Every sale still stored on flash is known to the index by its seq (a closed one too, until its sector is erased).
    for (const line of imageStory(flash)) {
      const stored = /^S\d\/\d txn (\d+) /.exec(line);
      if (stored !== null && journal.stateOf(Number(stored[1])) === undefined) lost.push(`${when}: ${line} not indexed`);
    }
  };
  let batch = 1;
  for (let stan = 1; stan <= 238; stan++) {
    const seq = journal.arm(chipSale(stan, batch, stan));
    if (stan % 35 === 1) {
      journal.approve(seq, "AB12CD", String(100000000000 + stan));
      live.set(seq, "approved");
    } else if (stan % 7 === 0) {
      journal.reversalDue(seq, "A0");
      live.set(seq, "reversalDue");
    } else journal.complete(seq);
    // Owed reversals go through a few sales later; the batch settles every 70 sales, so
    // that an approval outlives 64 later seqs: the index's hash puts seqs 64 apart in one bucket.
    for (const [owed, state] of live)
      if (state === "reversalDue" && owed < seq - 6) {
        journal.reversed(owed);
        live.delete(owed);
      }
    if (stan % 70 === 0) {
      journal.settle(String(batch).padStart(6, "0"));
      for (const [approved, state] of live) if (state === "approved") live.delete(approved);
      batch++;
    }
    if (stan % 50 === 0) journal = Journal.open(options);
    check(`stan ${stan}`);
  }
  expect(lost).toEqual([]);
  expect(live.size).toBeGreaterThan(1);
  expect(flash.eraseCounts().reduce((a, b) => a + b)).toBeGreaterThan(20);
});
