/**
 * File-backed A/B slots for the simulator and the Linux terminal, with the
 * ESP-IDF bootloader's rules (CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE) so the
 * update logic meets the same boots as on the board:
 *
 * - activate: the inactive slot boots next as NEW;
 * - power-on with a NEW slot: it runs, now PENDING_VERIFY;
 * - power-on with a slot still PENDING_VERIFY (its first boot crashed, was cut,
 *   or rolled back without restarting): it is marked invalid and the other slot runs;
 * - confirm: the running slot is valid; rollback: it is invalid, the other boots next;
 * - forgetFailedTrial: the invalid mark is dropped once the rollback was reported.
 *
 * Layout over one Flash: sectors 0-1 the control record (FlashRecord), then
 * slot 0, then slot 1 (equal halves of the rest). The slot's bytes are
 * written through the Flash, so the simulator's NOR emulator can cut power at
 * any of its operations.
 */
import { assert, assertInteger } from "../base/assert";
import { bytesEqual } from "../base/hex";
import { FlashIoError, type Flash } from "../platform/flash";
import type { ImageSlots, RunningImage } from "../platform/image-slots";
import { FlashRegion } from "../txn/flash-region";
import { FlashRecord } from "./flash-record";
import { readU48, versionCode, versionText, writeU48 } from "./manifest";

const CONTROL_SECTORS = 2;
const CONTROL_BYTES = 16;
const TRIAL_NONE = 0;
const TRIAL_NEW = 1;
const TRIAL_PENDING = 2;
const TRIAL_INVALID = 3;

interface Control {
  bootSlot: number;
  trial: number;
  readonly versions: number[];
}

export interface FlashSlotsOptions {
  /** The whole slots partition: control record, slot 0, slot 1. */
  readonly flash: Flash;
  /** The version slot 0 holds before any update (the image the terminal was built as). */
  readonly factoryVersion: string;
}

export class FlashSlots implements ImageSlots {
  readonly blockSize: number;
  readonly slotBytes: number;
  readonly #flash: Flash;
  readonly #control: FlashRecord;
  readonly #slotSectors: number;
  readonly #factoryCode: number;
  #state: Control | undefined;
  #running: RunningImage | undefined;
  #runningSlot = 0;

