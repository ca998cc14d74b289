/**
 * What @moddable/typings 5.6.0 lacks and this device room uses. Only
 * tsconfig.esp32.json reads this folder: the firmware manifest maps
 * hosts/esp32/* (top level), so an mcconfig build uses the SDK's own,
 * newer typings instead.
 */

/** XS native classes and functions (xs/includes/xs.d.ts in the SDK): string literals only, resolved by xsc. */
declare function Native(destructor: string): { new (): object };
declare function native(name: string): (...args: unknown[]) => unknown;

declare module "time" {
  const Time: {
    set(seconds: number): void;
    /** Milliseconds since boot, a 32-bit counter that wraps (about every 49.7 days). */
    readonly ticks: number;
    delta(start: number, end?: number): number;
  };
  export { Time as default };
}

/** The ECMA-419 Wi-Fi interface (typings/embedded_network/interface/wifi.d.ts of SDK 8.2.3; not in typings 5.6.0), as used here. */
declare module "embedded:network/interface/wifi" {
  export interface WiFiConstructorOptions {
    onChanged?: (property: "connection" | "address") => void;
  }
  class WiFi {
    constructor(options: WiFiConstructorOptions);
    close(): void;
    connect(options: { SSID: string; password?: string }): void;
    disconnect(): void;
    /** 200 disconnected, 300 connecting, 400 associated, 500 with an address (modules/io/wifi/esp32/wifi-esp32.c). */
    readonly connection: number;
    readonly address: string | undefined;
    readonly SSID: string | undefined;
    readonly RSSI: number | undefined;
  }
  export default WiFi;
}
