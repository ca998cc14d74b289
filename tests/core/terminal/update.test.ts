/**
 * Firmware updates through the terminal assembly (modules/terminal with its `update` option) against
 * the host core on the emulated network: a good image waits while a reversal is owed and is confirmed
 * by its first boot's sign-on; an image that fails its self-test, meets a newer journal format or
 * cannot sign on rolls back; the reversal owed before the update is still owed and goes out after it.
 * In Node and in XS.
 */
import { crc32 } from "../../../modules/base/crc32";
import { MemoryKeyStore } from "../../../modules/crypto/key-store";
import { SecretKey } from "../../../modules/crypto/keys";
import { fromHex } from "../../../modules/base/hex";
import { EmulatedNetwork } from "../../../modules/emulators/network";
import { NorFlash } from "../../../modules/emulators/nor-flash";
import { SIMULATION_EPOCH_MS, VirtualWallClock } from "../../../modules/emulators/virtual-wall-clock";
import { encodeHeader, FORMAT_VERSION, HEADER_CRC_OFFSET, SLOT_BYTES, writeU32 } from "../../../modules/journal/format";
import { SeededRandom } from "../../../modules/platform/random";
import { VirtualClock } from "../../../modules/platform/virtual-clock";
import { resolveParameters } from "../../../modules/terminal/parameters";
import { STATE_SECTORS, Terminal, type TerminalEvent } from "../../../modules/terminal/terminal";
import { FlashRegion } from "../../../modules/txn/flash-region";
import { FlashRecord } from "../../../modules/update/flash-record";
import { FlashSlots } from "../../../modules/update/flash-slots";
import { HostCore } from "../../../tools/host/core";
import { DEFAULT_TERMINALS, registry } from "../../../tools/host/terminals";
import { CardDesk } from "../../../tools/scenario/card-desk";
import { MemoryLedger } from "../../../tools/scenario/memory-ledger";
import { serveHost } from "../../../tools/scenario/runner";
import { TEST_PUBLIC_KEY_HEX } from "../../fixtures/update/test-images";
import { SECTORS, TestSource, chip } from "../update/rig";

const TERMINAL = DEFAULT_TERMINALS[0];
const IDENTITY = Object.freeze({ terminalId: TERMINAL.tid, merchantId: TERMINAL.mid, ifdSerial: "XSPOS001" });
const JOURNAL_SECTORS = 8;
const HORIZON_MS = 60 * 60 * 1000;

/** One terminal across power cycles: what survives (flash, keys, the host) and one powered period at a time. */
class Bench {
  readonly clock = new VirtualClock();
  readonly host = new HostCore({ ledger: new MemoryLedger(), terminals: registry(DEFAULT_TERMINALS), random: new SeededRandom(7) });
  readonly network = new EmulatedNetwork({ clock: this.clock, latencyMs: 5, accept: (c) => serveHost(this.host, this.clock, c) });
  readonly journalFlash = new NorFlash({ sectorCount: JOURNAL_SECTORS + STATE_SECTORS, blockSize: 4096, seed: 3 });
  readonly updateFlash = chip();
  readonly keys = new MemoryKeyStore();
  readonly random = new SeededRandom(5);
  readonly wall = new VirtualWallClock(() => SIMULATION_EPOCH_MS + this.clock.nowMs());
  readonly cards = new CardDesk({ ifdSerial: IDENTITY.ifdSerial, random: this.random, nowMs: () => this.wall.nowMs() });
  readonly events: TerminalEvent[] = [];
  readonly dataKey;
  restarts = 0;
  selfTest = true;
  terminal: Terminal | undefined;

  constructor() {
    this.keys.saveMasterKey(new SecretKey("tdes", TERMINAL.tmk));
    this.dataKey = this.keys.loadDataKey(this.random);
  }

