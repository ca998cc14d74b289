/**
 * The record and format codecs at their edges (docs/journal-format.md §3–§5), where Stryker found lines no
 * suite defended (docs/testing.md): each input check names its field and says what is wrong, the largest
 * values are kept and one more is refused, a payload is written whole over whatever the slot held, and the
 * slot classes and the approval group's limits are those the document gives. Runs in Node and in XS.
 */
import { crc32 } from "../../../modules/base/crc32";
import { JournalFormatError, JournalInputError } from "../../../modules/journal/errors";
import {
  classifySlot,
  decodeApproval,
  encodeApproval,
  FORMAT_VERSION,
  GROUP_BYTES,
  hasRecordMagic,
  KIND_REVERSAL,
  KIND_SETTLE,
  KIND_TXN,
  PAYLOAD_BYTES,
  PAYLOAD_OFFSET,
  readBcd,
  RECORD_MAGIC,
  sealBody,
  SLOT_BYTES,
  writeBcd,
  writeU32,
} from "../../../modules/journal/format";
import {
  decodeReversal,
  decodeTransaction,
  encodeReversal,
  encodeSettle,
  encodeTransaction,
  panToBcd,
  REVERSAL_F55_BYTES_MAX,
  settleBatch,
  type TransactionData,
} from "../../../modules/journal/record";
import { chipSale } from "../../../tools/journal/fixtures";

/** The field and message of the JournalInputError `run` throws. */
function inputError(run: () => void): { field: string; message: string } {
  try {
    run();
  } catch (error) {
    if (!(error instanceof JournalInputError)) throw error;
    return { field: error.field, message: error.message };
  }
  throw new Error("no JournalInputError thrown");
}

const slotOf = (fill: number): Uint8Array => new Uint8Array(SLOT_BYTES).fill(fill);
const payload = (slot: Uint8Array): Uint8Array => slot.subarray(PAYLOAD_OFFSET, PAYLOAD_OFFSET + PAYLOAD_BYTES);

