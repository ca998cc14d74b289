/**
 * The TMS dialect of CUP network management (docs/tms.md): 0800/0810 with a network management code
 * (60.3) per request, the payload binary in F62 (CUP b...512, LLLVAR), MAC'd in F64 under the working MAK
 * both ways. This file is the payload codec: pure functions over F62 bytes, each answer checked against
 * its request, anything else a TmsError. The exchange itself (STAN, MAC, link) is the engine's.
 */
import { TmsError } from "./errors";
import { parseVersion, readU16, readU32, writeU32, writeVersion } from "./manifest";
import { MAX_IMAGE_BYTES, MAX_IMAGE_CHUNK_BYTES } from "./source";

/** 60.3 of each TMS request. 360 is CUP's 参数传递; 361, 390 and 391 are xspos's own. */
export const TMS_NET_CODES = Object.freeze({
  parameters: "360",
  parameterReport: "361",
  manifest: "390",
  chunk: "391",
} as const);
export type TmsNetCode = (typeof TMS_NET_CODES)[keyof typeof TMS_NET_CODES];

export function isTmsNetCode(code: string): code is TmsNetCode {
  return code === "360" || code === "361" || code === "390" || code === "391";
}

/** F62 of CUP is b...512. */
export const F62_BYTES_MAX = 512;
/** 25 (无原始交易 in CUP, here "nothing published"): no parameters, no image, or the image asked for is gone. */
export const NOTHING_PUBLISHED = "25";
export const CHUNK_REQUEST_BYTES = 12;
const CHUNK_OFFSET_BYTES = 4;
/** A refusal's reason in the report is cut to this many ASCII bytes. */
export const REPORT_REASON_BYTES_MAX = 96;

/** What the engine hands back of a TMS 0810: its response code and F62 (the MAC and 60.3 already checked). */
export interface TmsAnswer {
  readonly f39: string;
  readonly f62?: Uint8Array;
}

/** The port the TMS client sends through (the engine): one 0800 of `netCode` with F62 `payload`, `done` exactly once. */
export interface TmsExchange {
  tmsExchange(netCode: TmsNetCode, payload: Uint8Array | undefined, done: (answer: TmsAnswer | TmsError) => void): void;
}

/** F62 of an answer that must carry one: 00 with F62, 25 (undefined), or a TmsError. */
export function publishedPayload(answer: TmsAnswer, what: string): Uint8Array | undefined {
  if (answer.f39 === NOTHING_PUBLISHED) return undefined;
  if (answer.f39 !== "00") throw new TmsError("declined", `${what}: response code ${answer.f39}`);
  if (answer.f62 === undefined || answer.f62.length === 0) throw new TmsError("malformed", `${what}: the approval carries no F62`);
  return answer.f62;
}

export interface ChunkRequest {
  readonly version: string;
  readonly offsetBytes: number;
  readonly lengthBytes: number;
}

/** F62 of a chunk request: version (3 x u16), offset (u32), length (u16), big-endian. */
export function encodeChunkRequest(request: ChunkRequest): Uint8Array {
  const version = parseVersion(request.version);
  if (version === undefined) throw new TmsError("badRequest", "version must be major.minor.patch");
  checkRange(request.offsetBytes, request.lengthBytes, MAX_IMAGE_BYTES);
  const out = new Uint8Array(CHUNK_REQUEST_BYTES);
  writeVersion(out, 0, version);
  writeU32(out, 6, request.offsetBytes);
  out[10] = request.lengthBytes >> 8;
  out[11] = request.lengthBytes & 0xff;
  return out;
}

/** The host's side of encodeChunkRequest: a TmsError (malformed) for anything that is not one. */
export function decodeChunkRequest(f62: Uint8Array | undefined): ChunkRequest {
  if (f62 === undefined || f62.length !== CHUNK_REQUEST_BYTES)
    throw new TmsError("malformed", `a chunk request is ${CHUNK_REQUEST_BYTES} bytes, got ${f62?.length ?? 0}`);
  const request = {
    version: `${readU16(f62, 0)}.${readU16(f62, 2)}.${readU16(f62, 4)}`,
    offsetBytes: readU32(f62, 6),
    lengthBytes: readU16(f62, 10),
  };
  if (request.lengthBytes < 1 || request.lengthBytes > MAX_IMAGE_CHUNK_BYTES)
    throw new TmsError("malformed", `a chunk is 1..${MAX_IMAGE_CHUNK_BYTES} bytes, ${request.lengthBytes} asked`);
  return request;
}