  constructor(options: FlashSlotsOptions) {
    const { flash } = options;
    const sectors = flash.byteLength / flash.blockSize;
    this.#slotSectors = Math.floor((sectors - CONTROL_SECTORS) / 2);
    assertInteger(this.#slotSectors, 1, 4096, "sectors per slot");
    this.#flash = flash;
    this.#control = new FlashRecord(new FlashRegion(flash, 0, CONTROL_SECTORS));
    this.#factoryCode = versionCode(options.factoryVersion);
    this.blockSize = flash.blockSize;
    this.slotBytes = this.#slotSectors * flash.blockSize;
  }

  /** The bootloader's part: choose the slot that runs this powered period. Call once per power-on, first. */
  powerOn(): void {
    const bytes = this.#control.load();
    const state: Control =
      bytes === undefined ? { bootSlot: 0, trial: TRIAL_NONE, versions: [this.#factoryCode, 0] } : decodeControl(bytes);
    if (state.trial === TRIAL_NEW) {
      state.trial = TRIAL_PENDING;
      this.#save(state);
    } else if (state.trial === TRIAL_PENDING) {
      state.trial = TRIAL_INVALID;
      state.bootSlot = 1 - state.bootSlot;
      this.#save(state);
    }
    this.#state = state;
    this.#runningSlot = state.bootSlot;
    this.#running = Object.freeze({
      version: versionText(state.versions[state.bootSlot]),
      pendingVerification: state.trial === TRIAL_PENDING,
    });
  }

  get running(): RunningImage {
    assert(this.#running !== undefined, "FlashSlots: powerOn first");
    return this.#running;
  }

  get trialFailed(): boolean {
    return this.#powered().trial === TRIAL_INVALID;
  }

  writeBlock(index: number, bytes: Uint8Array, length: number): void {
    this.#powered();
    assertInteger(index, 0, this.#slotSectors - 1, "slot block");
    assertInteger(length, 1, Math.min(bytes.length, this.blockSize), "block length");
    programBlock(this.#flash, this.#inactiveFirstSector() + index, bytes, length);
  }

  read(offsetBytes: number, into: Uint8Array): void {
    this.#readSlot(1 - this.#runningSlot, offsetBytes, into);
  }

  /** Fills `into` from the running slot at `offsetBytes` (a host's self-test reads the image it boots). */
  readRunning(offsetBytes: number, into: Uint8Array): void {
    this.#readSlot(this.#runningSlot, offsetBytes, into);
  }

  activate(version: string, sizeBytes: number): void {
    const state = this.#powered();
    assert(!this.running.pendingVerification, "FlashSlots: activate while the running image is pending verification");
    assertInteger(sizeBytes, 1, this.slotBytes, "image size");
    const next = 1 - this.#runningSlot;
    const versions = state.versions.slice();
    versions[next] = versionCode(version);
    this.#save({ bootSlot: next, trial: TRIAL_NEW, versions });
  }

  forgetFailedTrial(): void {
    const state = this.#powered();
    if (state.trial !== TRIAL_INVALID) return;
    this.#save({ ...state, versions: state.versions.slice(), trial: TRIAL_NONE });
  }

  confirm(): void {
    const state = this.#powered();
    const running = this.running;
    assert(running.pendingVerification, "FlashSlots: confirm without an image pending verification");
    this.#save({ ...state, versions: state.versions.slice(), trial: TRIAL_NONE });
    // The image runs on, valid now: a later update activates the other slot without a restart first.
    this.#running = Object.freeze({ version: running.version, pendingVerification: false });
  }

  rollback(): void {
    const state = this.#powered();
    assert(this.running.pendingVerification, "FlashSlots: rollback without an image pending verification");
    this.#save({ bootSlot: 1 - this.#runningSlot, trial: TRIAL_INVALID, versions: state.versions.slice() });
  }

  #inactiveFirstSector(): number {
    return CONTROL_SECTORS + (1 - this.#runningSlot) * this.#slotSectors;
  }

  #readSlot(slot: number, offsetBytes: number, into: Uint8Array): void {
    this.#powered();
    assertInteger(offsetBytes, 0, this.slotBytes - into.length, "slot read offset");
    const first = CONTROL_SECTORS + slot * this.#slotSectors;
    into.set(new Uint8Array(this.#flash.read(first * this.blockSize + offsetBytes, into.length)));
  }

  #powered(): Control {
    assert(this.#state !== undefined, "FlashSlots: powerOn first");
    return this.#state;
  }

  #save(state: Control): void {
    this.#control.save(encodeControl(state));
    this.#state = state;
  }
}

function encodeControl(state: Control): Uint8Array {
  const out = new Uint8Array(CONTROL_BYTES);
  out[0] = state.bootSlot;
  out[1] = state.trial;
  for (let slot = 0; slot < 2; slot++) writeU48(out, 2 + slot * 6, state.versions[slot]);
  return out;
}

function decodeControl(bytes: Uint8Array): Control {
  // A record that passed its CRC but is not ours is a bug in this file's writer, not bad input.
  assert(bytes.length === CONTROL_BYTES && bytes[0] <= 1 && bytes[1] <= TRIAL_INVALID, "FlashSlots: control record malformed");
  return { bootSlot: bytes[0], trial: bytes[1], versions: [readU48(bytes, 2), readU48(bytes, 8)] };
}

/** Erases `sector` of `flash`, programs `bytes[0, length)` at its start and reads it back (FlashIoError when it differs). */
export function programBlock(flash: Flash, sector: number, bytes: Uint8Array, length: number): void {
  const offset = sector * flash.blockSize;
  flash.erase(sector);
  flash.write(offset, length, bytes);
  if (!bytesEqual(new Uint8Array(flash.read(offset, length)), bytes.subarray(0, length)))
    throw new FlashIoError("write", offset, "image block did not read back as written");
}
