/**
 * The host link: one request/response exchange at a time with the acquirer
 * host over a Transport (TLS with a pinned CA, optional client certificate,
 * both given in the endpoint), with 2-byte big-endian length framing.
 *
 * What the reversal logic needs from it, and gets exactly:
 * - whether ANY byte of the request may have left. Only failures proven to
 *   precede the write (connect refused, TLS handshake failed, connect timeout,
 *   network down) report `notSent`; everything after the write is `noResponse`.
 * - a response deadline counted from the moment the request's last byte was
 *   handed to the stack. A response arriving at or after it is late.
 * - correlation by response MTI + F11 + F41. A late, mismatched or duplicate
 *   response is discarded and reported through `onDiscard`; the link never
 *   hands one to the engine as an answer.
 *
 * The connection is kept open between exchanges (a late answer to an expired
 * request is then seen and reported) and closed after `idleCloseMs` idle.
 */
import { assert, assertInteger } from "../base/assert";
import type { Clock, TimerHandle } from "../platform/clock";
import type { Connection, Transport, TransportEndpoint, TransportFailure } from "../platform/transport";

/** What identifies an answer: response MTI, F11 (STAN) and F41 (terminal id). */
export interface CorrelationKey {
  readonly mti: string;
  readonly stan: string;
  readonly tid: string;
}

/** Reads the correlation key of a received message; undefined when it cannot be read. */
export type ReadCorrelationKey = (message: Uint8Array) => CorrelationKey | undefined;

export type DiscardReason = "late" | "mismatch" | "duplicate";

export type ExchangeOutcome =
  | { readonly kind: "response"; readonly message: Uint8Array; readonly key: CorrelationKey }
  /** Nothing of the request left the terminal: no reversal is ever needed. */
  | { readonly kind: "notSent"; readonly failure: "refused" | "handshake" | "connectTimeout" | "busy"; readonly detail: string }
  /** The request may have reached the host and no valid answer came. */
  | { readonly kind: "noResponse"; readonly failure: "timeout" | "closed" | "reset" | "protocol"; readonly detail: string };

export interface ExchangeRequest {
  /** The framed-less message (TPDU onward); the link adds the length prefix. */
  readonly message: Uint8Array;
  /** The key the answer must carry. */
  readonly expect: CorrelationKey;
  /**
   * Runs synchronously just before the first byte is written, after the
   * connection is up: the engine makes its reversal record durable here. If
   * it throws, nothing is written and the exception propagates.
   */
  readonly beforeWrite?: () => void;
  /** The request's last byte was handed to the stack; the deadline is running. */
  readonly onWritten?: (writtenAtMs: number, deadlineMs: number) => void;
}

export interface HostLinkOptions {
  readonly transport: Transport;
  readonly clock: Clock;
  readonly endpoint: TransportEndpoint;
  readonly readKey: ReadCorrelationKey;
  /** TCP connect plus TLS handshake. */
  readonly connectTimeoutMs: number;
  /** From the request's last byte written to the response's arrival. */
  readonly responseTimeoutMs: number;
  /** Largest message accepted or sent, without the 2-byte prefix. */
  readonly frameBytesMax?: number;
  readonly idleCloseMs?: number;
  /** A received message that is not the answer to the current exchange. */
  readonly onDiscard?: (reason: DiscardReason, key: CorrelationKey | undefined, message: Uint8Array) => void;
}

/** Framing violations and oversized messages: the connection is dropped. */
export class FrameError extends Error {
  override readonly name = "FrameError";
  constructor(
    readonly lengthBytes: number,
    readonly frameBytesMax: number,
  ) {
    super(`frame of ${lengthBytes} bytes exceeds the limit of ${frameBytesMax}`);
  }
}

const TIMEOUT_MS_MAX = 10 * 60 * 1000;
/** Keys of answered and expired exchanges remembered to classify stray answers. */
const RECENT_KEYS_MAX = 16;

interface Pending {
  readonly request: ExchangeRequest;
  readonly done: (outcome: ExchangeOutcome) => void;
  written: boolean;
  deadlineMs: number;
  timer: TimerHandle | undefined;
}

interface RecentKey {
  readonly key: CorrelationKey;
  readonly state: "answered" | "expired";
}

export function sameKey(a: CorrelationKey, b: CorrelationKey): boolean {
  return a.mti === b.mti && a.stan === b.stan && a.tid === b.tid;
}

export class HostLink {
  readonly #options: HostLinkOptions;
  readonly #frameBytesMax: number;
  readonly #idleCloseMs: number;
  #connectTimeoutMs: number;
  #responseTimeoutMs: number;
  #connection: Connection | undefined;
  #connected = false;
  #pending: Pending | undefined;
  #idleTimer: TimerHandle | undefined;
  readonly #recent: RecentKey[] = [];
  /** Reassembly buffer, reused: prefix + the largest frame. */
  readonly #rx: Uint8Array;
  #rxLength = 0;

