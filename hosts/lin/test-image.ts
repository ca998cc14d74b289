/**
 * What a simulated image does at boot. In file-backed slots (the Linux terminal; the Node terminals of the
 * scenario runner, chaos and the simulator page) an image is bytes, not code: its behaviour is its header,
 * as tools/host/tms.ts `testImage` writes it (`XSPOS-TEST-IMAGE`, `version=…`, `behaviour=good|crashesOnBoot`,
 * one per line). A `crashesOnBoot` image fails the host's part of the self-test on its trial boot and is
 * rolled back, as an image that crashed at boot would be on the board. Pure, so Node and XS read it alike.
 */
import type { FlashSlots } from "../../modules/update/flash-slots";

/** Bytes of a test image that hold its whole header (three short lines). */
export const TEST_IMAGE_HEADER_BYTES_MAX = 64;
const MAGIC_LINE = "XSPOS-TEST-IMAGE";
const CRASHES_LINE = "behaviour=crashesOnBoot";

/** From the first bytes of the slot an image boots from: true for a test image whose header says it crashes. */
export function testImageCrashesOnBoot(head: Uint8Array): boolean {
  let text = "";
  for (let i = 0; i < Math.min(head.length, TEST_IMAGE_HEADER_BYTES_MAX); i++) text += String.fromCharCode(head[i]);
  const lines = text.split("\n");
  return lines[0] === MAGIC_LINE && lines.slice(1, 3).includes(CRASHES_LINE);
}

/** The host's self-test of the image `slots` runs (TerminalUpdateOptions.selfTest): false when it is one that crashes. */
export function runningImageSelfTest(slots: FlashSlots): boolean {
  const head = new Uint8Array(TEST_IMAGE_HEADER_BYTES_MAX);
  slots.readRunning(0, head);
  return !testImageCrashesOnBoot(head);
}
