/**
 * A Transport that records what passes through it as a TCP conversation in a
 * TcpCapture, seen from the terminal: the SYN when it connects, the handshake
 * when the link is up, every write and every chunk received with the clock's
 * time, and the FIN or RST that ended it (a refused connect or a failed TLS
 * handshake as the host's RST; a close by the host as its FIN). Wrapped
 * around the transport the terminal is given, so the frames are the
 * application's bytes whatever carries them (TLS included). A connection cut
 * by a power loss or a dead network stops where it stood.
 */
import type { Transport } from "../../modules/platform/transport";
import type { TcpCapture } from "./pcap";

export function capturingTransport(inner: Transport, capture: TcpCapture, epochMs: () => number): Transport {
  return {
    connect(endpoint, events) {
      const stream = capture.open(epochMs());
      const connection = inner.connect(endpoint, {
        onConnected() {
          stream.established(epochMs());
          events.onConnected();
        },
        onData(bytes) {
          stream.data(epochMs(), "host", bytes);
          events.onData(bytes);
        },
        onClosed(failure, detail) {
          if (failure === "handshake") stream.established(epochMs());
          if (failure === "closed") stream.close(epochMs(), "host");
          else stream.reset(epochMs(), "host");
          events.onClosed(failure, detail);
        },
      });
      return {
        write(bytes) {
          connection.write(bytes);
          stream.data(epochMs(), "terminal", bytes);
        },
        close() {
          stream.close(epochMs(), "terminal");
          connection.close();
        },
      };
    },
  };
}