describe("a transaction record", () => {
  const encode = (txn: TransactionData, sealedPan = new Uint8Array(0)): void => encodeTransaction(txn, sealedPan, slotOf(0xff));

  test("each digit field is checked for its length and digits, and named", () => {
    const sale = chipSale(1, 7, 1234);
    const fields = [
      ["mti", 4],
      ["processingCode", 6],
      ["stan", 6],
      ["batch", 6],
      ["entryMode", 3],
      ["conditionCode", 2],
      ["currency", 3],
      ["expiry", 4],
      ["cardSequence", 3],
    ] as const;
    for (const [field, count] of fields) {
      for (const value of ["1".repeat(count - 1), "1".repeat(count + 1), "1".repeat(count - 1) + "A"]) {
        expect(inputError(() => encode({ ...sale, [field]: value }))).toEqual({ field, message: `${field} must be ${count} digits` });
      }
    }
    // The required ones missing altogether (a caller outside TypeScript's reach): the same error.
    for (const [field, count] of fields.slice(0, 7)) {
      const missing = { ...sale, [field]: undefined } as unknown as TransactionData;
      expect(inputError(() => encode(missing))).toEqual({ field, message: `${field} must be ${count} digits` });
    }
  });

  test("amount and time: the largest kept, one more refused, fractions and negatives refused", () => {
    const sale = chipSale(1, 7, 1234);
    const amountError = { field: "amount", message: "amount must be 0..999999999999" };
    for (const amount of [-1, 1000000000000, 1.5, Number.NaN]) expect(inputError(() => encode({ ...sale, amount }))).toEqual(amountError);
    const timeError = { field: "timeSeconds", message: "time must be a u32" };
    for (const timeSeconds of [-1, 0x100000000, 1.5]) expect(inputError(() => encode({ ...sale, timeSeconds }))).toEqual(timeError);

    const slot = slotOf(0xff);
    encodeTransaction({ ...sale, amount: 999999999999, timeSeconds: 0xffffffff }, new Uint8Array(0), slot);
    expect(decodeTransaction(slot).txn).toMatchObject({ amount: 999999999999, timeSeconds: 0xffffffff });
    encodeTransaction({ ...sale, amount: 0, timeSeconds: 0 }, new Uint8Array(0), slot);
    expect(decodeTransaction(slot).txn).toMatchObject({ amount: 0, timeSeconds: 0 });
  });

  test("F38, F60, F61, the sealed PAN and the EMV data: the longest kept, one more refused, each named", () => {
    const sale = chipSale(1, 7, 1234);
    const f38 = { field: "originalAuthCode", message: "F38 must be 6 printable characters" };
    for (const code of ["AB12C", "AB12CD7", "AB12C\u0001", "AB12C\u00e9"])
      expect(inputError(() => encode({ ...sale, originalAuthCode: code }))).toEqual(f38);
    expect(inputError(() => encode({ ...sale, f60: "1".repeat(18) }))).toEqual({ field: "f60", message: "F60 must be at most 17 digits" });
    expect(inputError(() => encode({ ...sale, f61: "1".repeat(19) }))).toEqual({ field: "f61", message: "F61 must be at most 18 digits" });
    expect(inputError(() => encode(sale, new Uint8Array(41)))).toEqual({ field: "pan", message: "sealed PAN is too long" });
    const emv = sale.emv!;
    const emvError = { field: "emv", message: "95 must be 5 bytes and 9F36 2 bytes" };
    expect(inputError(() => encode({ ...sale, emv: { ...emv, tvr: new Uint8Array(4) } }))).toEqual(emvError);
    expect(inputError(() => encode({ ...sale, emv: { ...emv, atc: new Uint8Array(3) } }))).toEqual(emvError);
    expect(inputError(() => encode({ ...sale, emv: { ...emv, issuerApplicationData: new Uint8Array(33) } }))).toEqual({
      field: "emv",
      message: "9F10 must be at most 32 bytes",
    });

    // The longest of each alone fits; all of them at once do not, and the error says by how much.
    const longest: TransactionData = { ...sale, originalAuthCode: "~ZZ 01", f60: "1".repeat(17), f61: "2".repeat(18) };
    const slot = slotOf(0xff);
    encodeTransaction({ ...longest, emv: undefined }, new Uint8Array(40).fill(7), slot);
    expect(decodeTransaction(slot).txn).toMatchObject({ originalAuthCode: "~ZZ 01", f60: "1".repeat(17), f61: "2".repeat(18) });
    expect(decodeTransaction(slot).sealedPan).toEqual(new Uint8Array(40).fill(7));
    const full = { ...longest, emv: { ...emv, issuerApplicationData: new Uint8Array(32) } };
    expect(inputError(() => encode(full, new Uint8Array(40)))).toEqual({
      field: "record",
      message: "the record needs 139 payload bytes, the slot holds 100",
    });
  });

  test("the payload is written whole over what the slot held: nothing of the old bytes reads back", () => {
    const swipe: TransactionData = { ...chipSale(3, 7, 500), expiry: undefined, cardSequence: undefined, emv: undefined };
    const slot = slotOf(0x00);
    encodeTransaction(swipe, new Uint8Array(0), slot);
    const decoded = decodeTransaction(slot).txn;
    expect(decoded).toEqual({ ...swipe, expiry: undefined, cardSequence: undefined, emv: undefined, hasPan: false });
    expect(Object.keys(decoded)).not.toContain("f61");
    expect(Object.keys(decoded)).not.toContain("emv");
    expect(slot.subarray(0, PAYLOAD_OFFSET)).toEqual(new Uint8Array(PAYLOAD_OFFSET));
    expect(slot.subarray(PAYLOAD_OFFSET + PAYLOAD_BYTES)).toEqual(new Uint8Array(SLOT_BYTES - PAYLOAD_OFFSET - PAYLOAD_BYTES));
  });

  test("an EMV length byte with no room left for its header reads no EMV data, never bytes past the payload", () => {
    // F60 17 digits (9 bytes) and F61 18 (9): the EMV length byte follows the sealed PAN at payload offset 58 + its length.
    const txn: TransactionData = { ...chipSale(1, 7, 1234), f60: "1".repeat(17), f61: "2".repeat(18), emv: undefined };
    for (const panBytes of [33, 34]) {
      const slot = slotOf(0xff);
      encodeTransaction(txn, new Uint8Array(panBytes), slot);
      const emvAt = PAYLOAD_OFFSET + 58 + panBytes;
      expect(slot[emvAt]).toBe(0);
      // A length byte the encoder never writes there; the bytes after the payload (CRC, word A) must never be read as EMV data.
      slot[emvAt] = 20;
      slot.fill(0xee, PAYLOAD_OFFSET + PAYLOAD_BYTES);
      const emv = decodeTransaction(slot).txn.emv;
      if (panBytes === 33) {
        // The 9-byte header ends exactly at the payload's end: read, with no issuer data.
        expect(emv).toEqual({
          tvr: slot.slice(emvAt + 1, emvAt + 6),
          atc: slot.slice(emvAt + 6, emvAt + 8),
          issuerApplicationData: new Uint8Array(0),
        });
      } else {
        expect(emv).toBeUndefined();
      }
    }
  });
});

