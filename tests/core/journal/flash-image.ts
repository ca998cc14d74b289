/**
 * Reading a journal test's whole emulated flash: which slots were written, whether anything changed, and what the
 * partition holds as lines a test can compare (read with the spec reader, docs/journal-format.md §2–§5).
 */
import type { NorFlash } from "../../../modules/emulators/nor-flash";
import { readJournalImage, type SpecRecord } from "./spec-reader";

const SLOT_BYTES = 128;

/** A copy of every byte of `flash`. */
export function flashImage(flash: NorFlash): Uint8Array {
  return new Uint8Array(flash.read(0, flash.byteLength));
}

/** Byte offsets of the slots holding anything but erased bytes, in flash order. */
export function writtenSlots(flash: NorFlash): number[] {
  const bytes = flashImage(flash);
  const out: number[] = [];
  for (let offset = 0; offset < bytes.length; offset += SLOT_BYTES)
    for (let i = offset; i < offset + SLOT_BYTES; i++)
      if (bytes[i] !== 0xff) {
        out.push(offset);
        break;
      }
  return out;
}

/** The offset of the first byte that differs from `before`, -1 when none does (a whole-image `toEqual` costs seconds per mutant under Stryker). */
export function firstChange(flash: NorFlash, before: Uint8Array): number {
  return flashImage(flash).findIndex((b, i) => b !== before[i]);
}

function recordLine(record: SpecRecord): string {
  if (record.kind === "settle") return `settle ${record.seq} batch ${record.batch}`;
  if (record.kind === "reversal")
    return `reversal ${record.seq} of ${record.target} ${record.reason} x${record.attempts}${record.failed ? " failed" : ""}`;
  const approval = typeof record.approval === "string" ? record.approval : `approved ${record.approval.authCode} ${record.approval.rrn}`;
  return `txn ${record.seq} stan ${record.stan}${record.closed ? " closed" : ""}${approval === "none" ? "" : ` ${approval}`}`;
}

/**
 * What the partition holds, a line per sector and per written slot: `S1 #2 floor 8 erase 1 sealed` for a valid
 * header (`S2 no header` when blank, `S2 dirty` otherwise), then `S1/3 txn 9 stan 000009 approved AB12CD 000000000009`,
 * `S1/4 reversal 10 of 9 98 x2 failed`, `S1/5 settle 11 batch 000001`, `S1/6 void` (first word zero) or
 * `S1/6 unreadable` for the slots of a valid sector.
 */
export function imageStory(flash: NorFlash): string[] {
  const bytes = flashImage(flash);
  const blockSize = flash.blockSize;
  const image = readJournalImage(bytes, blockSize);
  const lines: string[] = [];
  for (let s = 0; s < bytes.length / blockSize; s++) {
    const header = image.headers.find((h) => h.sector === s);
    const base = s * blockSize;
    if (header === undefined) {
      lines.push(`S${s} ${bytes.subarray(base, base + blockSize).every((b) => b === 0xff) ? "no header" : "dirty"}`);
      continue;
    }
    const marks = `${header.sealed ? " sealed" : ""}${header.retiring ? " retiring" : ""}`;
    lines.push(`S${s} #${header.sectorSeq} floor ${header.seqFloor} erase ${header.eraseCount}${marks}`);
    for (let slot = 1; slot < blockSize / SLOT_BYTES; slot++) {
      const at = base + slot * SLOT_BYTES;
      const record = image.records.find((r) => r.sector === s && r.slot === slot);
      if (record !== undefined) lines.push(`S${s}/${slot} ${recordLine(record)}`);
      else if (bytes[at] === 0 && bytes[at + 1] === 0 && bytes[at + 2] === 0 && bytes[at + 3] === 0) lines.push(`S${s}/${slot} void`);
      else if (bytes.subarray(at, at + SLOT_BYTES).some((b) => b !== 0xff)) lines.push(`S${s}/${slot} unreadable`);
    }
  }
  return lines;
}