  /** Power on: the bootloader picks the slot, then the terminal boots over the same flash. */
  powerOn(): Terminal {
    const slots = new FlashSlots({ flash: new FlashRegion(this.updateFlash, 2, SECTORS - 2), factoryVersion: "1.0.0" });
    slots.powerOn();
    const terminal = new Terminal({
      clock: this.clock,
      transport: this.network,
      endpoint: { host: "acquirer.test", port: 5000, tls: { ca: [fromHex("00")], serverName: "acquirer.test" } },
      flash: this.journalFlash,
      random: this.random,
      keys: this.keys,
      dataKey: this.dataKey,
      identity: IDENTITY,
      parameters: resolveParameters({ reversalAttempts: 2, responseTimeoutMs: 1000 }),
      wallClock: this.wall,
      update: {
        slots,
        store: new FlashRecord(new FlashRegion(this.updateFlash, 0, 2)),
        publicKey: fromHex(TEST_PUBLIC_KEY_HEX),
        restart: () => this.restarts++,
        selfTest: () => this.selfTest,
      },
      onEvent: (event) => this.events.push(event),
    });
    this.terminal = terminal;
    terminal.boot();
    this.drain();
    return terminal;
  }

  drain(): void {
    expect(this.clock.runUntilIdle(HORIZON_MS)).toBe(true);
  }

  sale(terminal: Terminal, amount: number): void {
    terminal.run("sale", { amount, card: this.cards.present("unionpay-msr", "sale", amount), pin: "1234" });
    this.drain();
  }

  /** The update events so far as "state/version/reason", and the boots' versions. */
  updates(): string[] {
    return this.events.flatMap((e) =>
      e.ev === "update"
        ? [[e.state, e.version, e.reason].filter((p) => p !== undefined).join("/")]
        : e.ev === "boot"
          ? [`boot ${e.version}`]
          : [],
    );
  }
}

/** Signs on, sells one sale whose answer and reversals go unanswered: a 冲正失败 is open. */
function withReversalFailed(bench: Bench): Terminal {
  const terminal = bench.powerOn();
  terminal.run("signOn");
  bench.drain();
  bench.host.faults.add({ kind: "noResponse", mti: "0200", count: 1 });
  // Enough unanswered 0400s for the episode and every idle retry of the policy.
  bench.host.faults.add({ kind: "noResponse", mti: "0400", count: 50 });
  bench.sale(terminal, 1234);
  expect(terminal.flashJournal.pending().map((r) => r.state)).toEqual(["failed"]);
  return terminal;
}

