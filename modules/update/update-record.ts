/**
 * The update's durable record (one RecordStore: NVS on the ESP32, two flash
 * sectors elsewhere): where the update stands, the manifest it is about, how
 * many blocks of the image are in the inactive slot, and the anti-rollback
 * floor — the highest version ever confirmed on this terminal, which only rises.
 *
 * Layout (119 bytes): layout 1 ‖ state ‖ reason (FF none) ‖ passes ‖ flags (1 manifest, 2 reported) ‖
 * floor u48 ‖ blocksWritten u16 ‖ version u48 ‖ sizeBytes u32 ‖ sha256 (32) ‖ signature (64); big-endian.
 */
import type { ImageManifest } from "../tms/source";
import { readU48, versionCode, versionText, writeU48 } from "./manifest";
import type { UpdateState } from "./update-machine";

/** Why an update was refused, waits, or rolled back (the `reason` of update events). */
export type UpdateReason =
  /** The manifest's signature does not verify under the provisioned key. */
  | "badSignature"
  /** The manifest cannot be read (version text, size, field lengths). */
  | "malformed"
  /** Its version is lower than the running one or the anti-rollback floor. */
  | "older"
  /** The image does not fit the inactive slot. */
  | "tooLarge"
  /** The image written into the slot does not have the manifest's SHA-256. */
  | "digestMismatch"
  /** A reversal is owed or 冲正失败 is open: activation waits. */
  | "reversalPending"
  /** The download stopped short; the next check resumes it. */
  | "interrupted"
  /** The new image's first boot: the journal did not recover. */
  | "journalRecovery"
  /** The journal on flash has a newer format than this image knows. */
  | "journalFormat"
  /** The self-test failed. */
  | "selfTest"
  /** No sign-on succeeded. */
  | "signOn"
  /** The new image never confirmed itself (it crashed, or power was cut during its first boot). */
  | "bootFailed";

const STATES: readonly UpdateState[] = Object.freeze([
  "available",
  "downloading",
  "verified",
  "rejected",
  "waiting",
  "activated",
  "confirmed",
  "rolledBack",
]);

const REASONS: readonly UpdateReason[] = Object.freeze([
  "badSignature",
  "malformed",
  "older",
  "tooLarge",
  "digestMismatch",
  "reversalPending",
  "interrupted",
  "journalRecovery",
  "journalFormat",
  "selfTest",
  "signOn",
  "bootFailed",
]);

export interface UpdateRecord {
  readonly state: UpdateState;
  readonly manifest: ImageManifest | undefined;
  /** Whole blocks of the image already in the inactive slot (the download resumes after them). */
  readonly blocksWritten: number;
  /** Download passes begun for this manifest (a digest mismatch allows one more). */
  readonly passes: number;
  readonly reason: UpdateReason | undefined;
  /** The outcome (rolledBack) was reported on a running image. */
  readonly reported: boolean;
  /** Anti-rollback floor: version code of the highest image confirmed here; never lowered. */
  readonly floorCode: number;
}

const LAYOUT = 1;
export const UPDATE_RECORD_BYTES = 119;
const FLAG_MANIFEST = 1;
const FLAG_REPORTED = 2;

export function encodeUpdateRecord(record: UpdateRecord): Uint8Array {
  const out = new Uint8Array(UPDATE_RECORD_BYTES);
  out[0] = LAYOUT;
  out[1] = STATES.indexOf(record.state);
  out[2] = record.reason === undefined ? 0xff : REASONS.indexOf(record.reason);
  out[3] = record.passes;
  out[4] = (record.manifest !== undefined ? FLAG_MANIFEST : 0) | (record.reported ? FLAG_REPORTED : 0);
  writeU48(out, 5, record.floorCode);
  out[11] = record.blocksWritten >>> 8;
  out[12] = record.blocksWritten & 0xff;
  const m = record.manifest;
  if (m !== undefined) {
    writeU48(out, 13, versionCode(m.version));
    out[19] = m.sizeBytes >>> 24;
    out[20] = (m.sizeBytes >>> 16) & 0xff;
    out[21] = (m.sizeBytes >>> 8) & 0xff;
    out[22] = m.sizeBytes & 0xff;
    out.set(m.sha256, 23);
    out.set(m.signature, 55);
  }
  return out;
}

/** The record, or undefined when the bytes are not a record of this layout (an older firmware's, or none). */
export function decodeUpdateRecord(bytes: Uint8Array | undefined): UpdateRecord | undefined {
  if (bytes === undefined || bytes.length !== UPDATE_RECORD_BYTES || bytes[0] !== LAYOUT) return undefined;
  const state = STATES[bytes[1]];
  const reason = bytes[2] === 0xff ? undefined : REASONS[bytes[2]];
  if (state === undefined || (bytes[2] !== 0xff && reason === undefined)) return undefined;
  const manifest: ImageManifest | undefined =
    (bytes[4] & FLAG_MANIFEST) === 0
      ? undefined
      : {
          version: versionText(readU48(bytes, 13)),
          sizeBytes: ((bytes[19] << 24) | (bytes[20] << 16) | (bytes[21] << 8) | bytes[22]) >>> 0,
          sha256: bytes.slice(23, 55),
          signature: bytes.slice(55, 119),
        };
  return {
    state,
    manifest,
    blocksWritten: (bytes[11] << 8) | bytes[12],
    passes: bytes[3],
    reason,
    reported: (bytes[4] & FLAG_REPORTED) !== 0,
    floorCode: readU48(bytes, 5),
  };
}
