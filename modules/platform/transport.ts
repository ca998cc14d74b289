/**
 * A byte stream to the acquirer host. The device binds it to mbedtls over
 * lwIP, the simulator to node:tls or to an emulated network. The core frames
 * messages itself and enforces every timeout with its Clock.
 */
export interface TlsOptions {
  /** PEM or DER certificates the server must chain to (pinned CA). */
  readonly ca: readonly Uint8Array[];
  /** Name the server certificate must carry. */
  readonly serverName: string;
  /** Client certificate and key for mutual TLS, when the acquirer asks for it. */
  readonly clientCertificate?: Uint8Array;
  readonly clientKey?: Uint8Array;
}

export interface TransportEndpoint {
  readonly host: string;
  readonly port: number;
  /** Absent = plain TCP (captures and tests only). */
  readonly tls?: TlsOptions;
}

/**
 * Why a connection ended. `refused` and `handshake` happen before any
 * application byte can have left: they never need a reversal.
 */
export type TransportFailure = "refused" | "handshake" | "reset" | "closed";

export interface ConnectionEvents {
  /** TCP connected and, with TLS, the handshake verified the server. */
  onConnected(): void;
  onData(bytes: Uint8Array): void;
  /** The connection is gone; no callback follows. */
  onClosed(failure: TransportFailure, detail: string): void;
}

export interface Connection {
  /** Queues bytes; returns when they were handed to the stack. Throws when closed. */
  write(bytes: Uint8Array): void;
  close(): void;
}

export interface Transport {
  connect(endpoint: TransportEndpoint, events: ConnectionEvents): Connection;
}
