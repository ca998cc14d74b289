/**
 * docs/journal-format.md is the truth (issue 15 item 8): a reader written from
 * it alone (spec-reader.ts) decodes what the code wrote — headers, TXN,
 * REVERSAL and SETTLE records, markers, attempts, approvals, the sealed PAN
 * and the terminal state record — and the bytes of one partition are pinned.
 */
import { crc32 } from "../../../modules/base/crc32";
import { fromHex, toHex } from "../../../modules/base/hex";
import { NorFlash } from "../../../modules/emulators/nor-flash";
import { JournalFormatError, JournalInputError } from "../../../modules/journal/errors";
import { FORMAT_VERSION, NONCE_BYTES, PAYLOAD_OFFSET, writePanNonce } from "../../../modules/journal/format";
import { Journal } from "../../../modules/journal/journal";
import { decodeReversal, encodeReversal, REVERSAL_F55_BYTES_MAX } from "../../../modules/journal/record";
import { SeededRandom } from "../../../modules/platform/random";
import { chipSale, TEST_IDENTITY, TEST_PAN, testCipher } from "../../../tools/journal/fixtures";
import { GOLDEN_PARTITION } from "./golden-image";
import { GOLDEN_BLOCK_BYTES, GOLDEN_F55, GOLDEN_JOURNAL_SECTORS, writeGoldenPartition } from "./golden-writer";
import { readJournalImage, readStateRecord, type SpecReversal, type SpecTxn } from "./spec-reader";

function expand(packed: string): Uint8Array {
  return fromHex(packed.replace(/\*(\d+);/g, (_, n: string) => "FF".repeat(Number(n))));
}

