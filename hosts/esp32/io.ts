/**
 * The platform Digital and Spi shapes over ECMA-419 `embedded:io/digital` and
 * `embedded:io/spi`. The board's SPI pins come from config (manifest.json
 * `config.pins`); the contactless reader sits on SPI port 1 (SPI2/HSPI),
 * never port 0, which serves the flash.
 */
import Digital from "embedded:io/digital";
import SPI from "embedded:io/spi";
import { assertInteger } from "../../modules/base/assert";
import type { Digital as PlatformDigital, DigitalOptions, Spi, SpiOptions } from "../../modules/platform/io";

const GPIO_MAX = 48;

function digitalMode(mode: DigitalOptions["mode"]): typeof Digital.Input {
  if (mode === "input") return Digital.Input;
  if (mode === "inputPullUp") return Digital.InputPullUp;
  return Digital.Output;
}

function digitalEdge(edge: NonNullable<DigitalOptions["edge"]>): number {
  if (edge === "rising") return Digital.Rising;
  if (edge === "falling") return Digital.Falling;
  return Digital.Rising | Digital.Falling;
}

/** Opens one GPIO. With `onReadable` the pin gets an edge interrupt; Moddable merges bursts of edges into one call. */
export function openDigital(options: DigitalOptions): PlatformDigital {
  assertInteger(options.pin, 0, GPIO_MAX, "pin");
  const mode = digitalMode(options.mode);
  const onReadable = options.onReadable;
  const pin =
    onReadable === undefined
      ? new Digital({ pin: options.pin, mode })
      : new Digital({ pin: options.pin, mode, edge: digitalEdge(options.edge ?? "both"), onReadable: () => onReadable() });
  return {
    read: () => pin.read(),
    write: (value: number) => pin.write(value === 0 ? 0 : 1),
    close: () => pin.close(),
  };
}

export interface SpiPins {
  readonly clock: number;
  readonly out: number;
  readonly in: number;
}

/** The typing in @moddable/typings 5.6.0 omits close(), which modules/io/spi/spi.js has. */
type ClosableSpi = SPI & { close(): void };

export function openSpi(pins: SpiPins, options: SpiOptions): Spi {
  assertInteger(options.port, 1, 2, "SPI port (0 is the flash)");
  assertInteger(options.hz, 100_000, 40_000_000, "hz");
  const spi = new SPI({
    clock: pins.clock,
    out: pins.out,
    in: pins.in,
    select: options.select,
    active: 0,
    hz: options.hz,
    mode: options.mode ?? 0,
    port: options.port,
  }) as ClosableSpi;
  return {
    transfer: (bytes: Uint8Array) => spi.transfer(bytes),
    write: (bytes: Uint8Array) => spi.write(bytes),
    read: (bytes: Uint8Array) => spi.read(bytes),
    flush: (deselect?: boolean) => spi.flush(deselect),
    close: () => spi.close(),
  };
}
