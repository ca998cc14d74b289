/**
 * The two application slots a firmware update goes through (docs/update.md):
 * the running image in one, the next image written into the other, then
 * booted "pending verification" and either confirmed or rolled back. The
 * ESP32 binds this to its ota_0/ota_1 partitions and ESP-IDF's app rollback
 * (hosts/esp32/ota-slots.ts); the simulator and the Linux terminal to
 * file-backed slots with the same boot rules (modules/update/flash-slots.ts).
 */
export interface RunningImage {
  /** "major.minor.patch" of the image that runs now. */
  readonly version: string;
  /** This is the image's first boot after an activation: it must be confirmed or rolled back. */
  readonly pendingVerification: boolean;
}

export interface ImageSlots {
  /** Erase unit of the slots; the updater writes whole blocks (4096 on the ESP32). */
  readonly blockSize: number;
  /** Bytes the inactive slot can hold. */
  readonly slotBytes: number;
  readonly running: RunningImage;
  /**
   * The last activated image was abandoned: its first boot failed or never finished (the bootloader rolled back).
   * It stays true until forgetFailedTrial, so the next activation must forget it first.
   */
  readonly trialFailed: boolean;
  /** Erases block `index` of the inactive slot and programs `bytes[0, length)` at its start; reads it back. */
  writeBlock(index: number, bytes: Uint8Array, length: number): void;
  /** Fills `into` from the inactive slot at `offsetBytes`. */
  read(offsetBytes: number, into: Uint8Array): void;
  /** The inactive slot, holding a verified image of `version` and `sizeBytes`, boots next, pending verification. */
  activate(version: string, sizeBytes: number): void;
  /**
   * The abandoned trial was reported: trialFailed reads false from now on (durable), so a later activation cut
   * before it reached the slots is not taken for a failed trial of the new image.
   */
  forgetFailedTrial(): void;
  /** The running image (pending verification) is valid: no rollback at the next boot. */
  confirm(): void;
  /** The running image (pending verification) is invalid: the previous slot boots next. */
  rollback(): void;
}

/** One small durable record (the update's progress and anti-rollback floor): NVS on the ESP32, flash sectors elsewhere. */
export interface RecordStore {
  /** The last record saved, or undefined when none was. */
  load(): Uint8Array | undefined;
  /** Replaces the record; durable when it returns (a power cut during it leaves the old one or the new one). */
  save(record: Uint8Array): void;
}
