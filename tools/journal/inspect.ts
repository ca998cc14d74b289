/**
 * The report behind `xspos journal inspect`: a raw walk of every sector and
 * slot plus the recovered view (recovery runs on the given flash, which should
 * be a copy). PANs are shown masked, and only when a cipher is given.
 */
import { JournalFormatError } from "../../modules/journal/errors";
import {
  classifySlot,
  decodeApproval,
  decodeHeader,
  GROUP_OFFSET,
  GROUP_BYTES,
  markerSet,
  readU32,
  RETIRING_OFFSET,
  SEALED_OFFSET,
  SLOT_BYTES,
  slotKind,
  WORD_A_OFFSET,
} from "../../modules/journal/format";
import { Journal } from "../../modules/journal/journal";
import type { PanCipher } from "../../modules/journal/record";
import { maskPan } from "../../modules/platform/log";
import type { NorFlash } from "../../modules/emulators/nor-flash";
import { SeededRandom } from "../../modules/platform/random";

const KIND_NAMES = ["", "txn", "reversal", "settle"];

/** A cipher for images read without the key: sealing is never needed, opening is refused. */
const NO_KEY: PanCipher = {
  seal: () => {
    throw new JournalFormatError("inspect never writes records");
  },
  open: () => {
    throw new JournalFormatError("no key");
  },
};

export function inspectImage(flash: NorFlash, cipher: PanCipher | undefined): Record<string, unknown> {
  const image = flash.exportImage();
  const blockSize = flash.blockSize;
  const sectors = [];
  let identity = undefined;
  for (let s = 0; s < flash.sectorCount; s++) {
    const base = s * blockSize;
    const head = image.subarray(base, base + SLOT_BYTES);
    const header = decodeHeader(head, s, flash.sectorCount);
    const slots = [];
    if (header !== undefined) {
      identity ??= header.identity;
      for (let k = 1; k < blockSize / SLOT_BYTES; k++) {
        const bytes = image.subarray(base + k * SLOT_BYTES, base + (k + 1) * SLOT_BYTES);
        const cls = classifySlot(bytes, s, k);
        if (cls === "blank") continue;
        const kind = KIND_NAMES[slotKind(bytes)] ?? "?";
        const seq = readU32(bytes, 4);
        const group = bytes.subarray(GROUP_OFFSET, GROUP_OFFSET + GROUP_BYTES);
        slots.push({
          slot: k,
          class: cls,
          ...(cls === "record" || cls === "misplaced" ? { kind, seq, wordA: markerSet(bytes, WORD_A_OFFSET) } : {}),
          ...(cls === "record" && kind === "txn" ? { approval: decodeApproval(seq, group).state } : {}),
        });
      }
    }
    sectors.push({
      sector: s,
      valid: header !== undefined,
      ...(header !== undefined
        ? {
            sectorSeq: header.sectorSeq,
            seqFloor: header.seqFloor,
            eraseCount: header.eraseCount,
            sealed: markerSet(head, SEALED_OFFSET),
            retiring: markerSet(head, RETIRING_OFFSET),
          }
        : { blank: image.subarray(base, base + blockSize).every((b) => b === 0xff) }),
      slots,
    });
  }
  if (identity === undefined && !image.every((b) => b === 0xff))
    throw new JournalFormatError("no valid journal sector header in the image");
  const journal = Journal.open({
    flash,
    cipher: cipher ?? NO_KEY,
    random: new SeededRandom(1),
    identity: identity ?? { terminalId: "00000000", merchantId: "000000000000000", ifdSerial: "00000000" },
  });
  const pan = (seq: number, hasPan: boolean): string => {
    if (!hasPan) return "none";
    if (cipher === undefined) return "sealed";
    try {
      return maskPan(journal.panOf(seq) ?? "");
    } catch {
      return "unreadable";
    }
  };
  return {
    blockSize,
    sectors,
    identity: identity ?? null,
    reversalDue: journal.pendingReversals().map((p) => ({
      seq: p.seq,
      stan: p.txn.stan,
      mti: p.txn.mti,
      amount: p.txn.amount,
      reason: p.reason,
      attempts: p.attempts,
      failed: p.failed,
      pan: pan(p.seq, p.txn.hasPan),
    })),
    approved: journal.approvedLog().map((a) => ({
      seq: a.seq,
      stan: a.txn.stan,
      batch: a.txn.batch,
      amount: a.txn.amount,
      authCode: a.authCode,
      rrn: a.rrn,
      pan: pan(a.seq, a.txn.hasPan),
    })),
    alarms: journal.alarms,
    counts: journal.counts(),
  };
}
