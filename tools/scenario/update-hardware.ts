/**
 * A simulated terminal's firmware-update hardware on its emulated chip, after the journal and the state
 * record (the scenario runner and chaos mount it alike): the update record (two sectors; NVS on the
 * board), then modules/update's A/B slots (their control record, slot 0, slot 1). Image writes go through
 * the same chip, so its armed power cuts tear them too. The terminal trusts the TEST key; its self-test
 * fails for a test image whose header says `behaviour=crashesOnBoot` (hosts/lin/test-image.ts).
 */
import { fromHex } from "../../modules/base/hex";
import type { P256Check } from "../../modules/crypto/p256";
import type { Flash } from "../../modules/platform/flash";
import type { TerminalUpdateOptions } from "../../modules/terminal/terminal";
import { FlashRegion } from "../../modules/txn/flash-region";
import { FIRMWARE_VERSION } from "../../modules/update/firmware-version";
import { FlashRecord } from "../../modules/update/flash-record";
import { FlashSlots } from "../../modules/update/flash-slots";
import { runningImageSelfTest } from "../../hosts/lin/test-image";
import { TMS_TEST_PUBLIC_KEY_HEX } from "../host/tms";

/** Each application slot; test images are 4 KiB unless a publication says otherwise. */
export const SIMULATED_SLOT_BYTES = 16 * 1024;
const RECORD_SECTORS = 2;
const SLOT_CONTROL_SECTORS = 2;

/** Sectors of `blockSize` bytes the update part takes. */
export function updateSectors(blockSize: number): number {
  return RECORD_SECTORS + SLOT_CONTROL_SECTORS + 2 * Math.ceil(SIMULATED_SLOT_BYTES / blockSize);
}

/**
 * One power-on's update hardware on `flash` from `firstSector`: the bootloader chooses the slot that runs
 * (it may write its control record, so an armed cut may fire here), then what the terminal's `update`
 * option takes; `verifySignature`, the terminal's signature check (default the core's).
 */
export function simulatedUpdate(
  flash: Flash,
  firstSector: number,
  restart: () => void,
  verifySignature?: P256Check,
): TerminalUpdateOptions {
  const sectors = updateSectors(flash.blockSize);
  const slots = new FlashSlots({
    flash: new FlashRegion(flash, firstSector + RECORD_SECTORS, sectors - RECORD_SECTORS),
    factoryVersion: FIRMWARE_VERSION,
  });
  slots.powerOn();
  return {
    slots,
    store: new FlashRecord(new FlashRegion(flash, firstSector, RECORD_SECTORS)),
    publicKey: fromHex(TMS_TEST_PUBLIC_KEY_HEX),
    verifySignature,
    restart,
    selfTest: () => runningImageSelfTest(slots),
  };
}
