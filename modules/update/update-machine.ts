/**
 * A firmware update's life as data (docs/update.md): its states and the events
 * that move it, one frozen table, like the reversal machine. The updater moves
 * every update through `nextUpdateState`, so a transition the table does not
 * name is a bug (an assertion); the table in docs/update.md is checked against
 * this one by a test.
 *
 * Durable: downloading (with the sectors written), verified, waiting,
 * activated, and the outcome of the last update. A power cut in any state comes
 * back as `boot`, which resumes where the durable record says.
 */
import { nextState, transition, type Transition } from "../base/transitions";

export type UpdateState =
  /** A manifest newer than the running image was announced. */
  | "available"
  /** Its signature and version passed: the image is being written into the inactive slot. */
  | "downloading"
  /** The whole image is in the slot and its SHA-256 is the manifest's. */
  | "verified"
  /** Refused: bad signature, older version, too large, digest mismatch. The running image is unchanged. */
  | "rejected"
  /** Verified, but a reversal is owed or 冲正失败 is open: activation waits for a clean journal. */
  | "waiting"
  /** The inactive slot boots next, pending verification. */
  | "activated"
  /** The new image's first boot passed journal recovery, the self-test and a sign-on: it is valid. */
  | "confirmed"
  /** The new image failed its first boot (or never reached it): the previous slot runs again. */
  | "rolledBack";

export type UpdateEvent =
  /** The manifest's signature, version and size are acceptable. */
  | "accept"
  /** The manifest is not. */
  | "refuse"
  /** Power came back: resume from the durable record. */
  | "boot"
  /** The download stopped short (link lost, the source failed): the next check resumes it. */
  | "interrupted"
  /** The last byte is in the slot and the slot's digest matches. */
  | "digestMatch"
  /** The slot's digest does not match (after the allowed re-downloads). */
  | "digestMismatch"
  /** A reversal is owed or 冲正失败 open. */
  | "journalBusy"
  /** No reversal owed, none 冲正失败 (and no operation under way). */
  | "journalClean"
  /** The new image passed recovery, self-test and sign-on. */
  | "bootPassed"
  /** The new image failed them, met a newer journal format, or crashed before it could tell. */
  | "bootFailed";

export type UpdateTransition = Transition<UpdateState, UpdateEvent>;

const t = (from: UpdateState, on: UpdateEvent, to: UpdateState): UpdateTransition => transition(from, on, to);

export const UPDATE_TRANSITIONS: readonly UpdateTransition[] = Object.freeze([
  t("available", "accept", "downloading"),
  t("available", "refuse", "rejected"),
  t("downloading", "boot", "downloading"),
  t("downloading", "interrupted", "downloading"),
  t("downloading", "digestMatch", "verified"),
  t("downloading", "digestMismatch", "rejected"),
  t("verified", "journalBusy", "waiting"),
  t("verified", "journalClean", "activated"),
  t("verified", "boot", "verified"),
  t("waiting", "journalClean", "activated"),
  t("waiting", "boot", "waiting"),
  t("activated", "boot", "activated"),
  t("activated", "bootPassed", "confirmed"),
  t("activated", "bootFailed", "rolledBack"),
]);

/** The state `event` moves `from` to; a pair the table does not name is a bug. */
export function nextUpdateState(from: UpdateState, event: UpdateEvent): UpdateState {
  return nextState(UPDATE_TRANSITIONS, "update", from, event);
}

/** States in which the update is over: the next announcement starts a new one. */
export const UPDATE_FINAL_STATES: readonly UpdateState[] = Object.freeze(["rejected", "confirmed", "rolledBack"]);
