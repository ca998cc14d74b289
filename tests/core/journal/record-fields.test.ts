/**
 * Every field of an armed transaction reads back as written after a power loss: the 0400 built from a record
 * found at boot must carry the original's F3, F4, F11, F14, F22, F23, F25, F38, F49, F55, F60 and F61
 * (docs/transactions.md). Stryker found the journal's suites checked only STAN, amount and batch of a record read
 * back; a field read from the wrong offset, or a flag read the wrong way, passed them (docs/testing.md).
 */
import { NorFlash } from "../../../modules/emulators/nor-flash";
import { Journal, type JournalOptions } from "../../../modules/journal/journal";
import type { TransactionData } from "../../../modules/journal/record";
import { SeededRandom } from "../../../modules/platform/random";
import { chipSale, randomTransaction, TEST_IDENTITY, TEST_PAN, testCipher } from "../../../tools/journal/fixtures";

function options(flash: NorFlash): JournalOptions {
  return { flash, cipher: testCipher(), random: new SeededRandom(7), identity: TEST_IDENTITY };
}

/** Arms `txn`, cuts the power, and returns what the journal owes a reversal for at the next boot. */
function armedThenPowerLoss(txn: TransactionData, pan?: string) {
  const flash = new NorFlash({ sectorCount: 4, blockSize: 4096, seed: 42 });
  Journal.open(options(flash)).arm(txn, pan);
  flash.cutPower();
  flash.powerCycle();
  const pending = Journal.open(options(flash)).pendingReversals();
  expect(pending).toHaveLength(1);
  expect(pending[0].reason).toBe("98");
  return pending[0].txn;
}

/** A pre-authorization completion of a foreign card: every optional field set, values unlike the chip sale's. */
const COMPLETION: TransactionData = {
  mti: "0200",
  processingCode: "000000",
  amount: 987654321012,
  stan: "123456",
  batch: "654321",
  timeSeconds: 0xfedcba98,
  expiry: "3107",
  entryMode: "072",
  cardSequence: "009",
  conditionCode: "06",
  currency: "344",
  originalAuthCode: "AB 12Z",
  f60: "20654321000601234",
  f61: "654321000042123456",
  domestic: false,
  emv: {
    tvr: new Uint8Array([1, 2, 3, 4, 5]),
    atc: new Uint8Array([0xa5, 0x5a]),
    issuerApplicationData: new Uint8Array([9, 8, 7, 6, 5, 4, 3]),
  },
};

describe("a transaction record read back after a power loss", () => {
  test("a chip sale: every field as armed, the PAN kept apart", () => {
    const sale = chipSale(17, 3, 4321);
    expect(armedThenPowerLoss(sale, TEST_PAN)).toEqual({ ...sale, hasPan: true });
  });

  test("a completion with every optional field, foreign card, no PAN", () => {
    expect(armedThenPowerLoss(COMPLETION)).toEqual({ ...COMPLETION, hasPan: false });
  });

  test("a magstripe sale with no optional field: none appears", () => {
    const { expiry, cardSequence, emv, ...swipe } = chipSale(2, 1, 100);
    expect([expiry, cardSequence, emv === undefined]).toEqual(["2912", "001", false]);
    const read = armedThenPowerLoss({ ...swipe, entryMode: "021" }, TEST_PAN);
    expect(read).toEqual({ ...swipe, entryMode: "021", hasPan: true });
    expect(Object.keys(read).filter((k) => ["expiry", "cardSequence", "emv", "f61", "originalAuthCode"].includes(k))).toEqual([]);
  });

  test("an F61 of odd length and an empty one; an F60 of odd length", () => {
    for (const f61 of ["12345", "", "123456789012345678"]) {
      const txn = { ...chipSale(5, 2, 50), f60: "221", f61 };
      expect(armedThenPowerLoss(txn)).toEqual({ ...txn, hasPan: false });
    }
  });

  test("forty random transactions of every shape the engine arms", () => {
    const random = new SeededRandom(2026);
    for (let stan = 1; stan <= 40; stan++) {
      const txn = randomTransaction(random, stan, 1 + (stan % 3));
      expect(armedThenPowerLoss(txn, stan % 2 === 0 ? TEST_PAN : undefined)).toEqual({ ...txn, hasPan: stan % 2 === 0 });
    }
  });
});
