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
 * length of 0 or above MESSAGE_BYTES_MAX is an error, so nothing grows past
 * one maximal frame. Each message body is allocated at its declared length
 * once the header is in and handed over as is (a chaos run opens thousands of
 * connections: no buffer of the largest frame per connection, no copy).
 */
export class FrameReader {
  readonly #header = new Uint8Array(FRAME_HEADER_BYTES);
  #headerFilled = 0;
  #body: Uint8Array | undefined;
  #bodyFilled = 0;
  /** A bad frame length ends the stream: every later push gets the same error. */
  #error: string | undefined;

  /** Feeds bytes; calls `onMessage` for each whole message. Returns an error text when the stream is not framed messages. */
  push(chunk: Uint8Array, onMessage: (message: Uint8Array) => void): string | undefined {
    let offset = 0;
    while (offset < chunk.length && this.#error === undefined) {
      if (this.#headerFilled < FRAME_HEADER_BYTES) {
        this.#header[this.#headerFilled++] = chunk[offset++];
        if (this.#headerFilled < FRAME_HEADER_BYTES) continue;
        const length = (this.#header[0] << 8) | this.#header[1];
        if (length === 0 || length > MESSAGE_BYTES_MAX) this.#error = `frame length ${length} is outside 1..${MESSAGE_BYTES_MAX}`;
        else this.#body = new Uint8Array(length);
        continue;
      }
      const body = this.#body!;
      const take = Math.min(body.length - this.#bodyFilled, chunk.length - offset);
      body.set(chunk.subarray(offset, offset + take), this.#bodyFilled);
      this.#bodyFilled += take;
      offset += take;
      if (this.#bodyFilled === body.length) {
        this.#headerFilled = 0;
        this.#body = undefined;
        this.#bodyFilled = 0;
        onMessage(body);
      }
    }
    return this.#error;
  }

  /** Bytes of a frame received so far (0 between frames). */
  get buffered(): number {
    return this.#headerFilled + this.#bodyFilled;
  }
}
