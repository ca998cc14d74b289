/** The journal format rule across updates: a newer format's header is seen before the journal opens. */
import { crc32 } from "../../../modules/base/crc32";
import { NorFlash } from "../../../modules/emulators/nor-flash";
import { encodeHeader, FORMAT_VERSION, HEADER_CRC_OFFSET, SLOT_BYTES, writeU32 } from "../../../modules/journal/format";
import { journalFormatIsNewer, newestJournalFormat } from "../../../modules/update/journal-format";

const identity = { terminalId: "10000159", merchantId: "898100012340003", ifdSerial: "XSPOS001" };

function header(sector: number, version: number, goodCrc = true): Uint8Array {
  const slot = new Uint8Array(SLOT_BYTES);
  encodeHeader({ sectorIndex: sector, sectorCount: 4, sectorSeq: 1, seqFloor: 0, eraseCount: 0, epoch: 7, identity }, slot);
  slot[4] = version;
  writeU32(slot, HEADER_CRC_OFFSET, crc32(slot, 0, HEADER_CRC_OFFSET) ^ (goodCrc ? 0 : 1));
  return slot;
}

test("blank flash has no format; this image's headers are not newer", () => {
  const flash = new NorFlash({ sectorCount: 4, blockSize: 1024, seed: 1 });
  expect(newestJournalFormat(flash, 4)).toBeUndefined();
  expect(journalFormatIsNewer(flash, 4)).toBe(false);
  flash.write(0, SLOT_BYTES, header(0, FORMAT_VERSION));
  expect(newestJournalFormat(flash, 4)).toBe(FORMAT_VERSION);
  expect(journalFormatIsNewer(flash, 4)).toBe(false);
});

test("one valid header of a newer format among older ones makes the journal newer; a header with a bad CRC does not count", () => {
  const flash = new NorFlash({ sectorCount: 4, blockSize: 1024, seed: 1 });
  flash.write(0, SLOT_BYTES, header(0, FORMAT_VERSION));
  flash.write(1024, SLOT_BYTES, header(1, FORMAT_VERSION + 1, false));
  expect(journalFormatIsNewer(flash, 4)).toBe(false);
  flash.write(2048, SLOT_BYTES, header(2, FORMAT_VERSION + 1));
  expect(newestJournalFormat(flash, 4)).toBe(FORMAT_VERSION + 1);
  expect(journalFormatIsNewer(flash, 4)).toBe(true);
  // Only the sectors the journal owns are looked at.
  expect(journalFormatIsNewer(flash, 2)).toBe(false);
});
