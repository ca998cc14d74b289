/**
 * The host's network side: TCP (optionally TLS) on 127.0.0.1, 2-byte length
 * framing, and real timers carrying out the core's decisions. Connection
 * faults act before TLS starts, so a terminal sees them exactly as it would
 * see a refused connection or a failed handshake.
 */
import net from "node:net";
import tls from "node:tls";
import { frame, FrameReader, type HostDecision, type HostHandler } from "./decision";

export interface HostServerOptions {
  readonly handler: HostHandler;
  /** PEM server certificate and key; absent = plain TCP (captures only). */
  readonly tls?: {
    readonly cert: string | Buffer;
    readonly key: string | Buffer;
    readonly ca?: string | Buffer;
    readonly requireClientCertificate?: boolean;
  };
  readonly host?: string;
  /** 0 = any free port. */
  readonly port?: number;
  /** Wall clock by default; tests may pin it. */
  readonly nowMs?: () => number;
  /** Called for every message, after its decision (logging, counters). */
  readonly onDecision?: (decision: HostDecision) => void;
}

export const CONNECTIONS_MAX = 4096;
/** A terminal that says nothing this long is gone; its socket is freed. */
export const IDLE_TIMEOUT_MS = 300_000;
/** Responses held back by `delay` at once; past this a connection asking for more is closed. */
export const DELAYED_RESPONSES_MAX = 10_000;
/** A TLS alert record: fatal (2), handshake_failure (40). */
const TLS_HANDSHAKE_FAILURE_ALERT = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);

export class HostServer {
  readonly #options: HostServerOptions;
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #secureContext: tls.SecureContext | undefined;

  constructor(options: HostServerOptions) {
    this.#options = options;
    this.#secureContext =
      options.tls === undefined ? undefined : tls.createSecureContext({ cert: options.tls.cert, key: options.tls.key, ca: options.tls.ca });
    this.#server = net.createServer({ noDelay: true }, (socket) => this.#accept(socket));
    this.#server.maxConnections = CONNECTIONS_MAX;
  }

  /** Starts listening; resolves with the bound address. */
  listen(): Promise<{ host: string; port: number }> {
    const host = this.#options.host ?? "127.0.0.1";
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(this.#options.port ?? 0, host, () => {
        this.#server.off("error", reject);
        resolve({ host, port: (this.#server.address() as net.AddressInfo).port });
      });
    });
  }

  /** Stops listening, drops every connection and pending timer. */
  close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #accept(raw: net.Socket): void {
    // The raw socket is what keeps the server open: track it whatever happens above it.
    this.#sockets.add(raw);
    raw.on("close", () => this.#sockets.delete(raw));
    raw.on("error", () => raw.destroy());
    const verdict = this.#options.handler.admitConnection();
    if (verdict === "refuse") {
      // RST at once: the client sees ECONNRESET before any byte of TLS.
      raw.resetAndDestroy();
      return;
    }
    if (verdict === "handshakeFail") {
      raw.end(TLS_HANDSHAKE_FAILURE_ALERT);
      return;
    }
    const socket = this.#secureContext === undefined ? raw : this.#wrapTls(raw);
    socket.on("error", () => socket.destroy());
    socket.on("close", () => raw.destroy());
    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
    const reader = new FrameReader();
    socket.on("data", (chunk: Buffer) => {
      const problem = reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), (message) =>
        this.#serve(socket, message),
      );
      if (problem !== undefined) socket.destroy();
    });
  }

  #wrapTls(raw: net.Socket): tls.TLSSocket {
    const requireClient = this.#options.tls?.requireClientCertificate === true;
    return new tls.TLSSocket(raw, {
      isServer: true,
      secureContext: this.#secureContext,
      requestCert: requireClient,
      rejectUnauthorized: requireClient,
      minVersion: "TLSv1.2",
    } as tls.TLSSocketOptions);
  }

  #serve(socket: net.Socket, message: Uint8Array): void {
    if (socket.destroyed) return;
    const decision = this.#options.handler.handle(message, { nowMs: (this.#options.nowMs ?? Date.now)() });
    this.#options.onDecision?.(decision);
    const delivery = decision.delivery;
    if (decision.malformed !== undefined || delivery.kind === "close") {
      socket.destroy();
      return;
    }
    if (delivery.kind === "silent" || decision.response === undefined) return;
    const framed = Buffer.from(frame(decision.response));
    if (delivery.kind === "closeMidResponse") {
      socket.end(framed.subarray(0, delivery.bytes));
      return;
    }
    const send = (): void => {
      if (socket.destroyed || !socket.writable) return;
      socket.cork();
      for (let i = 0; i < delivery.copies; i++) socket.write(framed);
      socket.uncork();
    };
    if (delivery.delayMs === 0) {
      send();
      return;
    }
    if (this.#timers.size >= DELAYED_RESPONSES_MAX) {
      socket.destroy();
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      send();
    }, delivery.delayMs);
    this.#timers.add(timer);
  }
}
