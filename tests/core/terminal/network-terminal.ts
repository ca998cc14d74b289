/**
 * One terminal assembly against the host core on the emulated network (keys loaded, flash blank, clock
 * virtual): the rig of the terminal suites that need no update slots. Pure, so it runs in Node and in XS.
 */
import { fromHex } from "../../../modules/base/hex";
import { MemoryKeyStore } from "../../../modules/crypto/key-store";
import { SecretKey } from "../../../modules/crypto/keys";
import { EmulatedNetwork } from "../../../modules/emulators/network";
import { NorFlash } from "../../../modules/emulators/nor-flash";
import { SIMULATION_EPOCH_MS, VirtualWallClock } from "../../../modules/emulators/virtual-wall-clock";
import { SeededRandom } from "../../../modules/platform/random";
import { VirtualClock } from "../../../modules/platform/virtual-clock";
import { resolveParameters } from "../../../modules/terminal/parameters";
import { STATE_SECTORS, Terminal, type TerminalOptions } from "../../../modules/terminal/terminal";
import { HostCore } from "../../../tools/host/core";
import { DEFAULT_TERMINALS, registry } from "../../../tools/host/terminals";
import { MemoryLedger } from "../../../tools/scenario/memory-ledger";
import { serveHost } from "../../../tools/scenario/runner";

export const TEST_TERMINAL = DEFAULT_TERMINALS[0];

export interface NetworkTerminal {
  readonly terminal: Terminal;
  readonly clock: VirtualClock;
  readonly random: SeededRandom;
  readonly wallClock: VirtualWallClock;
}

/** A terminal built (not booted) with `overrides` over the defaults: default parameters, 8 journal sectors. */
export function terminalOnNetwork(overrides: Partial<TerminalOptions> = {}): NetworkTerminal {
  const clock = new VirtualClock();
  const host = new HostCore({ ledger: new MemoryLedger(), terminals: registry(DEFAULT_TERMINALS), random: new SeededRandom(7) });
  const network = new EmulatedNetwork({ clock, latencyMs: 5, accept: (c) => serveHost(host, clock, c) });
  const keys = new MemoryKeyStore();
  const random = new SeededRandom(5);
  keys.saveMasterKey(new SecretKey("tdes", TEST_TERMINAL.tmk));
  const wallClock = new VirtualWallClock(() => SIMULATION_EPOCH_MS + clock.nowMs());
  const terminal = new Terminal({
    clock,
    transport: network,
    endpoint: { host: "acquirer.test", port: 5000, tls: { ca: [fromHex("00")], serverName: "acquirer.test" } },
    flash: new NorFlash({ sectorCount: 8 + STATE_SECTORS, blockSize: 4096, seed: 3 }),
    random,
    keys,
    dataKey: keys.loadDataKey(random),
    identity: { terminalId: TEST_TERMINAL.tid, merchantId: TEST_TERMINAL.mid, ifdSerial: "XSPOS001" },
    parameters: resolveParameters({}),
    wallClock,
    ...overrides,
  });
  return { terminal, clock, random, wallClock };
}