describe("a reversal record", () => {
  test("reason, F38 and F55 are checked and named; the attempts carried over go up to 255", () => {
    const target = 17;
    expect(inputError(() => encodeReversal({ target, reason: "99" as "98", attemptsBase: 0 }, slotOf(0xff)))).toEqual({
      field: "reason",
      message: "reversal reason must be 98, A0 or 06",
    });
    for (const authCode of ["AB12C", "AB12CD7", "\u0001B12CD"]) {
      expect(inputError(() => encodeReversal({ target, reason: "06", attemptsBase: 0, authCode }, slotOf(0xff)))).toEqual({
        field: "authCode",
        message: "F38 must be 6 printable characters",
      });
    }
    expect(
      inputError(() =>
        encodeReversal({ target, reason: "98", attemptsBase: 0, f55: new Uint8Array(REVERSAL_F55_BYTES_MAX + 1) }, slotOf(0xff)),
      ),
    ).toEqual({
      field: "f55",
      message: `F55 must be at most ${REVERSAL_F55_BYTES_MAX} bytes, got ${REVERSAL_F55_BYTES_MAX + 1}`,
    });
    for (const attemptsBase of [-1, 256])
      expect(() => encodeReversal({ target, reason: "98", attemptsBase }, slotOf(0xff))).toThrow("attemptsBase out of range");
    const slot = slotOf(0xff);
    encodeReversal({ target, reason: "A0", attemptsBase: 255 }, slot);
    expect(decodeReversal(slot).attemptsBase).toBe(255);
  });

  test("written over a slot of zeros, a reversal without F38 or F55 reads back without them", () => {
    const slot = slotOf(0x00);
    encodeReversal({ target: 0x01020304, reason: "98", attemptsBase: 3 }, slot);
    const decoded = decodeReversal(slot);
    expect(decoded).toEqual({ target: 0x01020304, reason: "98", attemptsBase: 3 });
    expect(Object.keys(decoded).sort()).toEqual(["attemptsBase", "reason", "target"]);
    expect(payload(slot).subarray(14)).toEqual(new Uint8Array(PAYLOAD_BYTES - 14).fill(0xff));

    encodeReversal({ target: 9, reason: "06", attemptsBase: 0, authCode: "A1B2C3", f55: new Uint8Array([0x95, 1, 2]) }, slot);
    expect(decodeReversal(slot)).toEqual({
      target: 9,
      reason: "06",
      attemptsBase: 0,
      authCode: "A1B2C3",
      f55: new Uint8Array([0x95, 1, 2]),
    });
  });

  test("a stored F55 length above the limit is refused with its length; an unknown reason reads as 06", () => {
    const slot = slotOf(0xff);
    encodeReversal({ target: 5, reason: "A0", attemptsBase: 0 }, slot);
    slot[PAYLOAD_OFFSET + 13] = REVERSAL_F55_BYTES_MAX + 1;
    expect(() => decodeReversal(slot)).toThrow(
      new JournalFormatError(`REVERSAL F55 length ${REVERSAL_F55_BYTES_MAX + 1} is over ${REVERSAL_F55_BYTES_MAX} bytes`),
    );
    slot[PAYLOAD_OFFSET + 13] = 0;
    slot.set([0x39, 0x39], PAYLOAD_OFFSET + 4);
    expect(decodeReversal(slot).reason).toBe("06");
  });
});

