/**
 * A terminal's update hardware for the update suites: one emulated NOR chip holding the update record
 * (sectors 0-1) and the file-backed slots' layout (control record, slot 0, slot 1), and a source
 * serving a test image. Each `Device` is one powered period over the same chip.
 */
import type { P256Check } from "../../../modules/crypto/p256";
import { fromHex } from "../../../modules/base/hex";
import { NorFlash } from "../../../modules/emulators/nor-flash";
import type { ImageManifest } from "../../../modules/tms/source";
import { FlashRegion } from "../../../modules/txn/flash-region";
import { FlashRecord } from "../../../modules/update/flash-record";
import { FlashSlots } from "../../../modules/update/flash-slots";
import { Updater, type ImageFeed, type UpdateTraceEvent } from "../../../modules/update/updater";
import { SIGNED_MANIFESTS } from "../../fixtures/update/signed-images";
import { TEST_IMAGES, TEST_PUBLIC_KEY_HEX, testImage, type TestImageName } from "../../fixtures/update/test-images";

export const BLOCK_BYTES = 1024;
const SLOT_SECTORS = 10;
export const SECTORS = 2 + 2 + 2 * SLOT_SECTORS;

export function chip(seed = 1): NorFlash {
  return new NorFlash({ sectorCount: SECTORS, blockSize: BLOCK_BYTES, seed });
}

export function manifestOf(name: TestImageName): ImageManifest {
  const m = SIGNED_MANIFESTS[name];
  return { version: m.version, sizeBytes: m.sizeBytes, sha256: fromHex(m.sha256), signature: fromHex(m.signature) };
}

export function imageOf(name: TestImageName): Uint8Array {
  const spec = TEST_IMAGES[name];
  return testImage(spec.seed, spec.sizeBytes);
}

/**
 * Serves one image through the updater's callbacks; `corrupt` flips a byte of what it serves, `failFrom`
 * fails every chunk from that offset on. Answers inside the request by default; with `deferred`, later,
 * when the test calls `deliver()` (as the TMS client does when the host's answer arrives).
 */
export class TestSource implements ImageFeed {
  chunks = 0;
  failFrom: number | undefined;
  readonly #manifest: ImageManifest | undefined;
  readonly #image: Uint8Array;
  readonly #deferred: boolean;
  readonly #queue: (() => void)[] = [];

  constructor(name: TestImageName | undefined, options: { manifest?: ImageManifest; corruptAt?: number; deferred?: boolean } = {}) {
    this.#manifest = options.manifest ?? (name === undefined ? undefined : manifestOf(name));
    this.#image = name === undefined ? new Uint8Array(0) : imageOf(name).slice();
    if (options.corruptAt !== undefined) this.#image[options.corruptAt] ^= 0x40;
    this.#deferred = options.deferred === true;
  }

  requestManifest(done: (result: ImageManifest | undefined | Error) => void): void {
    this.#answer(() => done(this.#manifest));
  }

  requestChunk(offsetBytes: number, lengthBytes: number, done: (result: Uint8Array | Error) => void): void {
    this.chunks++;
    const failed = this.failFrom !== undefined && offsetBytes + lengthBytes > this.failFrom;
    this.#answer(() => done(failed ? new Error("link lost") : this.#image.slice(offsetBytes, offsetBytes + lengthBytes)));
  }

  /** Answers what waits now (not what those answers ask next); how many. */
  deliver(): number {
    const waiting = this.#queue.splice(0);
    for (const answer of waiting) answer();
    return waiting.length;
  }

  #answer(answer: () => void): void {
    if (this.#deferred) this.#queue.push(answer);
    else answer();
  }
}

/** One powered period: the bootloader's slot choice, then the updater over the same chip. */
export class Device {
  readonly slots: FlashSlots;
  readonly updater: Updater;
  readonly events: UpdateTraceEvent[] = [];
  restarts = 0;
  clean = true;

  constructor(flash: NorFlash, verifySignature?: P256Check) {
    this.slots = new FlashSlots({ flash: new FlashRegion(flash, 2, SECTORS - 2), factoryVersion: "1.0.0" });
    this.slots.powerOn();
    this.updater = new Updater({
      slots: this.slots,
      store: new FlashRecord(new FlashRegion(flash, 0, 2)),
      publicKey: fromHex(TEST_PUBLIC_KEY_HEX),
      verifySignature,
      journalClean: () => this.clean,
      restart: () => this.restarts++,
      onEvent: (event) => this.events.push(event),
    });
  }

  /** "state/version/reason" of each event, for short expectations. */
  get story(): string[] {
    return this.events.map((e) => [e.state, e.version, e.reason].filter((p) => p !== undefined).join("/"));
  }
}
