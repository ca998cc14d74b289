/**
 * The simulator's firmware slots in one file (var/update.bin by default): the
 * update record (2 sectors), then modules/update's file-backed A/B slots
 * (control record, slot 0, slot 1) with the ESP-IDF bootloader's rules. The
 * simulated image is bytes, not code: the version that "runs" is the one the
 * control record says its slot holds, and slot 0 holds the build's
 * FIRMWARE_VERSION until the first update.
 */
import { FlashRegion } from "../../modules/txn/flash-region";
import type { TerminalUpdateOptions } from "../../modules/terminal/terminal";
import { FlashRecord } from "../../modules/update/flash-record";
import { FlashSlots } from "../../modules/update/flash-slots";
import { FIRMWARE_VERSION } from "../../modules/update/firmware-version";
import { FileFlash } from "./file-flash";

const SECTOR_BYTES = 4096;
const RECORD_SECTORS = 2;
const CONTROL_SECTORS = 2;
/** Simulated images are small; 512 KiB a slot keeps the file near 1 MiB. */
export const SIM_SLOT_BYTES_DEFAULT = 512 * 1024;

export interface FileUpdateOptions {
  readonly path: string;
  readonly slotBytes?: number;
  readonly factoryVersion?: string;
}

export class FileUpdateHardware {
  readonly #flash: FileFlash;
  readonly #factoryVersion: string;

  constructor(options: FileUpdateOptions) {
    const slotSectors = Math.ceil((options.slotBytes ?? SIM_SLOT_BYTES_DEFAULT) / SECTOR_BYTES);
    this.#flash = new FileFlash({
      path: options.path,
      blockSize: SECTOR_BYTES,
      byteLength: (RECORD_SECTORS + CONTROL_SECTORS + 2 * slotSectors) * SECTOR_BYTES,
    });
    this.#factoryVersion = options.factoryVersion ?? FIRMWARE_VERSION;
  }

  /** One power-on: the bootloader's choice of slot, then what the terminal's `update` option takes (add key and restart). */
  powerOn(): Pick<TerminalUpdateOptions, "slots" | "store"> {
    const flash = this.#flash;
    const slots = new FlashSlots({
      flash: new FlashRegion(flash, RECORD_SECTORS, flash.byteLength / flash.blockSize - RECORD_SECTORS),
      factoryVersion: this.#factoryVersion,
    });
    slots.powerOn();
    return { slots, store: new FlashRecord(new FlashRegion(flash, 0, RECORD_SECTORS)) };
  }

  close(): void {
    this.#flash.close();
  }
}
