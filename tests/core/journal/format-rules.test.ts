/**
 * Rules of modules/journal/format.ts that Stryker found no test defending (docs/testing.md): the terminal
 * identity's checks and its comparison (a reversal goes out under the F41/F42 its record was armed with), the
 * approval group's empty and void states, and the typed errors' names (what the CLI's JSON and the logs show).
 */
import { NorFlash } from "../../../modules/emulators/nor-flash";
import {
  JournalClosedError,
  JournalFormatError,
  JournalFullError,
  JournalInputError,
  JournalStateError,
  JournalWriteError,
} from "../../../modules/journal/errors";
import {
  checkIdentity,
  decodeApproval,
  encodeApproval,
  GROUP_BYTES,
  sameIdentity,
  type TerminalIdentity,
} from "../../../modules/journal/format";
import { Journal } from "../../../modules/journal/journal";
import { SeededRandom } from "../../../modules/platform/random";
import { chipSale, TEST_IDENTITY, testCipher } from "../../../tools/journal/fixtures";
import { thrownBy } from "../thrown";

const FIELDS = ["terminalId", "merchantId", "ifdSerial"] as const;

/** TEST_IDENTITY with one field changed in its last character, same length. */
function changed(field: (typeof FIELDS)[number]): TerminalIdentity {
  const value = TEST_IDENTITY[field];
  return { ...TEST_IDENTITY, [field]: value.slice(0, -1) + (value.endsWith("9") ? "8" : "9") };
}

describe("the terminal identity", () => {
  test("each field is checked for its length and printable characters, and named", () => {
    expect(() => checkIdentity(TEST_IDENTITY)).not.toThrow();
    const lengths = { terminalId: 8, merchantId: 15, ifdSerial: 8 };
    for (const field of FIELDS) {
      for (const value of ["A".repeat(lengths[field] - 1), "A".repeat(lengths[field] + 1), "A".repeat(lengths[field] - 1) + "\u0001"]) {
        expect(thrownBy(JournalInputError, () => checkIdentity({ ...TEST_IDENTITY, [field]: value })).field).toBe(field);
      }
    }
  });

  test("two identities are the same only when all three fields are", () => {
    expect(sameIdentity(TEST_IDENTITY, { ...TEST_IDENTITY })).toBe(true);
    expect(FIELDS.map((field) => sameIdentity(TEST_IDENTITY, changed(field)))).toEqual([false, false, false]);
    expect(FIELDS.map((field) => sameIdentity(changed(field), TEST_IDENTITY))).toEqual([false, false, false]);
  });

  test("an identity changed while a record is live is refused at the next arm, whichever field changed", () => {
    for (const field of FIELDS) {
      const flash = new NorFlash({ sectorCount: 4, blockSize: 4096, seed: 42 });
      const options = { flash, cipher: testCipher(), random: new SeededRandom(7), identity: TEST_IDENTITY };
      Journal.open(options).arm(chipSale(1, 1, 100));
      const moved = Journal.open({ ...options, identity: changed(field) });
      expect(thrownBy(JournalStateError, () => moved.arm(chipSale(2, 1, 200))).state).toBe("identity");
      // The live record keeps the identity it was armed with.
      expect(moved.pendingReversals().map((r) => r.identity)).toEqual([TEST_IDENTITY]);
    }
  });
});

describe("the approval group", () => {
  test("erased is none, zeroed is void, written is approved, one flipped bit is unreadable", () => {
    expect(decodeApproval(5, new Uint8Array(GROUP_BYTES).fill(0xff))).toEqual({ state: "none" });
    expect(decodeApproval(5, new Uint8Array(GROUP_BYTES))).toEqual({ state: "void" });
    const group = new Uint8Array(GROUP_BYTES);
    encodeApproval(5, "AB12CD", "123456789012", group);
    expect(decodeApproval(5, group)).toEqual({ state: "approved", authCode: "AB12CD", rrn: "123456789012" });
    expect(decodeApproval(6, group)).toEqual({ state: "unreadable" });
    for (let bit = 0; bit < GROUP_BYTES * 8; bit += 7) {
      const flipped = group.slice();
      flipped[bit >> 3] ^= 1 << (bit & 7);
      expect(decodeApproval(5, flipped)).toEqual({ state: "unreadable" });
    }
  });
});

describe("typed errors", () => {
  test("each names itself", () => {
    expect(
      [
        new JournalInputError("f", "m"),
        new JournalStateError(1, "s", "m"),
        new JournalFullError(1, 2, "m"),
        new JournalWriteError(1, "m"),
        new JournalClosedError(),
        new JournalFormatError("m"),
      ].map((error) => error.name),
    ).toEqual([
      "JournalInputError",
      "JournalStateError",
      "JournalFullError",
      "JournalWriteError",
      "JournalClosedError",
      "JournalFormatError",
    ]);
  });
});
