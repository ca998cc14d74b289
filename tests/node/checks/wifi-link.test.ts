/**
 * hosts/esp32/wifi-link.ts: the ECMA-419 Wi-Fi interface's changes become the
 * terminal's linkRestored() (only on a return after a loss), the network
 * check's link line, and rejoins with a backoff once the access point is lost.
 */
import { REJOIN_DELAYS_MS, WIFI_CONNECTION, WifiLink, type WifiInterface } from "../../../hosts/esp32/wifi-link";
import { Logger, MemoryLogSink } from "../../../modules/platform/log";
import { VirtualClock } from "../../../modules/platform/virtual-clock";

/** Stands in for `new WiFi({ onChanged })`: connection and RSSI set by the test, changes announced as the driver does. */
class FakeWifi implements WifiInterface {
  connection: number = WIFI_CONNECTION.addressed;
  RSSI: number | undefined = -61;
  readonly joins: { SSID: string; password?: string }[] = [];
  closed = false;
  refuseJoin = false;
  onChanged: () => void = () => undefined;

  connect(options: { SSID: string; password?: string }): void {
    if (this.refuseJoin) throw new Error("already connecting");
    this.joins.push(options);
    this.connection = WIFI_CONNECTION.connecting;
  }
  close(): void {
    this.closed = true;
  }
  set(connection: number): void {
    this.connection = connection;
    this.onChanged();
  }
}

/** `join` null: no network configured (a default parameter would turn undefined into the default). */
function setup(initial: number, join: { SSID: string; password?: string } | null = { SSID: "shop", password: "secret" }) {
  const clock = new VirtualClock();
  const wifi = new FakeWifi();
  wifi.connection = initial;
  const sink = new MemoryLogSink();
  let restored = 0;
  const link = new WifiLink({
    clock,
    log: new Logger(sink),
    open: (onChanged) => {
      wifi.onChanged = onChanged;
      return wifi;
    },
    join: join ?? undefined,
    onRestored: () => restored++,
  });
  return { clock, wifi, link, sink, restored: () => restored };
}

describe("WifiLink", () => {
  test("a link already up at boot is no restoration; a return after a loss is, once", () => {
    const { wifi, restored, link } = setup(WIFI_CONNECTION.addressed);
    expect(restored()).toBe(0);
    expect(link.status()).toEqual({ up: true, rssiDbm: -61 });
    wifi.set(WIFI_CONNECTION.associated); // address lost, still associated
    expect(link.status().up).toBe(false);
    wifi.set(WIFI_CONNECTION.addressed);
    expect(restored()).toBe(1);
    // An address change while up (a new lease) is no second restoration.
    wifi.set(WIFI_CONNECTION.addressed);
    expect(restored()).toBe(1);
  });

  test("a link that comes up after boot is restored (the join of setup/network finished late)", () => {
    const { wifi, restored } = setup(WIFI_CONNECTION.connecting);
    wifi.set(WIFI_CONNECTION.associated);
    expect(restored()).toBe(0);
    wifi.set(WIFI_CONNECTION.addressed);
    expect(restored()).toBe(1);
  });

  test("a lost access point is rejoined after the backoff, longer each time, reset once the link is up", () => {
    const { clock, wifi, restored } = setup(WIFI_CONNECTION.addressed);
    wifi.set(WIFI_CONNECTION.disconnected);
    clock.advance(REJOIN_DELAYS_MS[0] - 1);
    expect(wifi.joins).toHaveLength(0);
    clock.advance(1);
    expect(wifi.joins).toEqual([{ SSID: "shop", password: "secret" }]);
    // The join fails: the driver reports disconnected again, the next wait is longer.
    wifi.set(WIFI_CONNECTION.disconnected);
    clock.advance(REJOIN_DELAYS_MS[1] - 1);
    expect(wifi.joins).toHaveLength(1);
    clock.advance(1);
    expect(wifi.joins).toHaveLength(2);
    wifi.set(WIFI_CONNECTION.addressed);
    expect(restored()).toBe(1);
    // Lost again: the backoff starts over.
    wifi.set(WIFI_CONNECTION.disconnected);
    clock.advance(REJOIN_DELAYS_MS[0]);
    expect(wifi.joins).toHaveLength(3);
  });

  test("the backoff stops growing at its last delay; one rejoin is pending at a time", () => {
    const { clock, wifi } = setup(WIFI_CONNECTION.addressed);
    for (let i = 0; i < REJOIN_DELAYS_MS.length + 2; i++) {
      wifi.set(WIFI_CONNECTION.disconnected);
      wifi.set(WIFI_CONNECTION.disconnected); // a second report while waiting adds no timer
      expect(clock.pendingCount).toBe(1);
      clock.advance(REJOIN_DELAYS_MS[Math.min(i, REJOIN_DELAYS_MS.length - 1)]);
      expect(wifi.joins).toHaveLength(i + 1);
    }
  });

  test("a refused join is logged and tried again later; no network configured: watched only", () => {
    const refused = setup(WIFI_CONNECTION.addressed);
    refused.wifi.refuseJoin = true;
    refused.wifi.set(WIFI_CONNECTION.disconnected);
    refused.clock.advance(REJOIN_DELAYS_MS[0]);
    expect(refused.sink.lines.some((l) => l.includes("wifi: rejoin refused"))).toBe(true);
    expect(refused.clock.pendingCount).toBe(1);
    expect(refused.sink.lines.join("\n")).not.toContain("secret");

    const watched = setup(WIFI_CONNECTION.addressed, null);
    watched.wifi.set(WIFI_CONNECTION.disconnected);
    expect(watched.clock.pendingCount).toBe(0);
    watched.wifi.RSSI = undefined;
    expect(watched.link.status()).toEqual({ up: false });
  });

  test("close cancels a pending rejoin and closes the interface", () => {
    const { clock, wifi, link } = setup(WIFI_CONNECTION.addressed);
    wifi.set(WIFI_CONNECTION.disconnected);
    link.close();
    expect(clock.pendingCount).toBe(0);
    expect(wifi.closed).toBe(true);
  });
});
