/**
 * Strobe capture over ECMA-419 Digital pins: the JS twin of the native ISR the
 * ESP32 build uses (hosts/esp32), with the same output — a finished bit
 * buffer and a count, handed over when /CLS rises. JS callbacks cannot keep up
 * with real strobes on the device (Moddable merges edge notifications), so this
 * class serves the simulator, where the emulated reader raises every edge.
 */
import { assertInteger } from "../base/assert";
import type { Digital, DigitalOptions } from "../platform/io";
import { MSR_BITS_MAX } from "./msr";

export interface MsrCaptureOptions {
  /** The Digital constructor: `embedded:io/digital` on a device, the emulator in the simulator. */
  readonly open: (options: DigitalOptions) => Digital;
  readonly pins: { readonly cls: number; readonly strobe: number; readonly data: number };
  /** Called once per swipe; `bits` is reused by the next swipe, and wiped right after this returns. */
  readonly onSwipe: (bits: Uint8Array, count: number) => void;
  readonly bitsMax?: number;
}

export class MsrCapture {
  readonly #cls: Digital;
  readonly #strobe: Digital;
  readonly #data: Digital;
  readonly #bits: Uint8Array;
  readonly #onSwipe: (bits: Uint8Array, count: number) => void;
  #count = 0;
  #capturing = false;
  #overflowed = false;

  constructor(options: MsrCaptureOptions) {
    const bitsMax = options.bitsMax ?? MSR_BITS_MAX;
    assertInteger(bitsMax, 8, MSR_BITS_MAX, "bitsMax");
    this.#bits = new Uint8Array(bitsMax);
    this.#onSwipe = options.onSwipe;
    this.#data = options.open({ pin: options.pins.data, mode: "inputPullUp" });
    this.#strobe = options.open({ pin: options.pins.strobe, mode: "inputPullUp", edge: "falling", onReadable: () => this.#strobed() });
    this.#cls = options.open({ pin: options.pins.cls, mode: "inputPullUp", edge: "both", onReadable: () => this.#cardPresence() });
  }

  close(): void {
    this.#cls.close();
    this.#strobe.close();
    this.#data.close();
    this.#bits.fill(0);
  }

  #cardPresence(): void {
    if (this.#cls.read() === 0) {
      this.#count = 0;
      this.#overflowed = false;
      this.#capturing = true;
      return;
    }
    if (!this.#capturing) return;
    this.#capturing = false;
    // An overflowing swipe is not a card this reader can trust: hand over nothing decodable.
    const count = this.#overflowed ? 0 : this.#count;
    try {
      this.#onSwipe(this.#bits, count);
    } finally {
      this.#bits.fill(0, 0, this.#count);
    }
  }

  #strobed(): void {
    if (!this.#capturing) return;
    if (this.#count === this.#bits.length) {
      this.#overflowed = true;
      return;
    }
    // /DATA is active low: a low level at the strobe's falling edge is a 1.
    this.#bits[this.#count++] = this.#data.read() === 0 ? 1 : 0;
  }
}
