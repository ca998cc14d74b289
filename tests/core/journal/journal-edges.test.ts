/**
 * The journal at its edges (docs/journal-format.md §1, §3, §6, §8): the geometries it refuses, the 96th attempt
 * and after, the attempt bitmap across its words, what a reversal owed reports before its REVERSAL exists, the
 * newest live record of a STAN that came round again, and a settlement refused while its batch has an armed
 * record. Runs in Node and in XS.
 */
import { AssertionError } from "../../../modules/base/assert";
import { NorFlash } from "../../../modules/emulators/nor-flash";
import { JournalStateError } from "../../../modules/journal/errors";
import { Journal, type JournalOptions } from "../../../modules/journal/journal";
import type { Flash } from "../../../modules/platform/flash";
import { SeededRandom } from "../../../modules/platform/random";
import { chipSale, TEST_IDENTITY, testCipher } from "../../../tools/journal/fixtures";
import { thrownBy } from "../thrown";
import { imageStory } from "./flash-image";
import { readJournalImage, type SpecReversal } from "./spec-reader";

function optionsFor(flash: Flash): JournalOptions {
  return { flash, cipher: testCipher(), random: new SeededRandom(6), identity: TEST_IDENTITY };
}

function setup(): { flash: NorFlash; journal: Journal } {
  const flash = new NorFlash({ sectorCount: 4, blockSize: 1024, seed: 6 });
  return { flash, journal: Journal.open(optionsFor(flash)) };
}

describe("geometry", () => {
  /** A partition of that shape that holds nothing (every read FF); opening it is all that is tried. */
  function shaped(blockSize: number, byteLength: number): Flash {
    return {
      blockSize,
      byteLength,
      read: (_offset, length) => new Uint8Array(length).fill(0xff).buffer,
      write: () => undefined,
      erase: () => undefined,
    };
  }
  const refusal = (blockSize: number, byteLength: number) =>
    thrownBy(AssertionError, () => Journal.open(optionsFor(shaped(blockSize, byteLength)))).message;

  test.each([
    [512, 3 * 512, "the smallest sector: a header and 3 slots"],
    [65536 / 2, 3 * 32768, "the largest: 256 slots"],
    [1024, 64 * 1024, "64 sectors"],
  ])("taken: %i-byte sectors, %i bytes (%s)", (blockSize, byteLength) => {
    expect(Journal.open(optionsFor(shaped(blockSize, byteLength))).counts().sectors).toBe(byteLength / blockSize);
  });

  test.each([
    [384, 3 * 384, "blockSize must hold a header and 3 slots"],
    [1000, 3 * 1000, "blockSize must hold a header and 3 slots"],
    [1024, 3 * 1024 + 512, "partition must be whole sectors"],
    [1024, 2 * 1024, "sector count"],
    [1024, 65 * 1024, "sector count"],
    [65536, 3 * 65536, "at most 256 slots per sector"],
  ])("refused: %i-byte sectors, %i bytes", (blockSize, byteLength, message) => {
    expect(refusal(blockSize, byteLength)).toContain(message);
  });
});

describe("attempts", () => {
  const reversalOf = (flash: NorFlash, target: number) =>
    readJournalImage(new Uint8Array(flash.read(0, flash.byteLength)), flash.blockSize).records.find(
      (r): r is SpecReversal => r.kind === "reversal" && r.target === target,
    );

  test("the bitmap fills word by word (bit n−1 of word ⌊(n−1)/32⌋); the 96th attempt is the last written", () => {
    const { flash, journal } = setup();
    const seq = journal.arm(chipSale(1, 1, 100));
    journal.reversalDue(seq, "98");
    const words = () => {
      const reversal = reversalOf(flash, seq)!;
      const slot = new Uint8Array(flash.read(reversal.sector * flash.blockSize + reversal.slot * 128 + 0x74, 12));
      return Array.from(slot, (b) => b.toString(16).padStart(2, "0")).join("");
    };
    for (let n = 1; n <= 33; n++) expect(journal.attempt(seq)).toBe(n);
    expect(words()).toBe("00000000" + "feffffff" + "ffffffff");
    for (let n = 34; n <= 96; n++) journal.attempt(seq);
    expect(words()).toBe("000000000000000000000000");
    const operations = flash.operations;
    expect(journal.attempt(seq)).toBe(96);
    expect(flash.operations).toBe(operations);
    expect(
      Journal.open(optionsFor(flash))
        .pendingReversals()
        .map((r) => r.attempts),
    ).toEqual([96]);
  });

  test("a reversal owed again keeps its attempts as the base of the new REVERSAL, whose bitmap starts empty", () => {
    const { flash, journal } = setup();
    const seq = journal.arm(chipSale(1, 1, 100));
    journal.reversalDue(seq, "98");
    journal.attempt(seq);
    journal.attempt(seq);
    journal.reversalDue(seq, "A0");
    expect(journal.attempt(seq)).toBe(3);
    expect(imageStory(flash).filter((line) => line.includes("reversal"))).toEqual([
      "S0/2 reversal 2 of 1 98 x2",
      "S0/3 reversal 3 of 1 A0 x3",
    ]);
  });
});

describe("what the journal reports", () => {
  test("a reversal owed since boot, before its REVERSAL is written: reason 98, no attempt, not failed, nothing received", () => {
    const { flash, journal } = setup();
    journal.arm(chipSale(1, 1, 100));
    const [owed] = Journal.open(optionsFor(flash)).pendingReversals();
    expect(owed).toMatchObject({ seq: 1, reason: "98", attempts: 0, failed: false });
    expect([owed.authCode, owed.f55]).toEqual([undefined, undefined]);
  });

  test("a reversal owed with the F38 and F55 received: both reported, and failed once marked", () => {
    const { journal } = setup();
    const seq = journal.arm(chipSale(1, 1, 100));
    journal.reversalDue(seq, "A0", { authCode: "AB12CD", f55: Uint8Array.of(0x9f, 0x36, 0x02, 0x00, 0x07) });
    journal.failed(seq);
    const [owed] = journal.pendingReversals();
    expect([owed.reason, owed.authCode, Array.from(owed.f55 ?? []), owed.failed]).toEqual(["A0", "AB12CD", [0x9f, 0x36, 2, 0, 7], true]);
  });

  test("the live record of a STAN is the newest one that is still live", () => {
    const { journal } = setup();
    const first = journal.arm(chipSale(7, 1, 100));
    journal.approve(first, "AB12CD", "123456789012");
    const second = journal.arm(chipSale(7, 1, 200)); // the STAN came round again
    journal.reversalDue(second, "98");
    expect(journal.liveSeqOf("000007")).toBe(second);
    journal.reversed(second);
    expect(journal.liveSeqOf("000007")).toBe(first);
    journal.settle("000001");
    expect(journal.liveSeqOf("000007")).toBeUndefined();
  });

  test("a settlement while a record of its batch is armed is refused, naming it; another batch's armed record does not stop it", () => {
    const { journal } = setup();
    journal.approve(journal.arm(chipSale(1, 1, 100)), "AB12CD", "123456789012");
    const armed = journal.arm(chipSale(2, 1, 100));
    journal.arm(chipSale(3, 2, 100));
    const error = thrownBy(JournalStateError, () => journal.settle("000001"));
    expect([error.seq, error.state, error.message]).toEqual([
      armed,
      "armed",
      `record ${armed} of batch 000001 is still armed: resolve it before settling`,
    ]);
    journal.complete(armed);
    journal.settle("000001");
    expect(journal.approvedCount()).toBe(0);
  });
});
