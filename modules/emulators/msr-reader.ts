/**
 * An emulated MagTek-style TTL magnetic stripe reader: /CLS, /STROBE and /DATA
 * as ECMA-419 Digital pins (all idle high, active low). A swipe drives /CLS low,
 * presents each bit on /DATA and pulses /STROBE, then raises /CLS — with noise
 * on request (flipped bits, dropped strobes, half swipes, reversed direction).
 * XS-compatible: the simulator and the core suites share it.
 */
import { assert, assertInteger } from "../base/assert";
import type { Digital, DigitalOptions } from "../platform/io";

const CLOCKING_ZEROS = 24;
const TRACK_CHARACTERS_MAX = 79;

/** Bits in time order (one byte per bit, 1 = /DATA low) for a track written with sentinels: `;…?` or `%…?`. */
export function encodeTrack(text: string, leadingZeros = CLOCKING_ZEROS, trailingZeros = CLOCKING_ZEROS): Uint8Array {
  assert(text.length >= 2 && text.length < TRACK_CHARACTERS_MAX, "track text length");
  const track1 = text[0] === "%";
  assert(track1 || text[0] === ";", "track text starts with a start sentinel");
  assert(text[text.length - 1] === "?", "track text ends with the end sentinel");
  const dataBits = track1 ? 6 : 4;
  const offset = track1 ? 0x20 : 0x30;
  const width = dataBits + 1;
  const bits = new Uint8Array(leadingZeros + (text.length + 1) * width + trailingZeros);
  let at = leadingZeros;
  let lrc = 0;
  const put = (value: number): void => {
    let ones = 0;
    for (let i = 0; i < dataBits; i++) {
      const bit = (value >> i) & 1;
      bits[at++] = bit;
      ones += bit;
    }
    bits[at++] = ones % 2 === 0 ? 1 : 0;
  };
  for (let i = 0; i < text.length; i++) {
    const value = text.charCodeAt(i) - offset;
    if (value < 0 || value >= 1 << dataBits) assert(false, `character ${i} is encodable on this track`);
    lrc ^= value;
    put(value);
  }
  put(lrc);
  return bits;
}

export interface SwipeNoise {
  /** Indices (into the encoded bits) whose value is inverted. */
  readonly flipBits?: readonly number[];
  /** Indices whose strobe never arrives (the bit is lost). */
  readonly dropStrobes?: readonly number[];
  /** Fraction of the bits presented before the card leaves the head (0..1]. */
  readonly fraction?: number;
  /** The card moves the other way: bits arrive last first. */
  readonly reverse?: boolean;
}

export interface MsrReaderPins {
  readonly cls: number;
  readonly strobe: number;
  readonly data: number;
}

class EmulatedPin implements Digital {
  level = 1;
  open = true;
  constructor(readonly options: DigitalOptions) {}
  read(): number {
    assert(this.open, "read of a closed pin");
    return this.level;
  }
  write(_value: number): void {
    assert(false, "the reader's lines are inputs");
  }
  close(): void {
    this.open = false;
  }
  /** Sets the line level and raises onReadable when the configured edge occurs. */
  drive(level: number): void {
    const previous = this.level;
    this.level = level;
    if (!this.open || previous === level || !this.options.onReadable) return;
    const edge = this.options.edge;
    const falling = level === 0;
    if (edge === "both" || (edge === "falling" && falling) || (edge === "rising" && !falling)) this.options.onReadable();
  }
}

export class MsrReaderEmulator {
  readonly #pins: MsrReaderPins;
  readonly #opened = new Map<number, EmulatedPin>();

  constructor(pins: MsrReaderPins) {
    this.#pins = pins;
  }

  /** The `embedded:io/digital` constructor for the reader's three lines. */
  readonly open = (options: DigitalOptions): Digital => {
    const { cls, strobe, data } = this.#pins;
    assert(options.pin === cls || options.pin === strobe || options.pin === data, `pin ${options.pin} is not wired to the reader`);
    assert(options.mode !== "output", "the reader's lines are inputs");
    const pin = new EmulatedPin(options);
    this.#opened.set(options.pin, pin);
    return pin;
  };

  /** Swipes a card carrying `text` (one track, with sentinels) past the head. */
  swipe(text: string, noise: SwipeNoise = {}): void {
    this.swipeBits(encodeTrack(text), noise);
  }

  swipeBits(encoded: Uint8Array, noise: SwipeNoise = {}): void {
    const fraction = noise.fraction ?? 1;
    assert(fraction > 0 && fraction <= 1, "swipe fraction in (0, 1]");
    const cls = this.#pin(this.#pins.cls);
    const strobe = this.#pin(this.#pins.strobe);
    const data = this.#pin(this.#pins.data);
    const flips = new Set(noise.flipBits ?? []);
    const drops = new Set(noise.dropStrobes ?? []);
    const presented = Math.ceil(encoded.length * fraction);
    assertInteger(presented, 1, encoded.length, "presented bits");
    cls.drive(0);
    for (let t = 0; t < presented; t++) {
      const index = noise.reverse ? encoded.length - 1 - t : t;
      const bit = encoded[index] ^ (flips.has(index) ? 1 : 0);
      data.drive(bit === 1 ? 0 : 1);
      if (drops.has(index)) continue;
      strobe.drive(0);
      strobe.drive(1);
    }
    data.drive(1);
    cls.drive(1);
  }

  #pin(pin: number): EmulatedPin {
    const opened = this.#opened.get(pin);
    assert(opened !== undefined, `pin ${pin} was not opened`);
    return opened;
  }
}