describe("a settle record and the PAN", () => {
  test("the batch is checked, written over a slot of zeros, and read back", () => {
    expect(inputError(() => encodeSettle("12345", slotOf(0xff)))).toEqual({ field: "batch", message: "batch must be 6 digits" });
    const slot = slotOf(0x00);
    encodeSettle("000042", slot);
    expect(settleBatch(slot)).toBe(42);
    expect(payload(slot).subarray(3)).toEqual(new Uint8Array(PAYLOAD_BYTES - 3).fill(0xff));
  });

  test("a PAN of 12 to 19 digits is packed; another is refused and named", () => {
    expect(panToBcd("622588012345")).toEqual(new Uint8Array([0x62, 0x25, 0x88, 0x01, 0x23, 0x45, 0xff, 0xff, 0xff, 0xff]));
    for (const pan of ["62258801234", "62258801234567890123", "62258801234A"]) {
      expect(inputError(() => panToBcd(pan))).toEqual({ field: "pan", message: "PAN must be 12 to 19 digits" });
    }
  });
});

describe("BCD fields", () => {
  test("digits are packed with F padding, inside the field only; too many or non-digits refused and named", () => {
    const out = new Uint8Array(4).fill(0xaa);
    writeBcd(out, 1, 2, "123", "what");
    expect(out).toEqual(new Uint8Array([0xaa, 0x12, 0x3f, 0xaa]));
    writeBcd(out, 1, 2, "", "what");
    expect(out).toEqual(new Uint8Array([0xaa, 0xff, 0xff, 0xaa]));
    expect(readBcd(new Uint8Array([0x12, 0x3f]), 0, 2)).toBe("123");
    for (const digits of ["12345", "12a"])
      expect(inputError(() => writeBcd(out, 0, 2, digits, "stan"))).toEqual({ field: "stan", message: "stan must be at most 4 digits" });
  });
});

