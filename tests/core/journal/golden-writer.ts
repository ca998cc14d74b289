/**
 * Writes the golden terminal partition with the code (journal, then the state
 * record, as the firmware lays them out): deterministic, so its bytes are
 * pinned in golden-image.ts. Every record kind, marker and group is in it.
 */
import { NorFlash } from "../../../modules/emulators/nor-flash";
import { Journal } from "../../../modules/journal/journal";
import { SeededRandom } from "../../../modules/platform/random";
import { FlashRegion } from "../../../modules/txn/flash-region";
import { FlashStateStore } from "../../../modules/txn/flash-state";
import { chipSale, TEST_IDENTITY, TEST_PAN, testCipher } from "../../../tools/journal/fixtures";

export const GOLDEN_BLOCK_BYTES = 1024;
export const GOLDEN_JOURNAL_SECTORS = 4;
/** An 86-byte F55 (the REVERSAL limit): 9F10 with 83 bytes of value. */
export const GOLDEN_F55 = new Uint8Array([0x9f, 0x10, 83, ...Array.from({ length: 83 }, (_, i) => (i * 7 + 1) & 0xff)]);

export function writeGoldenPartition(): Uint8Array {
  const chip = new NorFlash({ sectorCount: GOLDEN_JOURNAL_SECTORS + 2, blockSize: GOLDEN_BLOCK_BYTES, seed: 21 });
  const journal = Journal.open({
    flash: new FlashRegion(chip, 0, GOLDEN_JOURNAL_SECTORS),
    cipher: testCipher(),
    random: new SeededRandom(22),
    identity: TEST_IDENTITY,
  });
  const approved = journal.arm(chipSale(1, 7, 500), TEST_PAN);
  journal.approve(approved, "AB 234", "123456789012");
  const reversed = journal.arm(
    { ...chipSale(2, 7, 600), f61: "000007000001", originalAuthCode: "XY9876", cardSequence: undefined, emv: undefined },
    TEST_PAN,
  );
  journal.reversalDue(reversed, "A0", { f55: GOLDEN_F55, authCode: "654321" });
  journal.attempt(reversed);
  journal.attempt(reversed);
  journal.failed(reversed);
  const declined = journal.arm({
    mti: "0220",
    processingCode: "200000",
    amount: 99,
    stan: "000003",
    batch: "000007",
    timeSeconds: 1_700_000_003,
    entryMode: "021",
    conditionCode: "00",
    currency: "156",
    f60: "25000007000",
    domestic: false,
  });
  journal.complete(declined);
  journal.settle("000006");
  const state = new FlashStateStore(new FlashRegion(chip, GOLDEN_JOURNAL_SECTORS, 2));
  state.load();
  state.save({ stanNext: 4, batch: "000007", signedOn: true });
  state.save({ stanNext: 5, batch: "000007", signedOn: true, settlement: { batch: "000007", phase: "upload", next: 258 } });
  return chip.exportImage();
}
