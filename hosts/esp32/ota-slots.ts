/**
 * The update's slots on the ESP32 (modules/platform ImageSlots): ota_0/ota_1
 * of partitions.csv under ESP-IDF's app rollback. The image is written
 * through the flash module's "nextota" partition one 4 KiB block at a time
 * (erase, program, read back), so the download resumes at the block after a
 * power cut; ECMA-419 `embedded:update` (Moddable modules/io/update) is not
 * used for the bytes because its open (esp_ota_begin) erases the slot again,
 * which would lose every block already written. The OTA state (boot slot,
 * PENDING_VERIFY, rollback) goes through ota-slots.c. The update's record
 * and the release key live in NVS (update-store.ts).
 */
import { assertInteger } from "../../modules/base/assert";
import type { ImageSlots, RunningImage } from "../../modules/platform/image-slots";
import { FIRMWARE_VERSION } from "../../modules/update/firmware-version";
import { programBlock } from "../../modules/update/flash-slots";
import { FlashPartition } from "./flash-partition";

/** The flash module's name for esp_ota_get_next_update_partition(). */
const NEXT_SLOT = "nextota";

export class EspOtaSlots implements ImageSlots {
  readonly blockSize: number;
  readonly slotBytes: number;
  /** The code that runs is the image: its version is the one it was built with. */
  readonly running: RunningImage;
  readonly #slot: FlashPartition;

  constructor() {
    this.#slot = new FlashPartition(NEXT_SLOT);
    this.blockSize = this.#slot.blockSize;
    this.slotBytes = this.#slot.byteLength;
    this.running = Object.freeze({
      version: FIRMWARE_VERSION,
      pendingVerification: native("xs_xspos_ota_pending").call(undefined) === true,
    });
  }

  get trialFailed(): boolean {
    return native("xs_xspos_ota_trial_failed").call(undefined) === true;
  }

  writeBlock(index: number, bytes: Uint8Array, length: number): void {
    assertInteger(index, 0, this.slotBytes / this.blockSize - 1, "slot block");
    programBlock(this.#slot, index, bytes, length);
  }

  read(offsetBytes: number, into: Uint8Array): void {
    into.set(new Uint8Array(this.#slot.read(offsetBytes, into.length)));
  }

  activate(_version: string, _sizeBytes: number): void {
    native("xs_xspos_ota_activate").call(undefined);
  }

  forgetFailedTrial(): void {
    native("xs_xspos_ota_forget_failed_trial").call(undefined);
  }

  confirm(): void {
    native("xs_xspos_ota_confirm").call(undefined);
  }

  /** Reboots into the previous slot: it does not return. */
  rollback(): void {
    native("xs_xspos_ota_rollback").call(undefined);
  }
}

/** esp_restart(): the terminal boots again, into the slot that boots next. */
export function restartDevice(): void {
  native("xs_xspos_restart").call(undefined);
}
