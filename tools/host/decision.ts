/**
 * What the host core tells a transport to do. The core is pure and
 * synchronous; a transport (node:tls here, an emulated network in the
 * scenario and chaos runners) carries the decision out with its own timers.
 */
import type { Fault } from "./faults";

export type Delivery =
  /** Send the response `delayMs` after the request arrived, `copies` times back to back. */
  | { readonly kind: "respond"; readonly delayMs: number; readonly copies: 1 | 2 }
  /** Keep the connection open and never answer. */
  | { readonly kind: "silent" }
  /** Close the connection without answering. */
  | { readonly kind: "close" }
  /** Send the first `bytes` bytes of the framed response, then close. */
  | { readonly kind: "closeMidResponse"; readonly bytes: number };

export interface HostDecision {
  /** MTI of the request when it decoded far enough to have one. */
  readonly requestMti: string | undefined;
  /** Unframed response (TPDU, header, MTI, fields); absent when nothing is to be sent. */
  readonly response: Uint8Array | undefined;
  readonly delivery: Delivery;
  /** The fault applied to this message, if one was scheduled. */
  readonly fault: Fault | undefined;
  /** Whether the host processed the request (ledger effect applied where the message has one). */
  readonly processed: boolean;
  /** Set when the bytes were not a message: the transport closes this connection and nothing else. */
  readonly malformed: string | undefined;
}

/** What to do with a new connection attempt, before TLS. */
export type ConnectionVerdict = "accept" | "refuse" | "handshakeFail";

export interface HandleContext {
  /** Wall or virtual time: stamps the ledger and F12/F13. */
  readonly nowMs: number;
  /** Under mutual TLS: the TID the client certificate names (CN). A request with another F41 is answered 58 and changes nothing. */
  readonly peerTid?: string;
}

/** The transport-facing side of the host. */
export interface HostHandler {
  admitConnection(): ConnectionVerdict;
  handle(request: Uint8Array, context: HandleContext): HostDecision;
}

/** 2-byte big-endian length prefix (docs/cup-dialect.md "Framing"). */
export const FRAME_HEADER_BYTES = 2;
/** CUP POS messages stay well under 2 KB; anything larger is not a message from a terminal. */
export const MESSAGE_BYTES_MAX = 4096;

export function frame(message: Uint8Array): Uint8Array {
  if (message.length === 0 || message.length > MESSAGE_BYTES_MAX)
    throw new RangeError(`message of ${message.length} bytes cannot be framed`);
  const out = new Uint8Array(FRAME_HEADER_BYTES + message.length);
  out[0] = message.length >> 8;
  out[1] = message.length & 0xff;
  out.set(message, FRAME_HEADER_BYTES);
  return out;
}

/**
 * Splits a byte stream into length-prefixed messages. Bounded: a declared
 * length of 0 or above MESSAGE_BYTES_MAX is an error, so the buffer never
 * grows past one maximal frame.
 */
export class FrameReader {
  readonly #buffer = new Uint8Array(FRAME_HEADER_BYTES + MESSAGE_BYTES_MAX);
  #filled = 0;

  /** Feeds bytes; calls `onMessage` for each whole message. Returns an error text when the stream is not framed messages. */
  push(chunk: Uint8Array, onMessage: (message: Uint8Array) => void): string | undefined {
    let offset = 0;
    while (offset < chunk.length) {
      const room = this.#needed() - this.#filled;
      const take = Math.min(room, chunk.length - offset);
      this.#buffer.set(chunk.subarray(offset, offset + take), this.#filled);
      this.#filled += take;
      offset += take;
      if (this.#filled < FRAME_HEADER_BYTES) continue;
      const length = (this.#buffer[0] << 8) | this.#buffer[1];
      if (length === 0 || length > MESSAGE_BYTES_MAX) return `frame length ${length} is outside 1..${MESSAGE_BYTES_MAX}`;
      if (this.#filled === FRAME_HEADER_BYTES + length) {
        onMessage(this.#buffer.slice(FRAME_HEADER_BYTES, this.#filled));
        this.#filled = 0;
      }
    }
    return undefined;
  }

  /** Bytes of a frame received so far (0 between frames). */
  get buffered(): number {
    return this.#filled;
  }

  #needed(): number {
    if (this.#filled < FRAME_HEADER_BYTES) return FRAME_HEADER_BYTES;
    return FRAME_HEADER_BYTES + ((this.#buffer[0] << 8) | this.#buffer[1]);
  }
}
