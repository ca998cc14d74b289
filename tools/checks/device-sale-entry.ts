/**
 * Runs inside XS (bundled by tools/checks/device-sale.ts): the ESP32 terminal
 * of hosts/esp32/terminal.ts — the code main.ts starts, without the native
 * bindings — on emulated NOR flash (18 sectors of 4 KiB, the journal
 * partition), an emulated network and a virtual clock, against a tiny
 * scripted host. One sale: the amount keyed in, a UnionPay track 2 swiped
 * into the capture buffer, the PIN keyed in, 0200 out, 0210 back, result.
 *
 * Entry points (globals), one XS crank each, driven from Node:
 * - `deviceSetup()`: boots the terminal and signs on (not measured).
 * - `deviceSale()`: the whole sale in one crank.
 * - `deviceSaleInput()` until it returns false, then `deviceSaleStep()` until it
 *   returns true: the same sale one operator input, then one timer, per crank
 *   (as on the device, where each key and the swipe is its own callback), with
 *   a GC after each, for the live heap.
 * - `deviceHostWork()`: the scripted host's answer to the sale request again,
 *   so its compute can be taken out of the sale's.
 */
import { fromHex, toHex } from "../../modules/base/hex";
import { findTestCard, track2Text } from "../../modules/card/test-cards";
import { MemoryKeyStore } from "../../modules/crypto/key-store";
import { SecretKey } from "../../modules/crypto/keys";
import { cupEcbMac } from "../../modules/crypto/mac";
import { encodeTrack } from "../../modules/emulators/msr-reader";
import { EmulatedNetwork, type ServerConnection, type ServerConnectionEvents } from "../../modules/emulators/network";
import { NorFlash } from "../../modules/emulators/nor-flash";
import { SIMULATION_EPOCH_MS, VirtualWallClock } from "../../modules/emulators/virtual-wall-clock";
import { Iso8583Codec, type IsoFields, type IsoMessage } from "../../modules/iso8583/codec";
import { CUP } from "../../modules/iso8583/dialect";
import { responseTpdu } from "../../modules/iso8583/messages";
import { MemoryLogSink, Logger } from "../../modules/platform/log";
import { SeededRandom } from "../../modules/platform/random";
import { VirtualClock } from "../../modules/platform/virtual-clock";
import type { Key, RenderedScreen } from "../../modules/ui/terminal-ui";
import { resolveParameters } from "../../modules/terminal/parameters";
import { DeviceTerminal } from "../../hosts/esp32/terminal";
import { frame, FrameReader } from "../host/decision";
import { issueWorkingKeys, type WorkingKeys } from "../host/terminals";

const TID = "10000159";
const MID = "898100012340003";
const TMK = fromHex("0123456789ABCDEFFEDCBA9876543210");
const DATA_KEY = fromHex("4A6F75726E616C446174614B65793031");
/** The journal partition of partitions.csv: 0x12000 bytes. */
const PARTITION_SECTORS = 18;
/** CANCEL acknowledges the sign-on's result screen; then the amount 12.34. */
const SALE_AMOUNT_KEYS: readonly Key[] = Object.freeze(["cancel", "1", "2", "3", "4", "enter"]);
const PIN_KEYS: readonly Key[] = Object.freeze(["1", "2", "3", "4", "enter"]);
const STEPS_MAX = 1000;
const HORIZON_MS = 10 * 60 * 1000;

/** The scripted acquirer: approves every sign-on (fresh keys) and every sale; MACs what needs one. */
class ScriptedHost {
  readonly #codec = new Iso8583Codec({ dialect: CUP });
  readonly #random = new SeededRandom(11);
  #keys: WorkingKeys | undefined;
  /** The last 0200 received, kept to re-run the host's work on its own. */
  lastSale: Uint8Array | undefined;

  answer(request: Uint8Array): Uint8Array {
    const message = this.#codec.decode(request);
    const f = message.fields;
    const echo: IsoFields = { 11: f[11], 12: "090000", 13: "0115", 39: "00", 41: f[41], 42: f[42] };
    if (message.mti === "0800") {
      const issued = issueWorkingKeys(TMK, "003", this.#random);
      this.#keys = issued.keys;
      return this.#encode({ ...message, mti: "0810", fields: { ...echo, 60: f[60], 62: toHex(issued.f62) } }, false);
    }
    this.lastSale = request.slice();
    const fields = { ...echo, 3: f[3], 4: f[4], 25: f[25], 37: "000000000001", 38: "123456", 49: f[49], 64: "0000000000000000" };
    return this.#encode({ ...message, mti: "0210", fields }, true);
  }

  #encode(message: IsoMessage, mac: boolean): Uint8Array {
    const bytes = this.#codec.encode({ ...message, tpdu: responseTpdu(message.tpdu ?? "") }).slice();
    if (mac) this.#codec.writeMac(bytes, cupEcbMac(this.#keys!.mak, this.#codec.macInput(bytes)));
    return bytes;
  }
}

