/**
 * The approval is one flash step (docs/journal-format.md §5): whatever a power
 * cut does to the flash operations of `approve` — before, after or inside the
 * program, torn bits — the record reads back either approved with exactly the
 * authorisation code and RRN written, or still owed a reversal. Never closed
 * with nothing (an approval lost: the host's sale with no trace here), never
 * approved with other data (a torn group accepted). Runs in Node and in XS.
 */
import { NorFlash, PowerCut, type FlashFaultKind } from "../../../modules/emulators/nor-flash";
import { decodeApproval, encodeApproval, GROUP_BYTES } from "../../../modules/journal/format";
import { Journal, type JournalOptions } from "../../../modules/journal/journal";
import { SeededRandom } from "../../../modules/platform/random";
import { chipSale, TEST_IDENTITY, TEST_PAN, testCipher } from "../../../tools/journal/fixtures";

const AUTH_CODE = "AB12CD";
const RRN = "123456789012";
const KINDS: readonly FlashFaultKind[] = ["cutBefore", "cutAfter", "cutInside", "tornBits"];
/** Each seed tears the group differently (which byte, which bits, what weak bits read back). */
const SEEDS = 12;

function armed(seed: number): { flash: NorFlash; options: JournalOptions; journal: Journal; seq: number } {
  const flash = new NorFlash({ sectorCount: 4, blockSize: 4096, seed });
  const options: JournalOptions = { flash, cipher: testCipher(), random: new SeededRandom(seed), identity: TEST_IDENTITY };
  const journal = Journal.open(options);
  const seq = journal.arm(chipSale(1, 7, 1234), TEST_PAN);
  return { flash, options, journal, seq };
}

/** Flash operations (erases and programs) one `approve` issues on a fresh journal. */
function approveOperations(): number {
  const { flash, journal, seq } = armed(1);
  const before = flash.operations;
  journal.approve(seq, AUTH_CODE, RRN);
  return flash.operations - before;
}

type Verdict = "approved" | "owed";

function cutInsideApprove(kind: FlashFaultKind, operation: number, seed: number): Verdict {
  const { flash, options, journal, seq } = armed(seed);
  flash.schedule({ atOperation: flash.operations + operation, kind });
  let cut = false;
  try {
    journal.approve(seq, AUTH_CODE, RRN);
  } catch (error) {
    if (!(error instanceof PowerCut)) throw error;
    cut = true;
  }
  expect(flash.fired).toMatchObject({ kind, operation: "write" });
  if (!cut) flash.cutPower();
  flash.powerCycle();
  const after = Journal.open(options);
  const approved = after.approvedLog();
  const owed = after.pendingReversals().filter((r) => r.seq === seq);
  if (approved.length > 0) {
    expect(approved.map((a) => ({ seq: a.seq, authCode: a.authCode, rrn: a.rrn }))).toEqual([{ seq, authCode: AUTH_CODE, rrn: RRN }]);
    expect(owed).toEqual([]);
    return "approved";
  }
  expect(owed).toMatchObject([{ seq, reason: "98" }]);
  expect(after.stateOf(seq)).toBe("reversalDue");
  return "owed";
}

// The journal runs inside the tests only, never while the file loads: Stryker reruns every suite for a mutant
// reached at load (a "static" mutant), which made a third of the journal room's mutants cost a whole run each.
describe("a power cut at each flash operation of the approval", () => {
  test("approve is one program of the approval group, nothing else", () => {
    expect(approveOperations()).toBe(1);
  });

  test.each(KINDS)("%s: approved as written or owed a reversal, never lost, never other data", (kind) => {
    const operations = approveOperations();
    const verdicts: Verdict[] = [];
    for (let operation = 0; operation < operations; operation++)
      for (let seed = 1; seed <= SEEDS; seed++) verdicts.push(cutInsideApprove(kind, operation, seed));
    expect(verdicts).toHaveLength(operations * SEEDS);
    if (kind === "cutBefore") expect(new Set(verdicts)).toEqual(new Set(["owed"]));
    if (kind === "cutAfter") expect(new Set(verdicts)).toEqual(new Set(["approved"]));
    // A group torn in any byte or bit fails its check: the host's approval is reversed, never read as other data.
    if (kind === "cutInside" || kind === "tornBits") expect(new Set(verdicts)).toEqual(new Set(["owed"]));
  });
});

describe("the APPROVAL group's check", () => {
  const SEQ = 41;
  const approvalGroup = (): Uint8Array => {
    const group = new Uint8Array(GROUP_BYTES);
    encodeApproval(SEQ, AUTH_CODE, RRN, group);
    return group;
  };

  test("a whole group reads back as written; under another record's seq it does not", () => {
    const group = approvalGroup();
    expect(decodeApproval(SEQ, group)).toEqual({ state: "approved", authCode: AUTH_CODE, rrn: RRN });
    expect(decodeApproval(SEQ + 1, group)).toEqual({ state: "unreadable" });
  });

  test("every bit a torn program left at 1, and every bit flipped at rest, makes the group unreadable", () => {
    const group = approvalGroup();
    let damaged = 0;
    for (let byte = 0; byte < GROUP_BYTES; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = group.slice();
        copy[byte] ^= 1 << bit;
        // Not a blank (all FF) or void (all 00) group: one bit cannot make either from an approval.
        expect(decodeApproval(SEQ, copy)).toEqual({ state: "unreadable" });
        damaged++;
      }
    }
    expect(damaged).toBe(GROUP_BYTES * 8);
  });
});
