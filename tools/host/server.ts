/**
 * The host's network side: TCP (optionally TLS) on 127.0.0.1, 2-byte length
 * framing, and real timers carrying out the core's decisions. Connection
 * faults act before TLS starts, so a terminal sees them exactly as it would
 * see a refused connection or a failed handshake.
 *
 * Abuse limits (docs/host-simulator.md "Connections"): deadlines for the TLS
 * handshake, for the first byte of a connection's first frame and for a whole
 * frame once started; an idle limit counted from the last whole frame, which
 * bytes of a partial frame do not reset; and a connection cap that, when full,
 * sheds the oldest connection that has not yet sent a whole frame, else the
 * one idle longest, so a flood of silent connections cannot lock terminals out.
 *
 * Mutual TLS (`requireClientCertificate`): the client certificate must be
 * issued and signed by the terminal CA, valid now, for client authentication,
 * and name a TID (CN, 8 letters or digits); the core then answers a request
 * whose F41 is another TID with 58 and no effect.
 */
import crypto from "node:crypto";
import net from "node:net";
import tls from "node:tls";
import { frame, FrameReader, type HostDecision, type HostHandler } from "./decision";

export interface ConnectionLimits {
  /** Open connections at once; a new one past this sheds an old one (never refused). */
  readonly connectionsMax: number;
  /** From accept to a finished TLS handshake. */
  readonly handshakeTimeoutMs: number;
  /** From a ready connection to the first byte of its first frame. */
  readonly firstByteTimeoutMs: number;
  /** From a frame's first byte to its last. */
  readonly frameTimeoutMs: number;
  /** From the last whole frame (or the first) to the next whole frame; partial frames do not reset it. */
  readonly idleTimeoutMs: number;
}

export const CONNECTION_LIMITS: ConnectionLimits = Object.freeze({
  connectionsMax: 4096,
  handshakeTimeoutMs: 10_000,
  firstByteTimeoutMs: 10_000,
  frameTimeoutMs: 10_000,
  idleTimeoutMs: 300_000,
});

