/**
 * `xspos bench device`: XS heap and compute of one full sale on the ESP32's
 * module set (tools/checks/device-sale.ts), against the budget in
 * docs/device.md "Memory budget".
 */
import type { Benchmark } from "../cli/commands/bench";
import { measureDeviceSale } from "../checks/device-sale";

export const benchmark: Benchmark = {
  summary: "XS heap slots and compute of one sale on the device module set (hosts/esp32/terminal.ts on emulated flash and network)",
  async run() {
    const f = await measureDeviceSale();
    console.log(`preloaded rooms: ${f.preloadedSlots} slots (in flash on the device)`);
    console.log(`idle terminal (booted, signed on): ${f.idleTerminalSlots} live slots`);
    console.log(
      `one sale: live slots ≤ ${f.salePeakBoundSlots} at any instant (${f.salePeakSlots} between steps), ${f.saleRetainedSlots} retained, ${f.saleAllocatedSlots} allocated without GC`,
    );
    console.log(`one sale: XS compute ${f.saleCompute}, of which scripted host ${f.hostCompute}, terminal side ${f.engineCompute}`);
    console.log(
      `chunk bytes: not observable in xsnap (meter allocate changed by ${f.allocateBytes} bytes: its arena is reserved up front)`,
    );
    return { ...f };
  },
};