describe("Terminal: firmware updates", () => {
  test("a good image waits while 冲正失败 is open, activates once the reversal goes through, and its sign-on confirms it", async () => {
    const bench = new Bench();
    const terminal = withReversalFailed(bench);
    await terminal.updater!.check(new TestSource("v110"));
    expect(bench.updates()).toEqual([
      "boot 1.0.0",
      "available/1.1.0",
      "downloading/1.1.0",
      "verified/1.1.0",
      "waiting/1.1.0/reversalPending",
    ]);
    expect(terminal.ui.notice).toBe("noticeUpdateWaiting");
    expect(bench.restarts).toBe(0);
    // The host answers again; the next online message flushes the reversal first, then the terminal idles clean.
    bench.host.faults.clear();
    terminal.run("echo");
    bench.drain();
    expect(terminal.flashJournal.pending()).toEqual([]);
    expect(bench.updates().slice(5)).toEqual(["activated/1.1.0"]);
    expect(bench.restarts).toBe(1);
    // The restart: the new image's trial boot signs on by itself and confirms.
    bench.events.length = 0;
    const next = bench.powerOn();
    bench.drain();
    expect(bench.updates()).toEqual(["boot 1.1.0", "confirmed/1.1.0"]);
    expect(next.version).toBe("1.1.0");
    expect(next.updater!.trial).toBe(false);
    expect(bench.events.some((e) => e.ev === "result" && e.op === "signOn" && e.outcome === "approved")).toBe(true);
  });

  test("a reversal owed across a power cycle while the update waits is not lost: sent after boot, then the update activates", async () => {
    const owed = new Bench();
    const failing = withReversalFailed(owed);
    await failing.updater!.check(new TestSource("v110"));
    // Switched off while waiting: on power-on the 冲正失败 is still there and the update still waits.
    owed.events.length = 0;
    const again = owed.powerOn();
    owed.drain();
    expect(again.flashJournal.pending().map((r) => r.state)).toEqual(["failed"]);
    expect(owed.updates()).toEqual(["boot 1.0.0"]);
    expect(again.updater!.state).toBe("waiting");
    owed.host.faults.clear();
    again.run("echo");
    owed.drain();
    expect(again.flashJournal.pending()).toEqual([]);
    expect(owed.updates().slice(1)).toEqual(["activated/1.1.0"]);
    expect(owed.events.filter((e) => e.ev === "journal" && e.state === "reversed")).toHaveLength(1);
  });

  test("an image whose self-test fails rolls back; the old image reports it and keeps its version", async () => {
    const bench = new Bench();
    const terminal = bench.powerOn();
    await terminal.updater!.check(new TestSource("v110"));
    bench.selfTest = false;
    bench.events.length = 0;
    bench.powerOn();
    expect(bench.restarts).toBe(2);
    expect(bench.updates()).toEqual(["boot 1.1.0"]); // recovery ran, then the self-test failed
    bench.selfTest = true;
    bench.events.length = 0;
    const back = bench.powerOn();
    bench.drain();
    expect(bench.updates()).toEqual(["rolledBack/1.1.0/selfTest", "boot 1.0.0"]);
    expect(back.version).toBe("1.0.0");
    expect(back.ui.notice).toBe("noticeUpdateRolledBack");
  });

  test("an image meeting a newer journal format rolls back without touching the journal", async () => {
    const bench = new Bench();
    const first = bench.powerOn();
    await first.updater!.check(new TestSource("v110"));
    expect(bench.restarts).toBe(1);
    // Meanwhile the journal's sector 0 says it was written by a newer firmware (format version + 1).
    const flash = bench.journalFlash;
    const header = new Uint8Array(SLOT_BYTES);
    encodeHeader(
      { sectorIndex: 0, sectorCount: JOURNAL_SECTORS, sectorSeq: 9, seqFloor: 9, eraseCount: 1, epoch: 7, identity: IDENTITY },
      header,
    );
    header[4] = FORMAT_VERSION + 1;
    writeU32(header, HEADER_CRC_OFFSET, crc32(header, 0, HEADER_CRC_OFFSET));
    flash.erase(0);
    flash.write(0, SLOT_BYTES, header);
    const before = new Uint8Array(flash.read(0, flash.byteLength));
    bench.events.length = 0;
    bench.powerOn();
    expect(bench.restarts).toBe(2);
    expect(new Uint8Array(flash.read(0, flash.byteLength))).toEqual(before);
    // The old image does not know that format either: a typed error, never a wiped journal.
    expect(() => bench.powerOn()).toThrow("newer firmware");
    expect(new Uint8Array(flash.read(0, flash.byteLength))).toEqual(before);
    expect(bench.updates()).toEqual(["rolledBack/1.1.0/journalFormat"]);
  });

  test("no sign-on gets through on the trial boot: three attempts, then the previous image", async () => {
    const bench = new Bench();
    const terminal = bench.powerOn();
    await terminal.updater!.check(new TestSource("v110"));
    bench.network.setDown(true);
    bench.events.length = 0;
    bench.powerOn();
    bench.drain();
    expect(bench.restarts).toBe(2);
    const signOns = bench.events.filter((e) => e.ev === "result" && e.op === "signOn");
    expect(signOns).toHaveLength(3);
    bench.network.setDown(false);
    bench.events.length = 0;
    bench.powerOn();
    expect(bench.updates()).toEqual(["rolledBack/1.1.0/signOn", "boot 1.0.0"]);
  });
});
