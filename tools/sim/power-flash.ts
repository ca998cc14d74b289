/**
 * The simulator's flash: the emulated NOR part (modules/emulators/nor-flash.ts,
 * with its torn erases and programs) whose image is written to a file after
 * every mutating operation, so ./var/flash.bin survives restarts and a power
 * cut mid-operation leaves the torn bytes on disk as it would on the chip.
 * One chip holds the journal, the state record and the firmware update's
 * record and A/B slots (tools/scenario/update-hardware.ts), as in scenarios.
 */
import fs from "node:fs";
import path from "node:path";
import { NorFlash, PowerCut } from "../../modules/emulators/nor-flash";
import type { Flash } from "../../modules/platform/flash";

export interface PowerFlashOptions {
  /** Image file; absent = RAM only (headless runs). */
  readonly path?: string;
  readonly sectorCount: number;
  readonly blockSize: number;
  readonly seed: number;
}

export class PowerFlash implements Flash {
  readonly blockSize: number;
  readonly byteLength: number;
  readonly #nor: NorFlash;
  readonly #path: string | undefined;
  #armed = false;

  constructor(options: PowerFlashOptions) {
    this.blockSize = options.blockSize;
    this.byteLength = options.sectorCount * options.blockSize;
    this.#path = options.path;
    let image: Uint8Array | undefined;
    if (options.path !== undefined && fs.existsSync(options.path)) {
      const bytes = fs.readFileSync(options.path);
      // A shorter image is an older layout of the same chip (before the update slots followed the journal and the
      // state record): its sectors keep their places, the rest is erased. A longer one is not ours: start blank.
      if (bytes.length <= this.byteLength && bytes.length % this.blockSize === 0) {
        image = new Uint8Array(this.byteLength).fill(0xff);
        image.set(bytes);
      }
    }
    this.#nor = new NorFlash({ sectorCount: options.sectorCount, blockSize: options.blockSize, seed: options.seed, image });
    if (options.path !== undefined) {
      fs.mkdirSync(path.dirname(options.path), { recursive: true });
      this.#save();
    }
  }

  get powered(): boolean {
    return this.#nor.powered;
  }

  /** Mutating operations so far (erase + program). */
  get operations(): number {
    return this.#nor.operations;
  }

  /** True while a cut waits for its flash operation. */
  get cutArmed(): boolean {
    return this.#armed;
  }

  /** Arms a cut inside the n-th erase or program from now (1 = the next): a torn operation. */
  cutAtOperation(n: number): void {
    this.#nor.schedule({ atOperation: this.#nor.operations + n - 1, kind: "cutInside" });
    this.#armed = true;
  }

  /** Power off between operations; disarms a pending cut. */
  cutNow(): void {
    this.#nor.schedule(undefined);
    this.#armed = false;
    this.#nor.cutPower();
  }

  /** Power back: weak bits settle to fresh values. A pending armed cut is kept. */
  powerOn(): void {
    this.#nor.powerCycle();
    this.#save();
  }

  read(offset: number, length: number): ArrayBuffer {
    return this.#nor.read(offset, length);
  }

  erase(sector: number): void {
    this.#mutate(() => this.#nor.erase(sector));
  }

  write(offset: number, length: number, bytes: Uint8Array): void {
    this.#mutate(() => this.#nor.write(offset, length, bytes));
  }

  #mutate(operation: () => void): void {
    try {
      operation();
    } catch (error) {
      if (error instanceof PowerCut) {
        this.#armed = false;
        this.#save();
      }
      throw error;
    }
    this.#save();
  }

  #save(): void {
    if (this.#path !== undefined) fs.writeFileSync(this.#path, this.#nor.exportImage());
  }
}