  constructor(options: HostLinkOptions) {
    assertInteger(options.connectTimeoutMs, 1, TIMEOUT_MS_MAX, "connectTimeoutMs");
    assertInteger(options.responseTimeoutMs, 1, TIMEOUT_MS_MAX, "responseTimeoutMs");
    this.#options = options;
    this.#connectTimeoutMs = options.connectTimeoutMs;
    this.#responseTimeoutMs = options.responseTimeoutMs;
    this.#frameBytesMax = options.frameBytesMax ?? 2048;
    this.#idleCloseMs = options.idleCloseMs ?? options.responseTimeoutMs;
    assertInteger(this.#frameBytesMax, 16, 0xffff, "frameBytesMax");
    this.#rx = new Uint8Array(this.#frameBytesMax + 2);
  }

  /** New deadlines (a parameter download): they apply from the next exchange, never to one on the way. */
  setTimeouts(connectTimeoutMs: number, responseTimeoutMs: number): void {
    assertInteger(connectTimeoutMs, 1, TIMEOUT_MS_MAX, "connectTimeoutMs");
    assertInteger(responseTimeoutMs, 1, TIMEOUT_MS_MAX, "responseTimeoutMs");
    this.#connectTimeoutMs = connectTimeoutMs;
    this.#responseTimeoutMs = responseTimeoutMs;
  }

  get busy(): boolean {
    return this.#pending !== undefined;
  }

  /** Milliseconds left before the current request's deadline; undefined before it is written. */
  remainingMs(): number | undefined {
    const pending = this.#pending;
    if (pending === undefined || !pending.written) return undefined;
    return Math.max(0, pending.deadlineMs - this.#options.clock.nowMs());
  }

  /** Starts one exchange; `done` is called exactly once, never synchronously. */
  exchange(request: ExchangeRequest, done: (outcome: ExchangeOutcome) => void): void {
    assert(request.message.length <= this.#frameBytesMax, "HostLink: request larger than frameBytesMax");
    if (this.#pending !== undefined) {
      this.#options.clock.schedule(0, () => done({ kind: "notSent", failure: "busy", detail: "another exchange is running" }));
      return;
    }
    const pending: Pending = { request, done, written: false, deadlineMs: 0, timer: undefined };
    this.#pending = pending;
    this.#cancelIdle();
    if (this.#connection !== undefined && this.#connected) {
      this.#options.clock.schedule(0, () => {
        if (this.#pending === pending) this.#write(pending);
      });
      return;
    }
    this.#open(pending);
  }

  /** Closes the connection; a running exchange ends as it would on a reset. */
  close(): void {
    const connection = this.#connection;
    if (connection === undefined) return;
    this.#dropConnection();
    connection.close();
    this.#failPending("closed", "closed by the terminal");
  }

  #open(pending: Pending): void {
    const options = this.#options;
    this.#rxLength = 0;
    this.#connected = false;
    const connectTimeoutMs = this.#connectTimeoutMs;
    pending.timer = options.clock.schedule(connectTimeoutMs, () => {
      if (this.#pending !== pending || pending.written) return;
      const connection = this.#connection;
      this.#dropConnection();
      connection?.close();
      this.#finish(pending, { kind: "notSent", failure: "connectTimeout", detail: `no connection within ${connectTimeoutMs} ms` });
    });
    const connection = options.transport.connect(options.endpoint, {
      onConnected: () => {
        if (this.#connection !== connection) return;
        this.#connected = true;
        if (this.#pending === pending && !pending.written) {
          this.#cancelTimer(pending);
          this.#write(pending);
        }
      },
      onData: (bytes) => {
        if (this.#connection === connection) this.#receive(bytes);
      },
      onClosed: (failure, detail) => {
        if (this.#connection !== connection) return;
        this.#dropConnection();
        this.#onClosed(failure, detail);
      },
    });
    this.#connection = connection;
  }

  #write(pending: Pending): void {
    const connection = this.#connection;
    assert(connection !== undefined && this.#connected, "HostLink: write without a connection");
    pending.request.beforeWrite?.();
    const message = pending.request.message;
    const frame = new Uint8Array(message.length + 2);
    frame[0] = message.length >> 8;
    frame[1] = message.length & 0xff;
    frame.set(message, 2);
    try {
      connection.write(frame);
    } catch (error) {
      // The stack refused the bytes outright: the connection was already gone.
      this.#dropConnection();
      this.#finish(pending, { kind: "notSent", failure: "refused", detail: `write failed: ${(error as Error).message}` });
      return;
    }
    const nowMs = this.#options.clock.nowMs();
    pending.written = true;
    const responseTimeoutMs = this.#responseTimeoutMs;
    pending.deadlineMs = nowMs + responseTimeoutMs;
    pending.timer = this.#options.clock.schedule(responseTimeoutMs, () => {
      if (this.#pending !== pending) return;
      this.#remember(pending.request.expect, "expired");
      this.#finish(pending, { kind: "noResponse", failure: "timeout", detail: `no answer within ${responseTimeoutMs} ms` });
    });
    pending.request.onWritten?.(nowMs, pending.deadlineMs);
  }

  #onClosed(failure: TransportFailure, detail: string): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    if (!pending.written) {
      // Refused or handshake failure: proven to precede transmission.
      const notSentFailure = failure === "handshake" ? "handshake" : "refused";
      this.#finish(pending, { kind: "notSent", failure: notSentFailure, detail });
      return;
    }
    this.#remember(pending.request.expect, "expired");
    this.#finish(pending, { kind: "noResponse", failure: failure === "reset" ? "reset" : "closed", detail });
  }

  #receive(bytes: Uint8Array): void {
    let offset = 0;
    while (offset < bytes.length) {
      const take = Math.min(bytes.length - offset, this.#rx.length - this.#rxLength);
      this.#rx.set(bytes.subarray(offset, offset + take), this.#rxLength);
      this.#rxLength += take;
      offset += take;
      if (!this.#extractFrames()) return;
    }
  }

  /** Delivers every complete frame in the buffer; false when the connection was dropped. */
  #extractFrames(): boolean {
    while (this.#rxLength >= 2) {
      const length = (this.#rx[0] << 8) | this.#rx[1];
      if (length === 0 || length > this.#frameBytesMax) {
        const error = new FrameError(length, this.#frameBytesMax);
        const connection = this.#connection;
        this.#dropConnection();
        connection?.close();
        this.#failPending("protocol", error.message);
        return false;
      }
      if (this.#rxLength < length + 2) return true;
      const message = this.#rx.slice(2, 2 + length);
      this.#rx.copyWithin(0, 2 + length, this.#rxLength);
      this.#rxLength -= 2 + length;
      this.#deliver(message);
    }
    return true;
  }

  #deliver(message: Uint8Array): void {
    const key = this.#options.readKey(message);
    const pending = this.#pending;
    const nowMs = this.#options.clock.nowMs();
    if (key !== undefined && pending !== undefined && pending.written && sameKey(key, pending.request.expect)) {
      if (nowMs >= pending.deadlineMs) {
        // Arrived with its deadline timer in the same millisecond: late, whichever fires first.
        this.#remember(key, "expired");
        this.#options.onDiscard?.("late", key, message);
        this.#finish(pending, { kind: "noResponse", failure: "timeout", detail: "answer arrived at the deadline" });
        return;
      }
      this.#remember(key, "answered");
      this.#finish(pending, { kind: "response", message, key });
      return;
    }
    const recent = key === undefined ? undefined : this.#recent.find((r) => sameKey(r.key, key));
    const reason: DiscardReason = recent === undefined ? "mismatch" : recent.state === "expired" ? "late" : "duplicate";
    this.#options.onDiscard?.(reason, key, message);
  }

  #remember(key: CorrelationKey, state: RecentKey["state"]): void {
    const index = this.#recent.findIndex((r) => sameKey(r.key, key));
    if (index >= 0) this.#recent.splice(index, 1);
    if (this.#recent.length >= RECENT_KEYS_MAX) this.#recent.shift();
    this.#recent.push({ key, state });
  }

  #failPending(failure: "closed" | "protocol", detail: string): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    if (!pending.written) {
      this.#finish(pending, { kind: "notSent", failure: "refused", detail });
      return;
    }
    this.#remember(pending.request.expect, "expired");
    this.#finish(pending, { kind: "noResponse", failure, detail });
  }

  #finish(pending: Pending, outcome: ExchangeOutcome): void {
    assert(this.#pending === pending, "HostLink: finishing an exchange that is not current");
    this.#cancelTimer(pending);
    this.#pending = undefined;
    if (this.#connection !== undefined) this.#scheduleIdleClose();
    pending.done(outcome);
  }

  #scheduleIdleClose(): void {
    this.#cancelIdle();
    this.#idleTimer = this.#options.clock.schedule(this.#idleCloseMs, () => {
      this.#idleTimer = undefined;
      if (this.#pending === undefined) this.close();
    });
  }

  #cancelIdle(): void {
    if (this.#idleTimer !== undefined) this.#options.clock.cancel(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  #cancelTimer(pending: Pending): void {
    if (pending.timer !== undefined) this.#options.clock.cancel(pending.timer);
    pending.timer = undefined;
  }

  #dropConnection(): void {
    this.#connection = undefined;
    this.#connected = false;
    this.#rxLength = 0;
    this.#cancelIdle();
  }
}