const golden = expand(GOLDEN_PARTITION);
const journalBytes = GOLDEN_JOURNAL_SECTORS * GOLDEN_BLOCK_BYTES;
const cipher = testCipher();
const open = (nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array => cipher.open(nonce, sealed, aad);

describe("the golden partition", () => {
  test("the code writes exactly the pinned bytes (a format change must be a version change)", () => {
    expect(FORMAT_VERSION).toBe(1);
    expect(toHex(writeGoldenPartition())).toBe(toHex(golden));
  });

  test("the spec reader decodes the headers", () => {
    const { headers } = readJournalImage(golden.subarray(0, journalBytes), GOLDEN_BLOCK_BYTES, open);
    expect(headers.length).toBeGreaterThan(0);
    for (const h of headers) {
      expect(h).toMatchObject({ sectorCount: 4, terminalId: "10000159", merchantId: "898100012340003", ifdSerial: "SN000001" });
      expect(h.epoch).toBe(headers[0].epoch);
    }
  });

  test("the spec reader decodes every record as the code wrote it, the sealed PAN included", () => {
    const { records } = readJournalImage(golden.subarray(0, journalBytes), GOLDEN_BLOCK_BYTES, open);
    const txns = records.filter((r): r is SpecTxn => r.kind === "txn");
    expect(txns.map((t) => t.seq)).toEqual([1, 2, 4]);
    const sale = chipSale(1, 7, 500);
    expect(txns[0]).toEqual({
      kind: "txn",
      seq: 1,
      sector: txns[0].sector,
      slot: txns[0].slot,
      closed: false,
      domestic: true,
      mti: "0200",
      processingCode: "000000",
      amount: 500,
      stan: "000001",
      batch: "000007",
      timeSeconds: sale.timeSeconds,
      expiry: "2912",
      entryMode: "051",
      cardSequence: "001",
      conditionCode: "00",
      currency: "156",
      f60: sale.f60,
      pan: TEST_PAN,
      emv: { tvr: toHex(sale.emv!.tvr), atc: toHex(sale.emv!.atc), issuerApplicationData: toHex(sale.emv!.issuerApplicationData) },
      approval: { authCode: "AB 234", rrn: "123456789012" },
    });
    expect(txns[1]).toMatchObject({ seq: 2, f61: "000007000001", originalAuthCode: "XY9876", pan: TEST_PAN, approval: "none" });
    expect(txns[1].emv).toBeUndefined();
    expect(txns[1].cardSequence).toBeUndefined();
    expect(txns[2]).toMatchObject({
      seq: 4,
      mti: "0220",
      processingCode: "200000",
      amount: 99,
      domestic: false,
      closed: true,
      approval: "none",
    });
    expect(txns[2].pan).toBeUndefined();
    expect(txns[2].f61).toBeUndefined();
    const reversal = records.find((r): r is SpecReversal => r.kind === "reversal")!;
    expect(reversal).toMatchObject({
      seq: 3,
      target: 2,
      reason: "A0",
      attempts: 2,
      failed: true,
      authCode: "654321",
      f55: toHex(GOLDEN_F55),
    });
    expect(records.find((r) => r.kind === "settle")).toMatchObject({ seq: 5, batch: "000006" });
  });

  test("the code's own recovery agrees with the spec reader", () => {
    const flash = new NorFlash({
      sectorCount: GOLDEN_JOURNAL_SECTORS,
      blockSize: GOLDEN_BLOCK_BYTES,
      seed: 1,
      image: golden.slice(0, journalBytes),
    });
    const journal = Journal.open({ flash, cipher, random: new SeededRandom(1), identity: TEST_IDENTITY });
    expect(journal.approvedLog().map((a) => [a.seq, a.authCode, a.rrn])).toEqual([[1, "AB 234", "123456789012"]]);
    expect(journal.panOf(1)).toBe(TEST_PAN);
    const pending = journal.pendingReversals();
    expect(pending.map((p) => [p.seq, p.reason, p.attempts, p.failed, p.authCode, toHex(p.f55!)])).toEqual([
      [2, "A0", 2, true, "654321", toHex(GOLDEN_F55)],
    ]);
  });

  test("the spec reader decodes the state record that follows the journal", () => {
    expect(readStateRecord(golden.subarray(journalBytes))).toEqual({
      seq: 2,
      stanNext: 5,
      batch: "000007",
      signedOn: true,
      settlement: { batch: "000007", phase: "upload", next: 258 },
    });
  });

  test("without the key the PAN stays sealed; with another key it does not open", () => {
    const { records } = readJournalImage(golden.subarray(0, journalBytes), GOLDEN_BLOCK_BYTES);
    expect((records[0] as SpecTxn).pan).toBe("sealed");
    const wrongNonce = (nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array =>
      cipher.open(
        nonce.map((b, i) => (i === 0 ? b ^ 1 : b)),
        sealed,
        aad,
      );
    expect(() => readJournalImage(golden.subarray(0, journalBytes), GOLDEN_BLOCK_BYTES, wrongNonce)).toThrow();
  });
});

describe("one nonce, as the document says", () => {
  test("epoch big-endian, four zero bytes, seq little-endian", () => {
    expect(toHex(writePanNonce(0x01020304, 0x0a0b0c0d, new Uint8Array(NONCE_BYTES)))).toBe("01020304000000000D0C0B0A");
  });
});

describe("REVERSAL F55 up to 86 bytes, never cut", () => {
  const slot = (): Uint8Array => new Uint8Array(128).fill(0xff);

  test("86 bytes round-trip whole", () => {
    expect(REVERSAL_F55_BYTES_MAX).toBe(86);
    const s = slot();
    encodeReversal({ target: 9, reason: "98", attemptsBase: 0, f55: GOLDEN_F55 }, s);
    expect(decodeReversal(s).f55).toEqual(GOLDEN_F55);
  });

  test("87 bytes are refused at write; a stored length above 86 is refused at read", () => {
    expect(() => encodeReversal({ target: 9, reason: "98", attemptsBase: 0, f55: new Uint8Array(87) }, slot())).toThrow(JournalInputError);
    const s = slot();
    encodeReversal({ target: 9, reason: "98", attemptsBase: 0 }, s);
    s[PAYLOAD_OFFSET + 13] = 87;
    expect(() => decodeReversal(s)).toThrow(JournalFormatError);
  });
});

describe("two copies of one seq must agree", () => {
  test("a CRC-good copy with another payload is alarmed as damaged, never merged silently", () => {
    const image = golden.slice(0, journalBytes);
    const { headers, records } = readJournalImage(image, GOLDEN_BLOCK_BYTES);
    const original = records.find((r) => r.seq === 1)!;
    // A blank slot of a valid sector receives a forged copy of seq 1: same record, amount changed, CRC mended.
    const slotsPerSector = GOLDEN_BLOCK_BYTES / 128;
    const blankSlot = (sector: number): number => {
      for (let slot = 1; slot < slotsPerSector; slot++) if (image[sector * GOLDEN_BLOCK_BYTES + slot * 128] === 0xff) return slot;
      return -1;
    };
    const target = headers.find((h) => blankSlot(h.sector) > 0)!;
    const slot = blankSlot(target.sector);
    const from = original.sector * GOLDEN_BLOCK_BYTES + original.slot * 128;
    const to = target.sector * GOLDEN_BLOCK_BYTES + slot * 128;
    image.copyWithin(to, from, from + 128);
    image[to + 2] = target.sector;
    image[to + 3] = slot;
    image[to + PAYLOAD_OFFSET + 11] ^= 0x01;
    const crc = crc32(image, to, to + 0x6c);
    for (let i = 0; i < 4; i++) image[to + 0x6c + i] = (crc >>> (8 * i)) & 0xff;
    const flash = new NorFlash({ sectorCount: GOLDEN_JOURNAL_SECTORS, blockSize: GOLDEN_BLOCK_BYTES, seed: 1, image });
    const journal = Journal.open({ flash, cipher, random: new SeededRandom(1), identity: TEST_IDENTITY });
    expect(journal.alarms).toContainEqual(expect.objectContaining({ kind: "damaged", seq: 1 }));
  });
});

describe("the seq space", () => {
  test("a record at seq FFFFFFFF stops recovery with a typed error instead of wrapping seq (and the PAN nonce)", () => {
    const image = golden.slice(0, journalBytes);
    const { records } = readJournalImage(image, GOLDEN_BLOCK_BYTES);
    const settle = records.find((r) => r.kind === "settle")!;
    const at = settle.sector * GOLDEN_BLOCK_BYTES + settle.slot * 128;
    image.fill(0xff, at + 4, at + 8);
    const crc = crc32(image, at, at + 0x6c);
    for (let i = 0; i < 4; i++) image[at + 0x6c + i] = (crc >>> (8 * i)) & 0xff;
    const flash = new NorFlash({ sectorCount: GOLDEN_JOURNAL_SECTORS, blockSize: GOLDEN_BLOCK_BYTES, seed: 1, image });
    expect(() => Journal.open({ flash, cipher, random: new SeededRandom(1), identity: TEST_IDENTITY })).toThrow(JournalFormatError);
  });
});
