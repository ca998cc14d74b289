/**
 * The network between the Linux terminal and the host on the page: a TCP
 * relay on 127.0.0.1 the terminal is provisioned to connect to, passing the
 * TLS bytes through untouched (the terminal checks the host's certificate
 * end to end). The page's switch acts here as on the Node terminal's
 * network (network.ts): down refuses new connections (reset at once) and
 * resets the open ones; the added one-way latency holds every chunk back.
 * The messages themselves are encrypted here: the message log takes them
 * from the host's side (HostAppOptions.onMessage).
 */
import net from "node:net";
import { NetworkSwitch } from "./network";

export interface LinkProxyOptions {
  /** Where the host listens. */
  readonly target: { readonly host: string; readonly port: number };
  /** The added latency is on the terminal's clock: real time is this many times shorter. */
  readonly timeScale: () => number;
}

/** A terminal keeps one or two connections; anything past this is refused. */
const CONNECTIONS_MAX = 16;

export class LinkProxy extends NetworkSwitch {
  readonly #options: LinkProxyOptions;
  readonly #server: net.Server;

  constructor(options: LinkProxyOptions) {
    super();
    this.#options = options;
    this.#server = net.createServer((socket) => this.#accept(socket));
  }

  /** Listens on a free port of 127.0.0.1; the terminal is provisioned with it. */
  async listen(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = this.#server.address() as net.AddressInfo;
    return { host: address.address, port: address.port };
  }

  async close(): Promise<void> {
    for (const relay of [...this.open]) relay.reset();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(terminal: net.Socket): void {
    if (this.down || this.open.size >= CONNECTIONS_MAX) return void terminal.resetAndDestroy();
    const host = net.connect(this.#options.target.port, this.#options.target.host);
    const timers = new Set<ReturnType<typeof setTimeout>>();
    const relay: { reset(): void } = {
      reset: () => {
        if (!this.open.delete(relay)) return;
        for (const timer of timers) clearTimeout(timer);
        terminal.resetAndDestroy();
        host.resetAndDestroy();
      },
    };
    this.open.add(relay);
    const later = (action: () => void) => {
      if (this.latencyMs === 0) return action();
      const timer = setTimeout(() => {
        timers.delete(timer);
        action();
      }, this.latencyMs / this.#options.timeScale());
      timers.add(timer);
    };
    const pass = (from: net.Socket, to: net.Socket) => {
      from.on("data", (chunk: Buffer) => later(() => to.writable && to.write(chunk)));
      // An orderly end goes through after the data before it; an error resets both sides.
      from.on("end", () => later(() => to.end()));
      from.on("error", () => relay.reset());
      from.on("close", () =>
        later(() => {
          this.open.delete(relay);
          to.end();
        }),
      );
    };
    pass(terminal, host);
    pass(host, terminal);
  }
}