describe("slot classes (docs §3)", () => {
  const SECTOR = 2;
  const SLOT = 5;
  const sealed = (kind: number): Uint8Array => {
    const slot = slotOf(0xff);
    sealBody(slot, kind as 1, 77, SECTOR, SLOT);
    return slot;
  };

  test("blank, void, a record, misplaced (either coordinate), invalid", () => {
    expect(classifySlot(slotOf(0xff), SECTOR, SLOT)).toBe("blank");
    const voided = sealed(KIND_TXN);
    voided.fill(0, 0, 4);
    expect(classifySlot(voided, SECTOR, SLOT)).toBe("void");
    expect(classifySlot(sealed(KIND_TXN), SECTOR, SLOT)).toBe("record");
    expect(classifySlot(sealed(KIND_TXN), SECTOR + 1, SLOT)).toBe("misplaced");
    expect(classifySlot(sealed(KIND_TXN), SECTOR, SLOT + 1)).toBe("misplaced");
    const damaged = sealed(KIND_TXN);
    damaged[PAYLOAD_OFFSET] ^= 1;
    expect(classifySlot(damaged, SECTOR, SLOT)).toBe("invalid");
    // One byte off blank is not blank: its magic is wrong.
    const almostBlank = slotOf(0xff);
    almostBlank[SLOT_BYTES - 1] = 0xfe;
    expect(classifySlot(almostBlank, SECTOR, SLOT)).toBe("invalid");
  });

  test("a record's magic: the magic byte, the format version and a known kind (1 to 3), each on its own", () => {
    for (const kind of [KIND_TXN, KIND_REVERSAL, KIND_SETTLE]) expect(hasRecordMagic(sealed(kind))).toBe(true);
    for (const kind of [0, 4, 15]) {
      const slot = sealed(KIND_TXN);
      slot[1] = (kind << 4) | FORMAT_VERSION;
      expect(hasRecordMagic(slot)).toBe(false);
    }
    const wrongMagic = sealed(KIND_TXN);
    wrongMagic[0] = RECORD_MAGIC ^ 0x01;
    expect(hasRecordMagic(wrongMagic)).toBe(false);
    const wrongVersion = sealed(KIND_TXN);
    wrongVersion[1] = (KIND_TXN << 4) | (FORMAT_VERSION + 1);
    expect(hasRecordMagic(wrongVersion)).toBe(false);
    // The CRC made good again: a record of an unknown kind or version is still invalid, never read.
    for (const slot of [wrongVersion, wrongMagic]) {
      writeU32(slot, 0x6c, crc32(slot, 0, 0x6c));
      expect(classifySlot(slot, SECTOR, SLOT)).toBe("invalid");
    }
  });
});

describe("the approval group's limits (docs §5)", () => {
  /** A group whose check is right for `seq`, over the 9 bytes given (the document's formula). */
  function withCheck(seq: number, nine: Uint8Array): Uint8Array {
    const group = new Uint8Array(GROUP_BYTES);
    group.set(nine);
    const prefix = new Uint8Array(4);
    writeU32(prefix, 0, seq);
    const check = crc32(group, 0, 9, crc32(prefix)) >>> 8;
    group.set([check >>> 16, (check >>> 8) & 0xff, check & 0xff], 9);
    return group;
  }

  test("F38 of another length or alphabet and F37 not 12 digits are refused and named", () => {
    const out = new Uint8Array(GROUP_BYTES);
    for (const code of ["AB12C", "AB12CD7"])
      expect(inputError(() => encodeApproval(1, code, "123456789012", out))).toEqual({
        field: "authCode",
        message: "F38 must be 6 characters",
      });
    for (const code of ["ab12cd", "AB-2CD"]) {
      expect(inputError(() => encodeApproval(1, code, "123456789012", out))).toEqual({
        field: "authCode",
        message: "F38 characters must be space, 0-9 or A-Z",
      });
    }
    for (const rrn of ["12345678901", "1234567890123", "12345678901A"])
      expect(inputError(() => encodeApproval(1, "AB12CD", rrn, out))).toEqual({ field: "rrn", message: "F37 must be 12 digits" });
  });

  test("the largest F38 and F37 read back; a code or an RRN past them is unreadable even with a good check", () => {
    const group = new Uint8Array(GROUP_BYTES);
    encodeApproval(3, "ZZZZZZ", "999999999999", group);
    expect(decodeApproval(3, group)).toEqual({ state: "approved", authCode: "ZZZZZZ", rrn: "999999999999" });
    const code = new Uint8Array(9);
    writeU32(code, 0, 37 ** 6 - 1);
    expect(decodeApproval(3, withCheck(3, code))).toEqual({ state: "approved", authCode: "ZZZZZZ", rrn: "000000000000" });
    writeU32(code, 0, 37 ** 6);
    expect(decodeApproval(3, withCheck(3, code))).toEqual({ state: "unreadable" });
    // RRN 10^12 in the five little-endian bytes 4..8.
    const rrn = new Uint8Array(9);
    let value = 1000000000000;
    for (let i = 4; i < 9; i++) {
      rrn[i] = value % 256;
      value = Math.floor(value / 256);
    }
    expect(decodeApproval(3, withCheck(3, rrn))).toEqual({ state: "unreadable" });
  });
});