export interface HostServerOptions {
  readonly handler: HostHandler;
  /** PEM server certificate and key; absent = plain TCP (captures only). */
  readonly tls?: {
    readonly cert: string | Buffer;
    readonly key: string | Buffer;
    /** The terminal CA: client certificates must be issued by it (with requireClientCertificate). */
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
  /** Every whole message as the host took it in and as it wrote it out, unframed (the simulator's message log of a terminal it cannot tap). */
  readonly onMessage?: (direction: "received" | "sent", message: Uint8Array) => void;
  /** Tests shorten these; the defaults are CONNECTION_LIMITS. */
  readonly limits?: Partial<ConnectionLimits>;
  /** Told when a connection is dropped for a limit or a refused certificate (counters, logs). */
  readonly onDrop?: (reason: DropReason) => void;
  /** `delay` faults are held back this many times shorter (the simulator's time scale); default 1. */
  readonly delayScale?: () => number;
}

export type DropReason =
  "handshakeTimeout" | "firstByteTimeout" | "frameTimeout" | "idleTimeout" | "shed" | "clientCertificate" | "badFrame" | "handlerError";

/** Responses held back by `delay` at once; past this a connection asking for more is closed. */
export const DELAYED_RESPONSES_MAX = 10_000;
/** A TLS alert record: fatal (2), handshake_failure (40). */
const TLS_HANDSHAKE_FAILURE_ALERT = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
/**
 * TLS 1.2: ECDHE with AEAD only (AES-GCM, ChaCha20-Poly1305); TLS 1.3: its three standard suites.
 * The terminals' mbedtls configurations offer the same (hosts/esp32/tls-transport.c).
 */
export const TLS_CIPHERS = [
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");
const CLIENT_AUTH_OID = "1.3.6.1.5.5.7.3.2";
const TID_PATTERN = /^[0-9A-Za-z]{8}$/;

interface Connection {
  readonly raw: net.Socket;
  socket: net.Socket;
  readonly reader: FrameReader;
  /** TLS handshake done and the client certificate accepted (plain: at once). */
  ready: boolean;
  /** Has sent a whole frame: no longer first in line to be shed. */
  proven: boolean;
  peerTid: string | undefined;
  acceptedMs: number;
  /** When the connection became ready, or its last whole frame arrived. */
  lastFrameMs: number;
  /** When the frame being received started; -1 between frames. */
  frameStartMs: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class HostServer {
  readonly #options: HostServerOptions;
  readonly #limits: ConnectionLimits;
  readonly #server: net.Server;
  /** Every raw socket, tracked or not (refused and failed handshakes too): close() destroys them all. */
  readonly #sockets = new Set<net.Socket>();
  /** Not yet a whole frame, oldest first: shed first. */
  readonly #unproven = new Set<Connection>();
  /** Has sent frames, least recently active first. */
  readonly #proven = new Set<Connection>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #secureContext: tls.SecureContext | undefined;
  readonly #clientCa: crypto.X509Certificate | undefined;

  constructor(options: HostServerOptions) {
    this.#options = options;
    this.#limits = { ...CONNECTION_LIMITS, ...options.limits };
    const t = options.tls;
    this.#secureContext =
      t === undefined
        ? undefined
        : tls.createSecureContext({ cert: t.cert, key: t.key, ca: t.ca, ciphers: TLS_CIPHERS, minVersion: "TLSv1.2" });
    if (t?.requireClientCertificate === true && t.ca === undefined) throw new RangeError("mutual TLS needs the terminal CA");
    this.#clientCa = t?.requireClientCertificate === true ? new crypto.X509Certificate(t.ca!) : undefined;
    this.#server = net.createServer({ noDelay: true }, (socket) => this.#accept(socket));
  }

  /** Open connections (for tests and the abuse suite). */
  get connections(): number {
    return this.#unproven.size + this.#proven.size;
  }

  /** Starts listening; resolves with the bound address. */
  listen(): Promise<{ host: string; port: number }> {
    const host = this.#options.host ?? "127.0.0.1";
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      // A deep backlog: a burst of connects waits in the kernel rather than being reset.
      this.#server.listen({ port: this.#options.port ?? 0, host, backlog: 4096 }, () => {
        this.#server.off("error", reject);
        resolve({ host, port: (this.#server.address() as net.AddressInfo).port });
      });
    });
  }

  /** Stops listening, drops every connection and pending timer. */
  close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const connection of [...this.#unproven, ...this.#proven]) this.#drop(connection, undefined);
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #accept(raw: net.Socket): void {
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
    if (this.connections >= this.#limits.connectionsMax) this.#shed();
    const now = performance.now();
    const connection: Connection = {
      raw,
      socket: raw,
      reader: new FrameReader(),
      ready: false,
      proven: false,
      peerTid: undefined,
      acceptedMs: now,
      lastFrameMs: now,
      frameStartMs: -1,
      timer: undefined,
    };
    this.#unproven.add(connection);
    // The raw socket is what keeps the server open: forget the connection whatever closes it.
    raw.on("close", () => this.#forget(connection));
    if (this.#secureContext === undefined) {
      this.#ready(connection);
    } else {
      const secure = this.#wrapTls(raw);
      connection.socket = secure;
      secure.on("error", () => secure.destroy());
      secure.on("close", () => raw.destroy());
      secure.once("secure", () => this.#secured(connection, secure));
    }
    connection.socket.on("data", (chunk: Buffer) => this.#receive(connection, chunk));
    this.#arm(connection);
  }

  #wrapTls(raw: net.Socket): tls.TLSSocket {
    const requireClient = this.#clientCa !== undefined;
    return new tls.TLSSocket(raw, {
      isServer: true,
      secureContext: this.#secureContext,
      requestCert: requireClient,
      // With requestCert, this makes OpenSSL fail a handshake without a certificate; the chain itself
      // is checked in #secured (a bare TLSSocket does not act on verification errors).
      rejectUnauthorized: requireClient,
    } as tls.TLSSocketOptions);
  }

  #secured(connection: Connection, socket: tls.TLSSocket): void {
    if (this.#clientCa !== undefined) {
      const tid = this.#clientTid(socket.getPeerX509Certificate());
      if (tid === undefined) {
        this.#drop(connection, "clientCertificate");
        return;
      }
      connection.peerTid = tid;
    }
    this.#ready(connection);
  }

  /** The TID of an acceptable client certificate, else undefined. */
  #clientTid(certificate: crypto.X509Certificate | undefined): string | undefined {
    const ca = this.#clientCa!;
    if (certificate === undefined) return undefined;
    const nowMs = Date.now();
    if (!certificate.checkIssued(ca) || !certificate.verify(ca.publicKey)) return undefined;
    if (Date.parse(certificate.validFrom) > nowMs || Date.parse(certificate.validTo) < nowMs) return undefined;
    if (certificate.ca || !(certificate.keyUsage ?? []).includes(CLIENT_AUTH_OID)) return undefined;
    const cn = /^CN=(.*)$/m.exec(certificate.subject)?.[1];
    return cn !== undefined && TID_PATTERN.test(cn) ? cn : undefined;
  }

  #ready(connection: Connection): void {
    connection.ready = true;
    connection.lastFrameMs = performance.now();
    this.#arm(connection);
  }

  #receive(connection: Connection, chunk: Buffer): void {
    if (!connection.ready) {
      this.#drop(connection, "clientCertificate");
      return;
    }
    const startsFrame = connection.frameStartMs < 0;
    if (startsFrame) connection.frameStartMs = performance.now();
    let frames = 0;
    const problem = connection.reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), (message) => {
      frames++;
      this.#serve(connection, message);
    });
    if (problem !== undefined) {
      this.#drop(connection, "badFrame");
      return;
    }
    if (connection.socket.destroyed) return;
    if (frames > 0) {
      const now = performance.now();
      connection.lastFrameMs = now;
      connection.frameStartMs = connection.reader.buffered > 0 ? now : -1;
      connection.proven = true;
      // Most recently active last: the idle end of the set is shed first.
      this.#unproven.delete(connection);
      this.#proven.delete(connection);
      this.#proven.add(connection);
      this.#arm(connection);
    } else if (startsFrame) {
      this.#arm(connection);
    }
  }

  /** One timer per connection, set to its nearest deadline. */
  #arm(connection: Connection): void {
    if (connection.timer !== undefined) clearTimeout(connection.timer);
    const limits = this.#limits;
    let at: number;
    let reason: DropReason;
    if (!connection.ready) {
      at = connection.acceptedMs + limits.handshakeTimeoutMs;
      reason = "handshakeTimeout";
    } else if (connection.frameStartMs >= 0) {
      const frameEnd = connection.frameStartMs + limits.frameTimeoutMs;
      const idleEnd = connection.lastFrameMs + limits.idleTimeoutMs;
      at = Math.min(frameEnd, idleEnd);
      reason = frameEnd <= idleEnd ? "frameTimeout" : "idleTimeout";
    } else if (!connection.proven) {
      at = connection.lastFrameMs + limits.firstByteTimeoutMs;
      reason = "firstByteTimeout";
    } else {
      at = connection.lastFrameMs + limits.idleTimeoutMs;
      reason = "idleTimeout";
    }
    connection.timer = setTimeout(() => this.#drop(connection, reason), Math.max(0, at - performance.now()));
  }

  #shed(): void {
    const victim = this.#unproven.values().next().value ?? this.#proven.values().next().value;
    if (victim !== undefined) this.#drop(victim, "shed");
  }

  #drop(connection: Connection, reason: DropReason | undefined): void {
    this.#forget(connection);
    connection.socket.destroy();
    connection.raw.destroy();
    if (reason !== undefined) this.#options.onDrop?.(reason);
  }

  #forget(connection: Connection): void {
    if (connection.timer !== undefined) clearTimeout(connection.timer);
    connection.timer = undefined;
    this.#unproven.delete(connection);
    this.#proven.delete(connection);
  }

  #serve(connection: Connection, message: Uint8Array): void {
    const socket = connection.socket;
    if (socket.destroyed) return;
    let decision: HostDecision;
    this.#options.onMessage?.("received", message);
    try {
      const nowMs = (this.#options.nowMs ?? Date.now)();
      decision = this.#options.handler.handle(
        message,
        connection.peerTid === undefined ? { nowMs } : { nowMs, peerTid: connection.peerTid },
      );
    } catch {
      // The core has its own boundary; this one only keeps a transport bug from taking the others down.
      this.#drop(connection, "handlerError");
      return;
    }
    this.#options.onDecision?.(decision);
    const delivery = decision.delivery;
    if (decision.malformed !== undefined || delivery.kind === "close") {
      this.#drop(connection, undefined);
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
      for (let i = 0; i < delivery.copies; i++) this.#options.onMessage?.("sent", decision.response!);
    };
    if (delivery.delayMs === 0) {
      send();
      return;
    }
    if (this.#timers.size >= DELAYED_RESPONSES_MAX) {
      this.#drop(connection, undefined);
      return;
    }
    const timer = setTimeout(
      () => {
        this.#timers.delete(timer);
        send();
      },
      delivery.delayMs / (this.#options.delayScale?.() ?? 1),
    );
    this.#timers.add(timer);
  }
}
