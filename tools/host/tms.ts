/**
 * The host's terminal management system (docs/tms.md): what is published (one parameter set, one firmware
 * image), what each terminal fetched, the parameter reports it sent back, and the answers to the TMS
 * 0800s (60.3 360/361/390/391). Pure and synchronous like the host core, and free of Node APIs: the
 * scenario runner embeds it in XS too. Signing is handed in (ImageSigner): Node's crypto on the network
 * host and in the Node runs (tms-signing.ts); an XS run can publish parameters but not images.
 */
import { crc32 } from "../../modules/base/crc32";
import { encodeParameterBlock, PARAMETER_TABLE } from "../../modules/terminal/parameters";
import { TmsError } from "../../modules/tms/errors";
import { encodeManifestAnswer, manifestBytes, parseVersion } from "../../modules/tms/manifest";
import { MAX_IMAGE_BYTES, type ImageManifest } from "../../modules/tms/source";
import {
  decodeChunkRequest,
  decodeParameterReport,
  encodeChunkAnswer,
  NOTHING_PUBLISHED,
  TMS_NET_CODES,
  type ParameterReport,
  type TmsNetCode,
} from "../../modules/tms/wire";

/** The kinds of image a publication can be (docs/tms.md "Publishing"). */
export const IMAGE_KINDS = Object.freeze(["good", "badSignature", "corrupt", "crashesOnBoot", "older"] as const);
export type ImageKind = (typeof IMAGE_KINDS)[number];

export interface ImageSpec {
  readonly version: string;
  readonly kind: ImageKind;
  /** Default DEFAULT_IMAGE_BYTES. */
  readonly sizeBytes?: number;
}

/** A test image is small: a handful of chunks, so a download has flash operations to cut between. */
export const DEFAULT_IMAGE_BYTES = 4096;
/** Parameters one publication may name. */
const PUBLISHED_PARAMETERS_MAX = 16;
/** Parameter reports kept (newest last). */
const REPORTS_KEPT_MAX = 256;

/** What the host needs to publish an image: SHA-256 and an ECDSA P-256 signature, raw r||s. */
export interface ImageSigner {
  sha256(bytes: Uint8Array): Uint8Array;
  /** ECDSA P-256 with SHA-256 over `message`, raw r||s (64 bytes). */
  sign(message: Uint8Array): Uint8Array;
}

/** An image as served: its manifest (signed, or with a spoiled signature) and the bytes chunks are cut from. */
export interface PublishedImage {
  readonly spec: Required<ImageSpec>;
  readonly manifest: ImageManifest;
  /** What chunk answers carry: the image, or for `corrupt` the image with one byte flipped. */
  readonly served: Uint8Array;
}

export interface ParameterReportRecord extends ParameterReport {
  readonly tid: string;
  readonly atMs: number;
}

export class TmsPublishError extends Error {
  override readonly name = "TmsPublishError";
}

/**
 * The deterministic test image (docs/tms.md "Test images"): an ASCII header the simulated slots read (hosts/lin/test-image.ts)
 * (`XSPOS-TEST-IMAGE`, `version=`, `behaviour=good|crashesOnBoot`, one per line), then filler drawn from
 * the version, so the same publication always has the same bytes and hash.
 */
