/**
 * The one error of the TMS channel: an answer that is not what docs/tms.md says, or no answer. It names
 * why as data (`reason`) so the terminal can log it and the update room can decide to retry or give up;
 * its message never carries payload bytes.
 */
export type TmsFailure =
  /** No answer: not connected, no answer by the deadline, the connection lost (retry later). */
  | "unreachable"
  /** The terminal is not signed on: TMS requests are MAC'd under the working keys. */
  | "notSignedOn"
  /** The 0810's MAC is missing or wrong. */
  | "badMac"
  /** The host answered with a response code other than 00 (approved) or 25 (nothing published). */
  | "declined"
  /** F62 of the answer is missing, of the wrong length or does not decode. */
  | "malformed"
  /** The answer does not belong to the request (the chunk's offset, a manifest other than the one asked for). */
  | "mismatch"
  /** A chunk asked before a manifest, or outside the manifest's image. */
  | "badRequest"
  /** The image the chunks were asked for is no longer published (25 to a chunk request). */
  | "imageWithdrawn";

export class TmsError extends Error {
  override readonly name = "TmsError";
  constructor(
    readonly reason: TmsFailure,
    detail: string,
  ) {
    super(`tms: ${reason}: ${detail}`);
  }
}
