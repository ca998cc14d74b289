/**
 * The platform Transport on node:net and node:tls. Failures before the TLS
 * handshake completed are reported as `refused` or `handshake`: the core
 * relies on that distinction to know that no byte of a request left.
 * With `keyLogPath`, every TLS session's secrets are appended to that file in
 * the NSS key log format (SSLKEYLOGFILE), so Wireshark decrypts a raw capture.
 */
import fs from "node:fs";
import net from "node:net";
import tls from "node:tls";
import type { Connection, ConnectionEvents, Transport, TransportEndpoint, TransportFailure } from "../../modules/platform/transport";

export interface NodeTransportOptions {
  /** Append TLS secrets here (NSS key log format): a lab aid, the file decrypts every session it lists. */
  readonly keyLogPath?: string;
}

export class NodeTransport implements Transport {
  constructor(readonly options: NodeTransportOptions = {}) {}

  connect(endpoint: TransportEndpoint, events: ConnectionEvents): Connection {
    let connected = false;
    let closed = false;
    const finish = (failure: TransportFailure, detail: string): void => {
      if (closed) return;
      closed = true;
      socket.destroy();
      events.onClosed(failure, detail);
    };
    const socket: net.Socket =
      endpoint.tls === undefined
        ? net.connect({ host: endpoint.host, port: endpoint.port })
        : tls.connect({
            host: endpoint.host,
            port: endpoint.port,
            servername: endpoint.tls.serverName,
            ca: endpoint.tls.ca.map((c) => Buffer.from(c)),
            cert: endpoint.tls.clientCertificate ? Buffer.from(endpoint.tls.clientCertificate) : undefined,
            key: endpoint.tls.clientKey ? Buffer.from(endpoint.tls.clientKey) : undefined,
            minVersion: "TLSv1.2",
            rejectUnauthorized: true,
          });
    socket.setNoDelay(true);
    const keyLogPath = this.options.keyLogPath;
    if (keyLogPath !== undefined) socket.on("keylog", (line: Buffer) => fs.appendFileSync(keyLogPath, line));
    socket.once(endpoint.tls === undefined ? "connect" : "secureConnect", () => {
      connected = true;
      events.onConnected();
    });
    socket.on("data", (chunk: Buffer) => events.onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (connected) finish("reset", error.code ?? error.message);
      else if (error.code === "ECONNREFUSED" || error.code === "EHOSTUNREACH" || error.code === "ENETUNREACH")
        finish("refused", error.code);
      else finish(endpoint.tls === undefined ? "refused" : "handshake", error.code ?? error.message);
    });
    socket.on("close", () => finish(connected ? "closed" : endpoint.tls === undefined ? "refused" : "handshake", "closed by peer"));
    return {
      write(bytes: Uint8Array): void {
        if (closed || !connected) throw new Error("write on a connection that is not open");
        socket.write(bytes);
      },
      close(): void {
        if (closed) return;
        closed = true;
        socket.destroy();
      },
    };
  }
}