/** F62 of a chunk answer: the offset it answers (u32), then the bytes. */
export function encodeChunkAnswer(offsetBytes: number, data: Uint8Array): Uint8Array {
  if (data.length < 1 || data.length > MAX_IMAGE_CHUNK_BYTES)
    throw new TmsError("badRequest", `a chunk is 1..${MAX_IMAGE_CHUNK_BYTES} bytes`);
  const out = new Uint8Array(CHUNK_OFFSET_BYTES + data.length);
  writeU32(out, 0, offsetBytes);
  out.set(data, CHUNK_OFFSET_BYTES);
  return out;
}

/**
 * The bytes of a chunk answer, checked against the request: the same offset, and exactly
 * min(length, size - offset) bytes (never more, never fewer, so a chunk can be written where it was asked).
 */
export function decodeChunkAnswer(f62: Uint8Array, offsetBytes: number, lengthBytes: number, sizeBytes: number): Uint8Array {
  checkRange(offsetBytes, lengthBytes, sizeBytes);
  const expected = Math.min(lengthBytes, sizeBytes - offsetBytes);
  if (f62.length < CHUNK_OFFSET_BYTES) throw new TmsError("malformed", `a chunk answer is at least ${CHUNK_OFFSET_BYTES + 1} bytes`);
  const answered = readU32(f62, 0);
  if (answered !== offsetBytes) throw new TmsError("mismatch", `chunk at ${answered} answers a request for ${offsetBytes}`);
  const got = f62.length - CHUNK_OFFSET_BYTES;
  if (got !== expected) throw new TmsError("malformed", `chunk at ${offsetBytes}: ${got} bytes, ${expected} expected`);
  return f62.slice(CHUNK_OFFSET_BYTES);
}

function checkRange(offsetBytes: number, lengthBytes: number, sizeBytes: number): void {
  if (!Number.isInteger(lengthBytes) || lengthBytes < 1 || lengthBytes > MAX_IMAGE_CHUNK_BYTES)
    throw new TmsError("badRequest", `a chunk is 1..${MAX_IMAGE_CHUNK_BYTES} bytes, ${lengthBytes} asked`);
  if (!Number.isInteger(offsetBytes) || offsetBytes < 0 || offsetBytes >= sizeBytes)
    throw new TmsError("badRequest", `offset ${offsetBytes} is outside the image (0..${sizeBytes - 1})`);
}

export interface ParameterReport {
  readonly applied: boolean;
  /** CRC-32 of the parameter block the report is about (modules/base/crc32). */
  readonly blockCrc32: number;
  /** Why a block was refused: printable ASCII, cut to REPORT_REASON_BYTES_MAX. */
  readonly reason?: string;
}

/** F62 of a parameter report: status (0 applied, 1 refused), the block's CRC-32 (u32), the reason in ASCII. */
export function encodeParameterReport(report: ParameterReport): Uint8Array {
  const reason = report.reason ?? "";
  const length = Math.min(reason.length, REPORT_REASON_BYTES_MAX);
  const out = new Uint8Array(5 + length);
  out[0] = report.applied ? 0 : 1;
  writeU32(out, 1, report.blockCrc32 >>> 0);
  for (let i = 0; i < length; i++) {
    const c = reason.charCodeAt(i);
    out[5 + i] = c >= 0x20 && c <= 0x7e ? c : 0x3f; // '?' for anything not printable ASCII
  }
  return out;
}

export function decodeParameterReport(f62: Uint8Array | undefined): ParameterReport {
  if (f62 === undefined || f62.length < 5 || f62.length > 5 + REPORT_REASON_BYTES_MAX || f62[0] > 1)
    throw new TmsError("malformed", "a parameter report is a status byte 0/1, a CRC-32 and at most 96 bytes of reason");
  let reason = "";
  for (let i = 5; i < f62.length; i++) {
    if (f62[i] < 0x20 || f62[i] > 0x7e) throw new TmsError("malformed", `parameter report: a non-ASCII byte at ${i}`);
    reason += String.fromCharCode(f62[i]);
  }
  return { applied: f62[0] === 0, blockCrc32: readU32(f62, 1), ...(reason !== "" ? { reason } : {}) };
}
