/**
 * The magstripe reader on the native strobe ISR (msr-capture.c): same output
 * as modules/card/msr-capture.ts (one byte per bit, handed over once /CLS
 * rises), with the bits captured in C because JS cannot keep up with strobes.
 */
import { assertInteger } from "../../modules/base/assert";
import { MSR_BITS_MAX } from "../../modules/card/msr";

export interface NativeMsrPins {
  readonly cardPresent: number;
  readonly strobe: number;
  readonly data: number;
}

class NativeMsr extends Native("xs_xspos_msr_destructor") {
  constructor(pins: NativeMsrPins, onSwipe: (bits: ArrayBuffer, count: number) => void) {
    super();
    native("xs_xspos_msr").call(this, pins.cardPresent, pins.strobe, pins.data, onSwipe);
  }
  get swipeInProgress(): boolean {
    return native("xs_xspos_msr_get_swipeInProgress").call(this) as boolean;
  }
  get strobesExpected(): boolean {
    return native("xs_xspos_msr_get_strobesExpected").call(this) as boolean;
  }
  get iramSafe(): boolean {
    return native("xs_xspos_msr_get_iramSafe").call(this) as boolean;
  }
  close(): void {
    native("xs_xspos_msr_close").call(this);
  }
}

export interface MsrStrobeCaptureOptions {
  readonly pins: NativeMsrPins;
  /** Called once per swipe; `bits` is wiped right after this returns. */
  readonly onSwipe: (bits: Uint8Array, count: number) => void;
}

export class MsrStrobeCapture {
  readonly #native: NativeMsr;

  constructor(options: MsrStrobeCaptureOptions) {
    const onSwipe = options.onSwipe;
    this.#native = new NativeMsr(options.pins, (buffer, count) => {
      const bits = new Uint8Array(buffer);
      assertInteger(count, 0, Math.min(bits.length, MSR_BITS_MAX), "msr bit count");
      try {
        onSwipe(bits, count);
      } finally {
        bits.fill(0);
      }
    });
  }

  /**
   * True while a card is in the slot or its bits are on the way to JS. A
   * flash erase in that window can mask the strobe interrupt (unless
   * `iramSafe`) and drop bits (SwipeGuardFlash waits on `strobesExpected`).
   */
  get swipeInProgress(): boolean {
    return this.#native.swipeInProgress;
  }

  /**
   * True while a card is in the slot (strobes can arrive). Unlike
   * `swipeInProgress` it ignores bits waiting for JS: the XS task collects
   * them, so a flash operation on that task can wait on this one only.
   */
  get strobesExpected(): boolean {
    return this.#native.strobesExpected;
  }

  /** Whether the GPIO ISR service runs during flash operations (it opened first, with ESP_INTR_FLAG_IRAM). */
  get iramSafe(): boolean {
    return this.#native.iramSafe;
  }

  close(): void {
    this.#native.close();
  }
}
