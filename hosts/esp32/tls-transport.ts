/**
 * The platform Transport on a native non-blocking socket (tls-transport.c:
 * lwIP + ESP-IDF mbedtls). Nothing blocks: a Clock timer polls the socket to
 * advance connect and handshake, move received bytes to the core and flush
 * queued writes. Connect and response timeouts are the core's (it closes the
 * connection); this class bounds only its own queue and read burst.
 *
 * The fallback when mbedtls is not available is Moddable's own TLS socket
 * (docs/device.md "TLS fallback").
 */
import { assert, assertInteger } from "../../modules/base/assert";
import type { Clock, TimerHandle } from "../../modules/platform/clock";
import type { Connection, ConnectionEvents, Transport, TransportEndpoint, TransportFailure } from "../../modules/platform/transport";

/** Mirrors TLS_STATE_* in tls-transport.c. */
export const TLS_STATE = Object.freeze({
  idle: 0,
  connecting: 1,
  handshaking: 2,
  open: 3,
  refused: -1,
  handshakeFailed: -2,
  reset: -3,
  closed: -4,
});

/** What tls-transport.c offers; TlsTransport drives any implementation of it (the native one on the device). */
export interface SocketDriver {
  addCa(certificate: Uint8Array): void;
  setClientCertificate(certificate: Uint8Array, key: Uint8Array): void;
  /** Starts a non-blocking connect to an IPv4 literal; `serverName` undefined = plain TCP. */
  connect(address: string, port: number, serverName: string | undefined): void;
  poll(): number;
  /** Bytes read into `into`, 0 when none is ready, -1 once the connection is gone. */
  read(into: Uint8Array): number;
  /** Bytes accepted from `bytes[offset, offset+length)`, 0 = try later, -1 once gone. */
  write(bytes: Uint8Array, offset: number, length: number): number;
  readonly lastError: number;
  close(): void;
}

export class NativeSocket extends Native("xs_xspos_tls_destructor") implements SocketDriver {
  constructor() {
    super();
    native("xs_xspos_tls").call(this);
  }
  addCa(certificate: Uint8Array): void {
    native("xs_xspos_tls_add_ca").call(this, certificate);
  }
  setClientCertificate(certificate: Uint8Array, key: Uint8Array): void {
    native("xs_xspos_tls_set_client_certificate").call(this, certificate, key);
  }
  connect(address: string, port: number, serverName: string | undefined): void {
    native("xs_xspos_tls_connect").call(this, address, port, serverName);
  }
  poll(): number {
    return native("xs_xspos_tls_poll").call(this) as number;
  }
  read(into: Uint8Array): number {
    return native("xs_xspos_tls_read").call(this, into) as number;
  }
  write(bytes: Uint8Array, offset: number, length: number): number {
    return native("xs_xspos_tls_write").call(this, bytes, offset, length) as number;
  }
  get lastError(): number {
    return native("xs_xspos_tls_get_lastError").call(this) as number;
  }
  close(): void {
    native("xs_xspos_tls_close").call(this);
  }
}

export interface TlsTransportOptions {
  readonly clock: Clock;
  readonly openSocket?: () => SocketDriver;
  readonly pollIntervalMs?: number;
  /** Bytes queued for the stack at most; the core sends one message at a time, far below this. */
  readonly pendingBytesMax?: number;
  readonly readChunkBytes?: number;
  /** Reads per poll at most, so a flood cannot starve the event loop. */
  readonly readsPerPollMax?: number;
}

function failureOf(state: number, connected: boolean): TransportFailure {
  if (state === TLS_STATE.refused) return "refused";
  if (state === TLS_STATE.handshakeFailed) return "handshake";
  if (state === TLS_STATE.closed) return connected ? "closed" : "refused";
  return "reset";
}

class TlsConnection implements Connection {
  readonly #socket: SocketDriver;
  readonly #events: ConnectionEvents;
  readonly #clock: Clock;
  readonly #options: Required<Omit<TlsTransportOptions, "clock" | "openSocket">>;
  readonly #readBuffer: Uint8Array;
  readonly #pending: Uint8Array[] = [];
  #pendingOffset = 0;
  #pendingBytes = 0;
  #connected = false;
  #closed = false;
  #timer: TimerHandle | undefined;

