/**
 * Drives one xsnap worker (Moddable's XS engine built by @agoric/xsnap) over
 * its netstring pipes, without the SES lockdown that the package's own Node
 * API needs. Each evaluation returns the XS meter of that crank: `compute` is
 * the engine's count of executed operations, deterministic for the same code
 * and input, which is what the project uses as its performance baseline.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import type { Readable, Writable } from "node:stream";

export interface XsMeter {
  /** Operations executed by the engine during the crank. */
  readonly compute: number;
  /** Chunk bytes the engine had reserved when the crank ended (xsnap reserves up front: it rarely moves). */
  readonly allocate: number;
  /** Live slots in the heap when the crank ended. */
  readonly currentHeapCount: number;
}

export interface XsEvaluation {
  readonly meter: XsMeter;
}

export class XsError extends Error {
  override readonly name = "XsError";
}

const MESSAGE_BYTES_MAX = 64 * 1024 * 1024;

export function xsnapWorkerPath(): string {
  const require = createRequire(import.meta.url);
  const root = path.dirname(require.resolve("@agoric/xsnap/package.json"));
  return path.join(root, "xsnap-native/xsnap/build/bin/lin/release/xsnap-worker");
}

export class XsWorker {
  readonly #process: ChildProcess;
  readonly #toWorker: Writable;
  #buffered: Buffer = Buffer.alloc(0);
  readonly #messages: Buffer[] = [];
  #wake: (() => void) | undefined;
  #exited = false;
  #stderr = "";
  readonly #onCommand: (message: Uint8Array) => Uint8Array;

  /** `onCommand` answers the worker's synchronous `issueCommand(ArrayBuffer)`. */
  constructor(onCommand: (message: Uint8Array) => Uint8Array = () => new Uint8Array(0)) {
    this.#onCommand = onCommand;
    this.#process = spawn(xsnapWorkerPath(), ["xspos"], {
      stdio: ["ignore", "ignore", "pipe", "pipe", "pipe", "ignore", "ignore", "ignore", "ignore"],
    });
    this.#toWorker = this.#process.stdio[3] as Writable;
    const fromWorker = this.#process.stdio[4] as Readable;
    (this.#process.stdio[2] as Readable).on("data", (d: Buffer) => {
      if (this.#stderr.length < 65536) this.#stderr += d.toString();
    });
    fromWorker.on("data", (chunk: Buffer) => this.#receive(chunk));
    this.#process.on("error", (error) => {
      // A missing or unrunnable engine binary: report it through #next as an XsError, not an unhandled event.
      this.#stderr += `cannot run ${xsnapWorkerPath()}: ${error.message}`;
      this.#exited = true;
      this.#wake?.();
    });
    this.#process.on("exit", () => {
      this.#exited = true;
      this.#wake?.();
    });
  }

  #receive(chunk: Buffer): void {
    this.#buffered = Buffer.concat([this.#buffered, chunk]);
    for (;;) {
      const colon = this.#buffered.indexOf(0x3a);
      if (colon < 0) break;
      const length = Number(this.#buffered.subarray(0, colon).toString());
      if (!Number.isInteger(length) || length > MESSAGE_BYTES_MAX) throw new XsError("xsnap protocol: bad netstring length");
      if (this.#buffered.length < colon + 1 + length + 1) break;
      this.#messages.push(this.#buffered.subarray(colon + 1, colon + 1 + length));
      this.#buffered = this.#buffered.subarray(colon + 2 + length);
    }
    this.#wake?.();
  }

  #send(payload: Buffer): void {
    this.#toWorker.write(Buffer.concat([Buffer.from(`${payload.length}:`), payload, Buffer.from(",")]));
  }

  async #next(): Promise<Buffer> {
    while (this.#messages.length === 0) {
      if (this.#exited) throw new XsError(`xsnap worker exited${this.#stderr ? `: ${this.#stderr.trim()}` : ""}`);
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
    return this.#messages.shift() as Buffer;
  }

  /** Evaluates a script; the engine drains its promise jobs before answering. */
  async evaluate(code: string): Promise<XsEvaluation> {
    this.#send(Buffer.from(`e${code}`));
    for (;;) {
      const message = await this.#next();
      const kind = String.fromCharCode(message[0]);
      if (kind === "?") {
        this.#send(Buffer.concat([Buffer.from("/"), Buffer.from(this.#onCommand(message.subarray(1)))]));
      } else if (kind === ".") {
        const separator = message.indexOf(1);
        const meter =
          separator > 0
            ? (JSON.parse(message.subarray(1, separator).toString()) as XsMeter)
            : { compute: 0, allocate: 0, currentHeapCount: 0 };
        return { meter };
      } else if (kind === "!") {
        throw new XsError(message.subarray(1).toString());
      } else {
        throw new XsError(`xsnap protocol: unexpected message kind ${JSON.stringify(kind)}`);
      }
    }
  }

  close(): void {
    if (!this.#exited) this.#process.kill();
  }
}
