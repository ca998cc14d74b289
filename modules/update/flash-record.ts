/**
 * A RecordStore over two flash sectors (the simulator's and the Linux
 * terminal's update record and slot control record; NVS does this job on the
 * ESP32). Each save erases the sector that does not hold the newest record and
 * programs the new one there with a higher sequence number and a CRC-32, then
 * reads it back: a power cut at any flash operation leaves the previous record
 * intact in the other sector, so load returns the old record or the new one,
 * never a mix.
 *
 * Sector layout: magic "XUR1" ‖ seq u32 ‖ length u16 ‖ 00 00 ‖ record ‖ CRC-32 of all before it.
 */
import { assert, assertInteger } from "../base/assert";
import { bytesEqual } from "../base/hex";
import { crc32 } from "../base/crc32";
import { readU32, writeU32 } from "../journal/format";
import { FlashIoError, type Flash } from "../platform/flash";
import type { RecordStore } from "../platform/image-slots";

const MAGIC = 0x31525558; // "XUR1"
const HEADER_BYTES = 12;
const CRC_BYTES = 4;
/** Records are small (the update record is 122 bytes); one program of at most this many bytes. */
export const RECORD_BYTES_MAX = 256;

export class FlashRecord implements RecordStore {
  readonly #flash: Flash;
  readonly #buffer = new Uint8Array(HEADER_BYTES + RECORD_BYTES_MAX + CRC_BYTES);
  #loaded = false;
  /** The sector holding the newest record (-1: none), and its seq. */
  #sector = -1;
  #seq = 0;

  constructor(flash: Flash) {
    assert(flash.byteLength === 2 * flash.blockSize, "FlashRecord: the region is two sectors");
    assert(flash.blockSize >= HEADER_BYTES + RECORD_BYTES_MAX + CRC_BYTES, "FlashRecord: a sector holds a record");
    this.#flash = flash;
  }

  load(): Uint8Array | undefined {
    let newest: Uint8Array | undefined;
    this.#sector = -1;
    this.#seq = 0;
    for (let sector = 0; sector < 2; sector++) {
      const image = new Uint8Array(this.#flash.read(sector * this.#flash.blockSize, this.#buffer.length));
      const length = image[8] | (image[9] << 8);
      if (readU32(image, 0) !== MAGIC || length > RECORD_BYTES_MAX) continue;
      const end = HEADER_BYTES + length;
      if (readU32(image, end) !== crc32(image, 0, end)) continue;
      const seq = readU32(image, 4);
      if (newest !== undefined && seq <= this.#seq) continue;
      newest = image.slice(HEADER_BYTES, end);
      this.#sector = sector;
      this.#seq = seq;
    }
    this.#loaded = true;
    return newest;
  }

  save(record: Uint8Array): void {
    assertInteger(record.length, 0, RECORD_BYTES_MAX, "record length");
    if (!this.#loaded) this.load();
    const target = this.#sector === 0 ? 1 : 0;
    const seq = this.#seq + 1;
    const buffer = this.#buffer;
    const end = HEADER_BYTES + record.length;
    buffer.fill(0);
    writeU32(buffer, 0, MAGIC);
    writeU32(buffer, 4, seq);
    buffer[8] = record.length & 0xff;
    buffer[9] = record.length >>> 8;
    buffer.set(record, HEADER_BYTES);
    writeU32(buffer, end, crc32(buffer, 0, end));
    const offset = target * this.#flash.blockSize;
    this.#flash.erase(target);
    this.#flash.write(offset, end + CRC_BYTES, buffer);
    const back = new Uint8Array(this.#flash.read(offset, end + CRC_BYTES));
    if (!bytesEqual(back, buffer.subarray(0, end + CRC_BYTES)))
      throw new FlashIoError("write", offset, "update record did not read back as written");
    this.#sector = target;
    this.#seq = seq;
  }
}