  constructor(
    socket: SocketDriver,
    events: ConnectionEvents,
    clock: Clock,
    options: Required<Omit<TlsTransportOptions, "clock" | "openSocket">>,
  ) {
    this.#socket = socket;
    this.#events = events;
    this.#clock = clock;
    this.#options = options;
    this.#readBuffer = new Uint8Array(options.readChunkBytes);
    this.#timer = this.#clock.schedule(0, () => this.#poll());
  }

  write(bytes: Uint8Array): void {
    if (this.#closed || !this.#connected) throw new Error("write on a connection that is not open");
    if (this.#pendingBytes + bytes.length > this.#options.pendingBytesMax)
      throw new Error(`write queue full (${this.#options.pendingBytesMax} bytes)`);
    this.#pending.push(bytes.slice());
    this.#pendingBytes += bytes.length;
    this.#flush();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop();
  }

  #stop(): void {
    if (this.#timer !== undefined) this.#clock.cancel(this.#timer);
    this.#timer = undefined;
    this.#socket.close();
    for (const chunk of this.#pending) chunk.fill(0);
    this.#pending.length = 0;
    this.#pendingBytes = 0;
    this.#readBuffer.fill(0);
  }

  #finish(state: number): void {
    if (this.#closed) return;
    const failure = failureOf(state, this.#connected);
    const detail = `socket state ${state}, error ${this.#socket.lastError}`;
    this.#closed = true;
    this.#stop();
    this.#events.onClosed(failure, detail);
  }

  #poll(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    const state = this.#socket.poll();
    if (state < 0) return this.#finish(state);
    if (state === TLS_STATE.open && !this.#connected) {
      this.#connected = true;
      this.#events.onConnected();
      if (this.#closed) return;
    }
    if (this.#connected) {
      for (let reads = 0; reads < this.#options.readsPerPollMax; reads++) {
        const count = this.#socket.read(this.#readBuffer);
        if (count < 0) return this.#finish(this.#socket.poll());
        if (count === 0) break;
        // The read buffer is reused: the core gets its own copy.
        this.#events.onData(this.#readBuffer.slice(0, count));
        if (this.#closed) return;
      }
      this.#flush();
      if (this.#closed) return;
    }
    this.#timer = this.#clock.schedule(this.#options.pollIntervalMs, () => this.#poll());
  }

  #flush(): void {
    while (this.#pending.length > 0) {
      const chunk = this.#pending[0];
      const sent = this.#socket.write(chunk, this.#pendingOffset, chunk.length - this.#pendingOffset);
      if (sent < 0) return this.#finish(this.#socket.poll());
      if (sent === 0) return;
      this.#pendingOffset += sent;
      this.#pendingBytes -= sent;
      if (this.#pendingOffset === chunk.length) {
        this.#pending.shift();
        this.#pendingOffset = 0;
      }
    }
  }
}

export class TlsTransport implements Transport {
  readonly #clock: Clock;
  readonly #openSocket: () => SocketDriver;
  readonly #options: Required<Omit<TlsTransportOptions, "clock" | "openSocket">>;

  constructor(options: TlsTransportOptions) {
    this.#clock = options.clock;
    this.#openSocket = options.openSocket ?? (() => new NativeSocket());
    this.#options = {
      pollIntervalMs: options.pollIntervalMs ?? 10,
      pendingBytesMax: options.pendingBytesMax ?? 16_384,
      readChunkBytes: options.readChunkBytes ?? 1024,
      readsPerPollMax: options.readsPerPollMax ?? 16,
    };
    assertInteger(this.#options.pollIntervalMs, 1, 1000, "pollIntervalMs");
    assertInteger(this.#options.pendingBytesMax, 1, 65_536, "pendingBytesMax");
    assertInteger(this.#options.readChunkBytes, 16, 16_384, "readChunkBytes");
    assertInteger(this.#options.readsPerPollMax, 1, 256, "readsPerPollMax");
  }

  connect(endpoint: TransportEndpoint, events: ConnectionEvents): Connection {
    assertInteger(endpoint.port, 1, 65535, "port");
    const socket = this.#openSocket();
    const tls = endpoint.tls;
    if (tls !== undefined) {
      assert(tls.ca.length > 0, "TLS needs at least one pinned CA");
      for (const certificate of tls.ca) socket.addCa(certificate);
      if (tls.clientCertificate !== undefined && tls.clientKey !== undefined)
        socket.setClientCertificate(tls.clientCertificate, tls.clientKey);
    }
    socket.connect(endpoint.host, endpoint.port, tls?.serverName);
    return new TlsConnection(socket, events, this.#clock, this.#options);
  }
}
