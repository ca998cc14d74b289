/**
 * The terminal's TMS client (docs/tms.md): parameters, the firmware manifest and image chunks over the
 * host link, through the engine's TmsExchange (one 0800/0810 at a time, MAC'd). Every answer is decoded
 * and checked against its request here; what is not right is a TmsError, never a half-read value.
 *
 * Callback methods only: the scenario runner and chaos drive the terminal synchronously on a virtual
 * clock, where a promise continuation would wait for the run's end. It is the updater's ImageFeed.
 */
import { TmsError } from "./errors";
import { decodeManifestAnswer } from "./manifest";
import type { ImageFeed, ImageManifest } from "./source";
import {
  decodeChunkAnswer,
  encodeChunkRequest,
  encodeParameterReport,
  publishedPayload,
  TMS_NET_CODES,
  type ParameterReport,
  type TmsExchange,
} from "./wire";

export type TmsResult<T> = T | TmsError;

export interface TmsClientOptions {
  readonly exchange: TmsExchange;
}

export class TmsClient implements ImageFeed {
  readonly #exchange: TmsExchange;
  /** The manifest last fetched: chunk requests name its version and are bounded by its size. */
  #manifest: ImageManifest | undefined;

  constructor(options: TmsClientOptions) {
    this.#exchange = options.exchange;
  }

  /** The published parameter block (undefined: none published); the terminal's parameter table decodes it. */
  requestParameters(done: (result: TmsResult<Uint8Array | undefined>) => void): void {
    this.#exchange.tmsExchange(TMS_NET_CODES.parameters, undefined, (answer) =>
      done(answer instanceof TmsError ? answer : attempt(() => publishedPayload(answer, "parameters"))),
    );
  }

  /** Tells the TMS what became of a parameter block; approved (00) or not, the report is not repeated. */
  reportParameters(report: ParameterReport, done: (result: TmsResult<void>) => void): void {
    this.#exchange.tmsExchange(TMS_NET_CODES.parameterReport, encodeParameterReport(report), (answer) => {
      if (answer instanceof TmsError) return done(answer);
      done(answer.f39 === "00" ? undefined : new TmsError("declined", `parameter report: response code ${answer.f39}`));
    });
  }

  requestManifest(done: (result: TmsResult<ImageManifest | undefined>) => void): void {
    this.#exchange.tmsExchange(TMS_NET_CODES.manifest, undefined, (answer) => {
      if (answer instanceof TmsError) return done(answer);
      const result = attempt(() => {
        const f62 = publishedPayload(answer, "manifest");
        return f62 === undefined ? undefined : decodeManifestAnswer(f62);
      });
      if (!(result instanceof TmsError)) this.#manifest = result;
      done(result);
    });
  }

  requestChunk(offsetBytes: number, lengthBytes: number, done: (result: TmsResult<Uint8Array>) => void): void {
    const manifest = this.#manifest;
    if (manifest === undefined) return done(new TmsError("badRequest", "a chunk before a manifest"));
    let payload: Uint8Array;
    try {
      payload = encodeChunkRequest({ version: manifest.version, offsetBytes, lengthBytes });
      if (offsetBytes >= manifest.sizeBytes)
        throw new TmsError("badRequest", `offset ${offsetBytes} is past the image's ${manifest.sizeBytes} bytes`);
    } catch (error) {
      if (error instanceof TmsError) return done(error);
      throw error;
    }
    this.#exchange.tmsExchange(TMS_NET_CODES.chunk, payload, (answer) => {
      if (answer instanceof TmsError) return done(answer);
      if (answer.f39 === "25") return done(new TmsError("imageWithdrawn", `${manifest.version} is no longer published`));
      done(
        attempt(() => {
          const f62 = publishedPayload(answer, "chunk")!;
          return decodeChunkAnswer(f62, offsetBytes, lengthBytes, manifest.sizeBytes);
        }),
      );
    });
  }
}

function attempt<T>(decode: () => T): TmsResult<T> {
  try {
    return decode();
  } catch (error) {
    if (error instanceof TmsError) return error;
    throw error;
  }
}
