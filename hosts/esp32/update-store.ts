/**
 * What a firmware update keeps in NVS (namespace `xspos-update`), on the ESP32
 * and on the Linux terminal (its NVS directory): the update's record, and the
 * release key's public half written at manufacture (docs/update.md "Signing
 * and key provisioning"). No native code: both builds link it.
 */
import type { RecordStore } from "../../modules/platform/image-slots";
import { NvsBlobStore } from "./preferences";

export const UPDATE_DOMAIN = "xspos-update";
export const RELEASE_KEY_NAME = "releaseKey";
const RECORD_NAME = "record";
const RECORD_BYTES_MAX = 256;
const RELEASE_KEY_BYTES = 65;

/** The update's record as one NVS blob (NVS writes a new entry before it retires the old one: a cut leaves either). */
export class NvsRecordStore implements RecordStore {
  readonly #blobs = new NvsBlobStore(UPDATE_DOMAIN, RECORD_BYTES_MAX);

  load(): Uint8Array | undefined {
    return this.#blobs.get(RECORD_NAME);
  }

  save(record: Uint8Array): void {
    this.#blobs.set(RECORD_NAME, record);
  }
}

/** The provisioned release key, or undefined when this terminal was not provisioned for updates. */
export function provisionedReleaseKey(): Uint8Array | undefined {
  const key = new NvsBlobStore(UPDATE_DOMAIN, RECORD_BYTES_MAX).get(RELEASE_KEY_NAME);
  return key?.length === RELEASE_KEY_BYTES && key[0] === 0x04 ? key : undefined;
}