export function testImage(version: string, kind: ImageKind, sizeBytes: number): Uint8Array {
  const header = `XSPOS-TEST-IMAGE\nversion=${version}\nbehaviour=${kind === "crashesOnBoot" ? "crashesOnBoot" : "good"}\n`;
  if (sizeBytes < header.length) throw new TmsPublishError(`an image of ${sizeBytes} bytes cannot hold its ${header.length}-byte header`);
  const out = new Uint8Array(sizeBytes);
  for (let i = 0; i < header.length; i++) out[i] = header.charCodeAt(i);
  let x = crc32(out, 0, header.length) || 1;
  for (let i = header.length; i < sizeBytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * The public half of the TEST signing key (tools/host/test-keys, public on purpose: its README), as a
 * simulated terminal is provisioned with it: uncompressed P-256 point 04 || X || Y. Written out because the
 * runner also runs in XS; tests/node/host checks it against the PEM.
 */
export const TMS_TEST_PUBLIC_KEY_HEX =
  "04D6B438232F0DDCBEA093AA76278341D47EFC777DDA37E11DD816E0013AF9DC6B6285E6B145CB4698943220E383A11564385FF25CE3E7163456ADC5FA00001A94";

/**
 * An image publication as a scenario, the control API or the CLI gives it (JSON): a version the terminal
 * can read, one of IMAGE_KINDS, a size within MAX_IMAGE_BYTES (default DEFAULT_IMAGE_BYTES).
 */
export function checkImageSpec(value: unknown): Required<ImageSpec> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new TmsPublishError("image must be an object");
  const { version, kind, sizeBytes = DEFAULT_IMAGE_BYTES } = value as { version?: unknown; kind?: unknown; sizeBytes?: unknown };
  if (typeof version !== "string" || parseVersion(version) === undefined)
    throw new TmsPublishError("version must be major.minor.patch, each 0..65535");
  if (!(IMAGE_KINDS as readonly unknown[]).includes(kind)) throw new TmsPublishError(`kind must be one of ${IMAGE_KINDS.join(", ")}`);
  if (typeof sizeBytes !== "number" || !Number.isInteger(sizeBytes) || sizeBytes < 1 || sizeBytes > MAX_IMAGE_BYTES)
    throw new TmsPublishError(`sizeBytes must be 1..${MAX_IMAGE_BYTES}`);
  return { version, kind: kind as ImageKind, sizeBytes };
}

/** Builds and signs a publication of `spec`; the kind decides what is wrong with it. */
export function buildImage(given: ImageSpec, signer: ImageSigner): PublishedImage {
  const spec = checkImageSpec(given);
  const sizeBytes = spec.sizeBytes;
  const image = testImage(spec.version, spec.kind, sizeBytes);
  const unsigned = { version: spec.version, sizeBytes, sha256: signer.sha256(image) };
  const signature = signer.sign(manifestBytes(unsigned)).slice();
  if (signature.length !== 64) throw new TmsPublishError("the signer must give a raw 64-byte r||s");
  // A signature that is well formed and wrong: s changed in its last byte.
  if (spec.kind === "badSignature") signature[63] ^= 0x01;
  const served = image.slice();
  if (spec.kind === "corrupt") served[Math.floor(sizeBytes / 2)] ^= 0x80;
  return { spec: { version: spec.version, kind: spec.kind, sizeBytes }, manifest: { ...unsigned, signature }, served };
}

/**
 * A parameter set as the TMS may publish it (JSON from a scenario or the control API): names the table
 * knows, values of the parameter's type in any range the block carries (the terminal judges the range).
 */
export function checkPublishedParameters(value: unknown): Readonly<Record<string, number | boolean | string>> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new TmsPublishError("parameters must be an object");
  const raw = value as Record<string, unknown>;
  const names = Object.keys(raw);
  if (names.length < 1 || names.length > PUBLISHED_PARAMETERS_MAX)
    throw new TmsPublishError(`parameters must name 1 to ${PUBLISHED_PARAMETERS_MAX} parameters`);
  const out: Record<string, number | boolean | string> = {};
  for (const name of names) {
    const v = raw[name];
    if (!PARAMETER_TABLE.some((p) => p.name === name)) throw new TmsPublishError(`${name}: not a terminal parameter`);
    if (typeof v !== "boolean" && typeof v !== "string" && !(typeof v === "number" && Number.isInteger(v)))
      throw new TmsPublishError(`${name}: must be an integer, a boolean or a string`);
    out[name] = v;
  }
  try {
    encodeParameterBlock(out);
  } catch (error) {
    throw new TmsPublishError((error as Error).message);
  }
  return out;
}

