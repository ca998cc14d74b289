/**
 * An emulated network between the terminal and a server-side handler, on a
 * Clock (a VirtualClock in tests and scenarios). It implements the platform
 * Transport, so the host link cannot tell it from mbedtls over lwIP, and it
 * can fail in every way the reversal logic must survive: the network down,
 * a refused connection, a failed TLS handshake, latency, and a connection
 * reset after any byte in either direction.
 *
 * Bytes written in one direction arrive in order, `latencyMs` later, in one
 * chunk per write (a reset mid-write delivers the prefix before it).
 */
import { assert, assertInteger } from "../base/assert";
import type { Clock } from "../platform/clock";
import type { Connection, ConnectionEvents, Transport, TransportEndpoint, TransportFailure } from "../platform/transport";

/** The server's view of one accepted connection. */
export interface ServerConnection {
  readonly id: number;
  /** Sends bytes to the terminal. Ignored once the connection is gone. */
  write(bytes: Uint8Array): void;
  /** Closes the connection from the server side (the terminal sees "closed"). */
  close(): void;
}

export interface ServerConnectionEvents {
  onData(bytes: Uint8Array): void;
  onClosed(): void;
}

/** Called for each connection that completes its handshake. */
export type AcceptHandler = (connection: ServerConnection) => ServerConnectionEvents;

export type ConnectFault = "refused" | "handshake";
export type Direction = "toServer" | "toTerminal";

export interface EmulatedNetworkOptions {
  readonly clock: Clock;
  readonly accept: AcceptHandler;
  /** One-way delay of every packet. */
  readonly latencyMs?: number;
  /** Upper bound on connections open at once; more is a leak in the caller. */
  readonly connectionsMax?: number;
}

const LATENCY_MS_MAX = 10 * 60 * 1000;
const WRITE_BYTES_MAX = 64 * 1024;

interface Link {
  readonly id: number;
  readonly events: ConnectionEvents;
  server: ServerConnectionEvents | undefined;
  open: boolean;
  /** Bytes still allowed in each direction before a reset; undefined = unlimited. */
  budgetToServer: number | undefined;
  budgetToTerminal: number | undefined;
  /** Delivery times stay ordered even when the latency changes mid-flight. */
  lastDueToServerMs: number;
  lastDueToTerminalMs: number;
}

export class EmulatedNetwork implements Transport {
  readonly #clock: Clock;
  readonly #accept: AcceptHandler;
  readonly #connectionsMax: number;
  #latencyMs: number;
  #down = false;
  #refusing: ConnectFault | undefined;
  #nextId = 1;
  readonly #links: Link[] = [];
  readonly #connectFaults: ConnectFault[] = [];
  #dropToServerAfterBytes: number | undefined;
  #dropToTerminalAfterBytes: number | undefined;
  #bytesToServer = 0;
  #bytesToTerminal = 0;

