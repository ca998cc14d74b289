/**
 * The Wi-Fi link under the acquirer transport, watched through the ECMA-419
 * network interface (`embedded:network/interface/wifi`, which the SDK's
 * manifest_net brings in; its setup/network joins `config.ssid` before main
 * runs). When the link comes back (an IP address again after a loss) the
 * terminal hears `linkRestored()`, as the scenario runner's network "up":
 * owed reversals go out then instead of waiting for the next sale. When the
 * station loses its access point the interface does not rejoin on its own,
 * so this does, with a backoff. Free of native calls: main.ts hands in the
 * interface's constructor, tests a stand-in.
 */
import { assert } from "../../modules/base/assert";
import type { Clock, TimerHandle } from "../../modules/platform/clock";
import type { Logger } from "../../modules/platform/log";
import type { LinkStatus } from "../../modules/ui/terminal-ui";

/** `connection` of the ESP32 interface (modules/io/wifi/esp32/wifi-esp32.c `xs_wifi419_connection_get`). */
export const WIFI_CONNECTION = Object.freeze({ disconnected: 200, connecting: 300, associated: 400, addressed: 500 });

/** Delays before each rejoin after the access point was lost; the last one repeats (a terminal never gives up its link). */
export const REJOIN_DELAYS_MS = Object.freeze([1_000, 2_000, 5_000, 10_000, 30_000]);

/** What this needs of the interface: the instance main.ts opens with `new WiFi({ onChanged })`. */
export interface WifiInterface {
  readonly connection: number;
  /** dBm while associated, undefined otherwise. */
  readonly RSSI: number | undefined;
  connect(options: { SSID: string; password?: string }): void;
  close(): void;
}

export interface WifiLinkOptions {
  readonly clock: Clock;
  readonly log: Logger;
  /** Opens the interface; `onChanged` runs on each change of its connection or address. */
  readonly open: (onChanged: () => void) => WifiInterface;
  /** The network to rejoin (the build's `config.ssid` / `config.password`); none: the link is watched, never rejoined. */
  readonly join?: { readonly SSID: string; readonly password?: string };
  /** The link is back after a loss: the terminal's `linkRestored()`. */
  readonly onRestored: () => void;
}

export class WifiLink {
  readonly #options: WifiLinkOptions;
  readonly #wifi: WifiInterface;
  #up: boolean;
  #rejoins = 0;
  #rejoin: TimerHandle | undefined;

  constructor(options: WifiLinkOptions) {
    assert(options.join === undefined || options.join.SSID.length > 0, "WifiLink: an SSID to rejoin");
    this.#options = options;
    this.#wifi = options.open(() => this.#changed());
    // setup/network joined before main: the link may already be up, which is no restoration.
    this.#up = this.#wifi.connection >= WIFI_CONNECTION.addressed;
  }

  /** For the network check (检查网络连接): link state and signal strength. */
  status(): LinkStatus {
    const rssi = this.#wifi.RSSI;
    return rssi === undefined ? { up: this.#up } : { up: this.#up, rssiDbm: rssi };
  }

  close(): void {
    if (this.#rejoin !== undefined) this.#options.clock.cancel(this.#rejoin);
    this.#rejoin = undefined;
    this.#wifi.close();
  }

  #changed(): void {
    const connection = this.#wifi.connection;
    const up = connection >= WIFI_CONNECTION.addressed;
    if (up && !this.#up) {
      this.#up = true;
      this.#rejoins = 0;
      this.#options.log.info("wifi: link up", { rssiDbm: this.#wifi.RSSI });
      this.#options.onRestored();
    } else if (!up && this.#up) {
      this.#up = false;
      this.#options.log.warn("wifi: link down", { connection });
    }
    if (connection <= WIFI_CONNECTION.disconnected) this.#scheduleRejoin();
  }

  /** One rejoin at a time, after the backoff for the rejoins spent since the link was last up. */
  #scheduleRejoin(): void {
    const join = this.#options.join;
    if (join === undefined || this.#rejoin !== undefined) return;
    const delayMs = REJOIN_DELAYS_MS[Math.min(this.#rejoins, REJOIN_DELAYS_MS.length - 1)];
    this.#rejoins++;
    this.#rejoin = this.#options.clock.schedule(delayMs, () => {
      this.#rejoin = undefined;
      // Joined meanwhile, or a join already under way (connect() would throw "already connecting").
      if (this.#wifi.connection > WIFI_CONNECTION.disconnected) return;
      try {
        this.#wifi.connect(join.password === undefined ? { SSID: join.SSID } : { SSID: join.SSID, password: join.password });
      } catch (error) {
        this.#options.log.warn("wifi: rejoin refused", { error: error instanceof Error ? error.message : String(error) });
        this.#scheduleRejoin();
      }
    });
  }
}