export interface TmsAnswerOut {
  /** F39 of the 0810. */
  readonly code: string;
  readonly f62?: Uint8Array;
}

export class TmsPublications {
  #generation = 0;
  #parameters: { readonly block: Uint8Array; readonly values: Readonly<Record<string, unknown>>; readonly generation: number } | undefined;
  #image: (PublishedImage & { readonly generation: number }) | undefined;
  /** Per TID: the generation of the parameters and of the manifest it fetched last (bounded by the terminal registry). */
  readonly #fetched = new Map<string, { parameters: number; manifest: number }>();
  readonly #reports: ParameterReportRecord[] = [];

  /** Publishes a parameter set as given (out-of-range values too: the terminal judges); names and types must fit the block. */
  publishParameters(values: Readonly<Record<string, number | boolean | string>>): Uint8Array {
    let block: Uint8Array;
    try {
      block = encodeParameterBlock(values);
    } catch (error) {
      throw new TmsPublishError((error as Error).message);
    }
    this.#parameters = { block, values: { ...values }, generation: ++this.#generation };
    return block;
  }

  publishImage(image: PublishedImage): void {
    this.#image = { ...image, generation: ++this.#generation };
  }

  /** Something was published that `tid` has not fetched yet: the sign-on answer asks it to check (处理要求). */
  due(tid: string): boolean {
    const fetched = this.#fetched.get(tid);
    const parameters = this.#parameters?.generation ?? 0;
    const image = this.#image?.generation ?? 0;
    return parameters > (fetched?.parameters ?? 0) || image > (fetched?.manifest ?? 0);
  }

  get reports(): readonly ParameterReportRecord[] {
    return this.#reports;
  }

  /** What the control API shows: the publications, without image bytes. */
  summary(): Record<string, unknown> {
    const image = this.#image;
    return {
      parameters: this.#parameters === undefined ? null : this.#parameters.values,
      image: image === undefined ? null : image.spec,
      reports: this.#reports.slice(-16),
    };
  }

  /** The answer to one TMS request of `tid` (its MAC already verified). */
  answer(tid: string, netCode: TmsNetCode, f62: Uint8Array | undefined, nowMs: number): TmsAnswerOut {
    const fetched = this.#fetched.get(tid) ?? { parameters: 0, manifest: 0 };
    switch (netCode) {
      case TMS_NET_CODES.parameters: {
        const published = this.#parameters;
        this.#fetched.set(tid, { ...fetched, parameters: this.#generation });
        return published === undefined ? { code: NOTHING_PUBLISHED } : { code: "00", f62: published.block };
      }
      case TMS_NET_CODES.parameterReport: {
        let report: ParameterReport;
        try {
          report = decodeParameterReport(f62);
        } catch (error) {
          if (error instanceof TmsError) return { code: "30" };
          throw error;
        }
        this.#reports.push({ tid, atMs: nowMs, ...report });
        if (this.#reports.length > REPORTS_KEPT_MAX) this.#reports.shift();
        return { code: "00" };
      }
      case TMS_NET_CODES.manifest: {
        const image = this.#image;
        this.#fetched.set(tid, { ...fetched, manifest: this.#generation });
        return image === undefined ? { code: NOTHING_PUBLISHED } : { code: "00", f62: encodeManifestAnswer(image.manifest) };
      }
      case TMS_NET_CODES.chunk: {
        let request;
        try {
          request = decodeChunkRequest(f62);
        } catch (error) {
          if (error instanceof TmsError) return { code: "30" };
          throw error;
        }
        const image = this.#image;
        if (image === undefined || image.spec.version !== request.version) return { code: NOTHING_PUBLISHED };
        if (request.offsetBytes >= image.spec.sizeBytes) return { code: "12" };
        const end = Math.min(request.offsetBytes + request.lengthBytes, image.spec.sizeBytes);
        return { code: "00", f62: encodeChunkAnswer(request.offsetBytes, image.served.subarray(request.offsetBytes, end)) };
      }
    }
  }
}
