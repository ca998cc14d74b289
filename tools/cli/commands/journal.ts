/**
 * `xspos journal inspect FLASH.bin [--block-size B] [--key HEX]`: what a
 * journal partition image holds — sectors (sequence, erase count, markers),
 * every slot, the records with their states (PAN masked, and only with the
 * data-at-rest key), and the alarms recovery would raise. Read-only: at most
 * one partition's bytes are read (an endless file fails fast) and recovery runs
 * on an in-memory copy; the file is never written. A file that is not a journal
 * exits 2.
 *
 * The image is either a journal partition alone (tools/xspos torture) or a
 * terminal's whole partition as the simulator and the firmware lay it out:
 * the journal's S sectors, then the terminal state record's two
 * (hosts/esp32/terminal.ts), then in the simulator's var/flash.bin the update
 * room's sectors (tools/scenario/update-hardware.ts), which are not read.
 * Which one it is comes from the sector count the journal's own headers carry
 * (docs/journal-format.md §2).
 */
import fs from "node:fs";
import { sm4Gcm } from "../../../modules/crypto/aead";
import { SecretKey } from "../../../modules/crypto/keys";
import { fromHex, isHex } from "../../../modules/base/hex";
import { NorFlash } from "../../../modules/emulators/nor-flash";
import { JournalFormatError } from "../../../modules/journal/errors";
import { inspectImage } from "../../journal/inspect";
import { decodeHeader, SLOT_BYTES } from "../../../modules/journal/format";
import { updateSectors } from "../../scenario/update-hardware";
import { FlashStateStore } from "../../../modules/txn/flash-state";
import { integerOption, parseOptions, UsageError, type Command } from "../command";

/** Journal sectors (docs/journal-format.md §1) and the state record's sectors that may follow them. */
const JOURNAL_SECTORS_MIN = 3;
const JOURNAL_SECTORS_MAX = 64;
const STATE_SECTORS = 2;

/** Reads at most `bytesMax` bytes of `file`; one more byte present is an error, so /dev/zero or a huge file fails fast. */
function readBounded(file: string, bytesMax: number): Uint8Array {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    const buffer = new Uint8Array(bytesMax + 1);
    let filled = 0;
    while (filled < buffer.length) {
      const read = fs.readSync(fd, buffer, filled, buffer.length - filled, null);
      if (read === 0) break;
      filled += read;
    }
    if (filled > bytesMax) throw new UsageError(`${file} is larger than a journal partition (${bytesMax} bytes at most)`);
    return buffer.subarray(0, filled);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The journal's sector count, as its headers carry it (bytes 6-7 of every valid header): a terminal's
 * partition has the state record and the update room's sectors after it. An image with no valid header
 * (never formatted, or every header spoiled) is taken whole, up to the largest journal.
 */
function journalSectors(image: Uint8Array, blockSize: number): number {
  const sectors = image.length / blockSize;
  for (let s = 0; s < Math.min(sectors, JOURNAL_SECTORS_MAX); s++) {
    const header = image.subarray(s * blockSize, s * blockSize + SLOT_BYTES);
    const count = header[6] | (header[7] << 8);
    if (count < JOURNAL_SECTORS_MIN || count > Math.min(sectors, JOURNAL_SECTORS_MAX) || s >= count) continue;
    if (decodeHeader(header, s, count) !== undefined) return count;
  }
  if (sectors < JOURNAL_SECTORS_MIN || sectors > partitionSectorsMax(blockSize))
    throw new JournalFormatError(`image has ${sectors} sectors; a journal has ${JOURNAL_SECTORS_MIN} to ${JOURNAL_SECTORS_MAX}`);
  return Math.min(sectors, JOURNAL_SECTORS_MAX);
}

/** The largest terminal partition: the largest journal, the state record, the simulator's update sectors. */
function partitionSectorsMax(blockSize: number): number {
  return JOURNAL_SECTORS_MAX + STATE_SECTORS + updateSectors(blockSize);
}

export const command: Command = {
  summary: "inspect a reversal journal flash image: sectors, records (PAN masked), states, erase counts",
  usage: [
    "tools/xspos journal inspect FLASH.bin [--block-size 4096] [--key SM4_KEY_HEX]",
    "FLASH.bin: a journal partition, or the terminal's (journal sectors, the two of the state record, then in var/flash.bin the update room's)",
  ],
  run(args) {
    const [verb, ...rest] = args;
    if (verb !== "inspect")
      throw new UsageError(`unknown journal verb ${JSON.stringify(verb ?? "")}; try: tools/xspos journal inspect FLASH.bin`);
    const { values, positionals } = parseOptions(rest, { "block-size": { type: "string" }, key: { type: "string" } });
    if (positionals.length !== 1) throw new UsageError("journal inspect takes one FLASH.bin file");
    const blockSize = integerOption(values["block-size"], "block-size", 4096, 512, 65536);
    if (blockSize % SLOT_BYTES !== 0) throw new UsageError(`--block-size must be a multiple of ${SLOT_BYTES}`);
    if (values.key !== undefined && (!isHex(values.key) || values.key.length !== 32))
      throw new UsageError("--key must be 32 hex digits (an SM4 key)");
    const image = readBounded(positionals[0], partitionSectorsMax(blockSize) * blockSize);
    const cipher = values.key === undefined ? undefined : sm4Gcm(new SecretKey("sm4", fromHex(values.key)));
    try {
      if (image.length === 0 || image.length % blockSize !== 0)
        throw new JournalFormatError(`image of ${image.length} bytes is not a whole number of ${blockSize}-byte sectors`);
      const sectors = journalSectors(image, blockSize);
      const journalBytes = sectors * blockSize;
      const flash = new NorFlash({ sectorCount: sectors, blockSize, seed: 1, image: image.slice(0, journalBytes) });
      const report = inspectImage(flash, cipher);
      if (image.length >= journalBytes + STATE_SECTORS * blockSize) {
        // Recovery of the state record writes too: on its own in-memory copy.
        const stateBytes = image.slice(journalBytes, journalBytes + STATE_SECTORS * blockSize);
        const stateFlash = new NorFlash({ sectorCount: STATE_SECTORS, blockSize, seed: 1, image: stateBytes });
        report.terminalState = new FlashStateStore(stateFlash).load() ?? null;
      }
      console.log(JSON.stringify(report, null, 1));
      return 0;
    } catch (error) {
      if (error instanceof JournalFormatError) throw new UsageError(`${positionals[0]}: ${error.message}`);
      throw error;
    }
  },
};
