/**
 * The terminal's network in the live simulator: node:tls to the host, with a
 * switch the operator can pull (down: new connections are refused, open ones
 * reset), an added one-way latency, and a tap that sees every framed message
 * in both directions for the message log.
 */
import { FrameReader } from "../host/decision";
import type { Connection, ConnectionEvents, Transport, TransportEndpoint } from "../../modules/platform/transport";

export type Direction = "out" | "in";

export interface SimNetworkOptions {
  readonly transport: Transport;
  readonly onMessage: (direction: Direction, message: Uint8Array) => void;
  /** The added latency is on the terminal's clock: real time is this many times shorter (default 1). */
  readonly timeScale?: () => number;
}

const LATENCY_MS_MAX = 600_000;

/**
 * The page's network switch and added latency, whatever carries the terminal's connections: down resets
 * the open connections (each registered in `open` while it lives) and refuses new ones.
 */
export class NetworkSwitch {
  protected readonly open = new Set<{ reset(): void }>();
  #down = false;
  #latencyMs = 0;

  get down(): boolean {
    return this.#down;
  }

  get latencyMs(): number {
    return this.#latencyMs;
  }

  setDown(down: boolean): void {
    this.#down = down;
    if (down) for (const connection of [...this.open]) connection.reset();
  }

  setLatency(latencyMs: number): void {
    if (!Number.isInteger(latencyMs) || latencyMs < 0 || latencyMs > LATENCY_MS_MAX)
      throw new RangeError(`latency must be an integer from 0 to ${LATENCY_MS_MAX} ms`);
    this.#latencyMs = latencyMs;
  }
}

export class SimNetwork extends NetworkSwitch implements Transport {
  readonly #options: SimNetworkOptions;

  constructor(options: SimNetworkOptions) {
    super();
    this.#options = options;
  }

  connect(endpoint: TransportEndpoint, events: ConnectionEvents): Connection {
    if (this.down) {
      // Asynchronous, as a real refusal is: the caller gets its Connection first.
      let abandoned = false;
      setTimeout(() => abandoned || events.onClosed("refused", "network down"), 0);
      return { write: () => undefined, close: () => (abandoned = true) };
    }
    let closed = false;
    const timers = new Set<ReturnType<typeof setTimeout>>();
    const later = (action: () => void): void => {
      if (this.latencyMs === 0) return action();
      const timer = setTimeout(
        () => {
          timers.delete(timer);
          action();
        },
        this.latencyMs / (this.#options.timeScale?.() ?? 1),
      );
      timers.add(timer);
    };
    const shut = (): boolean => {
      if (closed) return false;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      this.open.delete(entry);
      return true;
    };
    const entry = {
      reset: () => {
        if (!shut()) return;
        inner.close();
        events.onClosed("reset", "network down");
      },
    };
    this.open.add(entry);
    const incoming = new FrameReader();
    const outgoing = new FrameReader();
    const inner = this.#options.transport.connect(endpoint, {
      onConnected: () => later(() => !closed && events.onConnected()),
      onData: (bytes) => {
        const copy = bytes.slice();
        later(() => {
          if (closed) return;
          incoming.push(copy, (message) => this.#options.onMessage("in", message));
          events.onData(copy);
        });
      },
      onClosed: (failure, detail) => later(() => shut() && events.onClosed(failure, detail)),
    });
    return {
      write: (bytes) => {
        if (closed) throw new Error("write on a closed connection");
        const copy = bytes.slice();
        outgoing.push(copy, (message) => this.#options.onMessage("out", message));
        later(() => {
          if (closed) return;
          try {
            inner.write(copy);
          } catch {
            // The connection went away during the added latency: its onClosed follows.
          }
        });
      },
      close: () => {
        if (shut()) inner.close();
      },
    };
  }
}