function serve(host: ScriptedHost, connection: ServerConnection): ServerConnectionEvents {
  const reader = new FrameReader();
  return {
    onData(bytes) {
      if (reader.push(bytes, (request) => connection.write(frame(host.answer(request)))) !== undefined) connection.close();
    },
    onClosed() {},
  };
}

interface Rig {
  readonly clock: VirtualClock;
  readonly host: ScriptedHost;
  readonly terminal: DeviceTerminal;
  readonly screens: string[];
  readonly results: string[];
  readonly swipeBits: Uint8Array;
  readonly swipeCount: number;
}

function setup(): Rig {
  const clock = new VirtualClock();
  const host = new ScriptedHost();
  const network = new EmulatedNetwork({ clock, latencyMs: 5, accept: (connection) => serve(host, connection) });
  const keys = new MemoryKeyStore();
  keys.saveMasterKey(new SecretKey("tdes", TMK));
  const screens: string[] = [];
  const results: string[] = [];
  const sink = new MemoryLogSink(64);
  const log = new Logger({
    write: (level, line) => {
      sink.write(level, line);
      if (line.startsWith("txn: result")) results.push(line);
    },
  });
  const terminal = new DeviceTerminal({
    clock,
    transport: network,
    endpoint: { host: "192.0.2.10", port: 8583, tls: { ca: [fromHex("00")], serverName: "acquirer.example" } },
    flash: new NorFlash({ sectorCount: PARTITION_SECTORS, blockSize: 4096, seed: 1 }),
    random: new SeededRandom(3),
    keys,
    dataKey: new SecretKey("sm4", DATA_KEY),
    identity: { terminalId: TID, merchantId: MID, ifdSerial: "XSPOS001" },
    parameters: resolveParameters(),
    wallClock: new VirtualWallClock(() => SIMULATION_EPOCH_MS + clock.nowMs()),
    log,
    display: { show: (screen: RenderedScreen) => void (screens.length < 256 && screens.push(screen.title)) },
    language: "zh",
  });
  const card = findTestCard("unionpay-msr");
  if (card === undefined) throw new Error("test card unionpay-msr is missing");
  const swipeBits = encodeTrack(track2Text(card));
  terminal.boot();
  terminal.signOn();
  runUntil(clock, () => results.length === 1 && terminal.terminal.idle);
  if (!results[0].includes("outcome=approved")) throw new Error(`sign-on failed: ${results[0]}`);
  return { clock, host, terminal, screens, results, swipeBits, swipeCount: swipeBits.length };
}

/** Fires the due timers one at a time; the terminal's screen tick keeps the clock busy forever, so stop on `done`. */
function runUntil(clock: VirtualClock, done: () => boolean): void {
  for (let steps = 0; steps < STEPS_MAX; steps++) {
    if (done()) return;
    step(clock);
  }
  throw new Error(`no result after ${STEPS_MAX} timer firings`);
}

function step(clock: VirtualClock): void {
  const due = clock.nextDueMs;
  if (due === undefined || due - clock.nowMs() > HORIZON_MS) throw new Error("nothing left to run");
  clock.advance(Math.max(0, due - clock.nowMs()));
}

/** The operator's inputs, in order: each is its own callback on the device (a keypad scan, the swipe's ISR hand-over). */
function saleInputs(rig: Rig): (() => void)[] {
  const inputs = SALE_AMOUNT_KEYS.map((key) => () => rig.terminal.press(key));
  inputs.push(() => {
    // The native capture hands over a fresh buffer per swipe, wiped after the call.
    const bits = rig.swipeBits.slice();
    rig.terminal.swipe(bits, rig.swipeCount);
    bits.fill(0);
  });
  for (const key of PIN_KEYS) inputs.push(() => rig.terminal.press(key));
  return inputs;
}

function startSale(rig: Rig): void {
  for (const input of saleInputs(rig)) input();
}

function saleDone(rig: Rig): boolean {
  return rig.results.length === 2 && rig.terminal.terminal.idle;
}

function checkApproved(rig: Rig): void {
  if (!rig.results[1].includes("op=sale") || !rig.results[1].includes("outcome=approved"))
    throw new Error(`the sale was not approved: ${rig.results[1]}`);
}

const globals = globalThis as unknown as Record<string, unknown>;
const bench: { rig?: Rig; inputs?: (() => void)[] } = {};

globals.deviceSetup = () => {
  bench.rig = setup();
};
globals.deviceSale = () => {
  startSale(bench.rig!);
  runUntil(bench.rig!.clock, () => saleDone(bench.rig!));
  checkApproved(bench.rig!);
};
/** The next operator input; false once the last (the PIN's ENTER, which starts the sale) has run. */
globals.deviceSaleInput = (): boolean => {
  bench.inputs ??= saleInputs(bench.rig!);
  bench.inputs.shift()?.();
  return bench.inputs.length > 0;
};
globals.deviceSaleStep = (): boolean => {
  if (saleDone(bench.rig!)) {
    checkApproved(bench.rig!);
    return true;
  }
  step(bench.rig!.clock);
  return false;
};
globals.deviceHostWork = () => {
  const request = bench.rig!.host.lastSale;
  if (request === undefined) throw new Error("no sale request was recorded");
  bench.rig!.host.answer(request);
};
