/**
 * The journal format version rule across updates (docs/update.md): an image
 * reads every older journal format, and an image that meets a newer one than
 * it knows must not run the journal — its recovery would take the unknown
 * headers for dirty sectors and erase reversals. This looks before the
 * journal opens: a sector header whose magic and CRC are good but whose format
 * version (byte 0x04, docs/journal-format.md §2) is above this image's is a
 * newer journal. The magic, the version byte and the CRC at 0x38 keep their
 * places in every format version; that is the promise this check rests on.
 */
import { crc32 } from "../base/crc32";
import { FORMAT_VERSION, HEADER_CRC_OFFSET, HEADER_MAGIC, readU32 } from "../journal/format";
import type { Flash } from "../platform/flash";

const HEADER_READ_BYTES = HEADER_CRC_OFFSET + 4;
const VERSION_OFFSET = 4;

/** The newest format version a valid sector header among the first `sectors` claims, or undefined when none is valid. */
export function newestJournalFormat(flash: Flash, sectors: number): number | undefined {
  let newest: number | undefined;
  for (let sector = 0; sector < sectors; sector++) {
    const header = new Uint8Array(flash.read(sector * flash.blockSize, HEADER_READ_BYTES));
    if (readU32(header, 0) !== HEADER_MAGIC || readU32(header, HEADER_CRC_OFFSET) !== crc32(header, 0, HEADER_CRC_OFFSET)) continue;
    const version = header[VERSION_OFFSET];
    if (newest === undefined || version > newest) newest = version;
  }
  return newest;
}

/** The journal on `flash` was written by a newer firmware than this one: do not open it. */
export function journalFormatIsNewer(flash: Flash, sectors: number): boolean {
  return (newestJournalFormat(flash, sectors) ?? 0) > FORMAT_VERSION;
}

/** The journal on flash is of a newer format than this image knows: it is not opened (docs/update.md). */
export class JournalTooNewError extends Error {
  override readonly name = "JournalTooNewError";
}
