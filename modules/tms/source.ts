/**
 * Where a firmware image comes from: the terminal management system (TMS) over the host link
 * (docs/tms.md). The update room (modules/update) codes against ImageFeed only, so it can be fed by
 * the TMS client on the terminal or by an in-memory source in tests.
 */

/**
 * The largest chunk one request may ask for: the answer carries it in F62 (CUP b...512, LLLVAR) after
 * the 4-byte offset it answers (docs/tms.md).
 */
export const MAX_IMAGE_CHUNK_BYTES = 508;
/** The largest image the TMS may announce (2 MiB); a slot may be smaller, the update room checks its own. */
export const MAX_IMAGE_BYTES = 2 * 1024 * 1024;

/** What the TMS says about the published image; the signature covers the manifest's canonical bytes (docs/tms.md). */
export interface ImageManifest {
  /** Semantic version "major.minor.patch", each part 0..65535. */
  version: string;
  /** The image's length; 1..MAX_IMAGE_BYTES. */
  sizeBytes: number;
  /** SHA-256 of the whole image, 32 bytes. */
  sha256: Uint8Array;
  /** ECDSA P-256 over SHA-256 of the manifest's canonical bytes, raw r||s, 64 bytes. */
  signature: Uint8Array;
}

/**
 * Where the updater takes an image from (docs/update.md): callbacks, each answered once with the value or an
 * Error, at once or later. Callbacks and not promises, because the scenario runner and chaos drive the
 * terminal synchronously on a virtual clock, where a promise continuation would only run after the whole run.
 * The terminal's TmsClient is one; its errors are TmsErrors (modules/tms/errors.ts).
 */
export interface ImageFeed {
  /** The published manifest; undefined: nothing published. */
  requestManifest(done: (result: ImageManifest | undefined | Error) => void): void;
  /**
   * `lengthBytes` (1..MAX_IMAGE_CHUNK_BYTES) bytes of the last manifest's image from `offsetBytes`; fewer only
   * at the image's end. Resume after a power cut is asking again from the first offset not yet written.
   */
  requestChunk(offsetBytes: number, lengthBytes: number, done: (result: Uint8Array | Error) => void): void;
}
