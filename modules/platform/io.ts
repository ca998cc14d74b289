/**
 * ECMA-419 shapes of the IO the card readers use, reduced to what the drivers
 * call. The device binds them to `embedded:io/digital` and `embedded:io/spi`;
 * the simulator to emulated reader chips.
 */
export interface Digital {
  read(): number;
  write(value: number): void;
  close(): void;
}

export interface DigitalOptions {
  readonly pin: number;
  readonly mode: "input" | "inputPullUp" | "output";
  readonly edge?: "rising" | "falling" | "both";
  readonly onReadable?: () => void;
}

export interface Spi {
  /** Clocks out `bytes` and overwrites them with what was clocked in. */
  transfer(bytes: Uint8Array): void;
  write(bytes: Uint8Array): void;
  read(bytes: Uint8Array): void;
  /** Releases chip select. */
  flush(deselect?: boolean): void;
  close(): void;
}

export interface SpiOptions {
  readonly port: number;
  readonly hz: number;
  readonly select: number;
  readonly mode?: 0 | 1 | 2 | 3;
}