  constructor(options: EmulatedNetworkOptions) {
    this.#clock = options.clock;
    this.#accept = options.accept;
    this.#latencyMs = options.latencyMs ?? 5;
    this.#connectionsMax = options.connectionsMax ?? 8;
    assertInteger(this.#latencyMs, 0, LATENCY_MS_MAX, "latencyMs");
  }

  /** Total bytes the terminal has written and the server has written, since the start. */
  get bytesToServer(): number {
    return this.#bytesToServer;
  }
  get bytesToTerminal(): number {
    return this.#bytesToTerminal;
  }
  get openConnections(): number {
    return this.#links.length;
  }

  setLatency(latencyMs: number): void {
    assertInteger(latencyMs, 0, LATENCY_MS_MAX, "latencyMs");
    this.#latencyMs = latencyMs;
  }

  /**
   * Down: nothing gets through. Connection attempts go unanswered (the
   * terminal's connect timeout decides) and bytes in flight are lost; open
   * connections are not told, as with a cable pulled somewhere upstream.
   */
  setDown(down: boolean): void {
    this.#down = down;
  }

  /**
   * While set, every connection attempt without a queued fault fails this way,
   * after one round trip, even with the network down: a link that is gone
   * (Wi-Fi lost: the stack refuses at once) or a gateway answering RST.
   */
  setRefusing(fault: ConnectFault | undefined): void {
    this.#refusing = fault;
  }

  /** The next connection attempt fails this way (queued, in order). */
  failNextConnect(fault: ConnectFault): void {
    assert(this.#connectFaults.length < 16, "EmulatedNetwork: too many queued connect faults");
    this.#connectFaults.push(fault);
  }

  /** Resets the next connection after `bytes` more bytes in `direction` (0 = before the first byte). */
  dropAfter(direction: Direction, bytes: number): void {
    assertInteger(bytes, 0, WRITE_BYTES_MAX, "bytes");
    if (direction === "toServer") this.#dropToServerAfterBytes = bytes;
    else this.#dropToTerminalAfterBytes = bytes;
  }

  /** Drops every open connection at once (both sides are told: reset). */
  resetAll(): void {
    for (const link of [...this.#links]) this.#reset(link, "network reset");
  }

  connect(_endpoint: TransportEndpoint, events: ConnectionEvents): Connection {
    assert(this.#links.length < this.#connectionsMax, "EmulatedNetwork: too many open connections");
    const link: Link = {
      id: this.#nextId++,
      events,
      server: undefined,
      open: true,
      budgetToServer: this.#dropToServerAfterBytes,
      budgetToTerminal: this.#dropToTerminalAfterBytes,
      lastDueToServerMs: 0,
      lastDueToTerminalMs: 0,
    };
    this.#dropToServerAfterBytes = undefined;
    this.#dropToTerminalAfterBytes = undefined;
    this.#links.push(link);
    const fault = this.#connectFaults.shift();
    const refusing = this.#refusing;
    if (fault === undefined && refusing !== undefined) this.#clock.schedule(2 * this.#latencyMs, () => this.#refuse(link, refusing));
    else if (!this.#down) {
      // SYN and SYN-ACK, then (TLS) one more round trip for the handshake.
      const handshakeMs = 4 * this.#latencyMs;
      this.#clock.schedule(fault === "refused" ? 2 * this.#latencyMs : handshakeMs, () => this.#establish(link, fault));
    }
    return {
      write: (bytes) => this.#writeFromTerminal(link, bytes),
      close: () => this.#closeFromTerminal(link),
    };
  }

  #establish(link: Link, fault: ConnectFault | undefined): void {
    if (!link.open) return;
    if (this.#down) return; // the handshake is lost; the terminal's timeout decides
    if (fault !== undefined) return this.#refuse(link, fault);
    const server: ServerConnection = {
      id: link.id,
      write: (bytes) => this.#writeFromServer(link, bytes),
      close: () => this.#closeFromServer(link),
    };
    link.server = this.#accept(server);
    if (link.open) link.events.onConnected();
  }

  #refuse(link: Link, fault: ConnectFault): void {
    if (!link.open) return;
    this.#remove(link);
    link.events.onClosed(fault, fault === "refused" ? "connection refused" : "TLS handshake failed");
  }

  #writeFromTerminal(link: Link, bytes: Uint8Array): void {
    if (!link.open) throw new Error("EmulatedNetwork: write on a closed connection");
    assert(link.server !== undefined, "EmulatedNetwork: write before the connection was established");
    assertInteger(bytes.length, 0, WRITE_BYTES_MAX, "write length");
    const { sent, reset } = this.#spend(link, "toServer", bytes.length);
    this.#bytesToServer += sent;
    if (sent > 0 && !this.#down) {
      const chunk = bytes.slice(0, sent);
      const dueMs = Math.max(this.#clock.nowMs() + this.#latencyMs, link.lastDueToServerMs);
      link.lastDueToServerMs = dueMs;
      this.#clock.schedule(dueMs - this.#clock.nowMs(), () => {
        if (link.open && link.server !== undefined) link.server.onData(chunk);
      });
    }
    if (reset) this.#scheduleReset(link, link.lastDueToServerMs);
  }

  #writeFromServer(link: Link, bytes: Uint8Array): void {
    if (!link.open) return;
    assertInteger(bytes.length, 0, WRITE_BYTES_MAX, "write length");
    const { sent, reset } = this.#spend(link, "toTerminal", bytes.length);
    this.#bytesToTerminal += sent;
    if (sent > 0 && !this.#down) {
      const chunk = bytes.slice(0, sent);
      const dueMs = Math.max(this.#clock.nowMs() + this.#latencyMs, link.lastDueToTerminalMs);
      link.lastDueToTerminalMs = dueMs;
      this.#clock.schedule(dueMs - this.#clock.nowMs(), () => {
        if (link.open) link.events.onData(chunk);
      });
    }
    if (reset) this.#scheduleReset(link, link.lastDueToTerminalMs);
  }

  /** How many of `length` bytes pass before the drop budget runs out. */
  #spend(link: Link, direction: Direction, length: number): { sent: number; reset: boolean } {
    const budget = direction === "toServer" ? link.budgetToServer : link.budgetToTerminal;
    if (budget === undefined) return { sent: length, reset: false };
    const sent = Math.min(budget, length);
    const left = budget - sent;
    if (direction === "toServer") link.budgetToServer = left;
    else link.budgetToTerminal = left;
    return { sent, reset: sent < length || (left === 0 && length > 0) };
  }

  #scheduleReset(link: Link, afterDueMs: number): void {
    const delayMs = Math.max(afterDueMs, this.#clock.nowMs() + this.#latencyMs) - this.#clock.nowMs();
    this.#clock.schedule(delayMs, () => this.#reset(link, "connection reset by the network"));
  }

  #reset(link: Link, detail: string): void {
    if (!link.open) return;
    this.#remove(link);
    link.server?.onClosed();
    link.events.onClosed("reset", detail);
  }

  #closeFromTerminal(link: Link): void {
    if (!link.open) return;
    this.#remove(link);
    const server = link.server;
    if (server !== undefined) this.#clock.schedule(this.#latencyMs, () => server.onClosed());
  }

  #closeFromServer(link: Link): void {
    if (!link.open) return;
    // The FIN follows the bytes already in flight.
    const dueMs = Math.max(this.#clock.nowMs() + this.#latencyMs, link.lastDueToTerminalMs);
    link.lastDueToTerminalMs = dueMs;
    this.#clock.schedule(dueMs - this.#clock.nowMs(), () => this.#finish(link, "closed", "closed by the host"));
  }

  #finish(link: Link, failure: TransportFailure, detail: string): void {
    if (!link.open) return;
    this.#remove(link);
    link.server?.onClosed();
    link.events.onClosed(failure, detail);
  }

  #remove(link: Link): void {
    link.open = false;
    const index = this.#links.indexOf(link);
    if (index >= 0) this.#links.splice(index, 1);
  }
}
