/**
 * Where a firmware image comes from: the terminal management system (TMS) over the host link
 * (docs/tms.md). The update room (modules/update) codes against this interface only, so it can be
 * fed by the TMS client on the terminal or by a file / in-memory source in tests.
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

export interface ImageSource {
  /** The published image's manifest, or undefined when none is published. Rejects with a TmsError (modules/tms/wire.ts). */
  manifest(): Promise<ImageManifest | undefined>;
  /**
   * `lengthBytes` (1..MAX_IMAGE_CHUNK_BYTES) bytes of the image from `offsetBytes`; fewer only at the image's end.
   * Resume after a power cut is asking again from the first offset not yet written. Rejects with a TmsError; a chunk
   * asked before manifest() is a TmsError too (the chunk request names the manifest's version).
   */
  chunk(offsetBytes: number, lengthBytes: number): Promise<Uint8Array>;
}
