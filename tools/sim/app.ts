/**
 * One running simulator: the acquirer host (TLS on 127.0.0.1, its own var
 * files), the terminal core on a real clock with its flash image, the
 * network switch between them, and the logs the page shows. Used by the web
 * page (`xspos sim`), the headless script runner and the browser tests.
 */
import fs from "node:fs";
import path from "node:path";
import { SecretKey } from "../../modules/crypto/keys";
import { MemoryKeyStore, type KeyStore } from "../../modules/crypto/key-store";
import type { Clock } from "../../modules/platform/clock";
import { render } from "../../modules/ui/terminal-ui";
import { FileKeyStore } from "../../hosts/sim/file-key-store";
import { NodeTransport } from "../../hosts/sim/node-transport";
import { startHost, type HostApp } from "../host/app";
import { FAULT_KINDS, parseFault } from "../host/faults";
import { DEFAULT_TERMINALS } from "../host/terminals";
import { TEST_CARDS } from "../../modules/card/test-cards";
import { NodeRandom } from "../../hosts/sim/node-platform";
import { MessageLog } from "./message-log";
import { SimNetwork } from "./network";
import { capturingTransport } from "../pcap/capture-transport";
import type { TcpCapture } from "../pcap/pcap";
import { PowerFlash } from "./power-flash";
import { SimTerminal, type TerminalEvent, type TerminalParameters } from "./terminal";
import type { FlashJournal, JournalRecordView } from "../../modules/txn/flash-journal";
import { approvedList } from "../scenario/forwarding-journal";

export interface SimOptions {
  /** Where flash.bin, the key files and the host's files live. */
  readonly varDir: string;
  /** False: flash, keys and ledger in RAM (headless script runs start clean). */
  readonly persistent: boolean;
  readonly clock: Clock;
  readonly parameters: TerminalParameters;
  /** Host port; 0 = any free one. */
  readonly hostPort?: number;
  /** Host delay faults are divided by this (headless --time-scale). */
  readonly timeScale?: number;
  readonly onEvent?: (event: StampedEvent) => void;
  /** Records the terminal's connections (`--pcap`), seen from the terminal, stamped with the terminal's clock from now. */
  readonly capture?: TcpCapture;
  /** Where the terminal's TLS secrets go (SSLKEYLOGFILE), if anywhere. */
  readonly keyLogPath?: string;
}

export type StampedEvent = { readonly t: number } & TerminalEvent;

export interface Sim {
  readonly terminal: SimTerminal;
  readonly host: HostApp;
  readonly network: SimNetwork;
  readonly messages: MessageLog;
  readonly events: readonly StampedEvent[];
  readonly terminalId: string;
  /** The capture being recorded (`--pcap`), if any. */
  readonly capture: TcpCapture | undefined;
  addFault(spec: unknown): void;
  /** Tells the page something changed outside the terminal (network switch, faults cleared). */
  notify(): void;
  /** Everything the page shows, as JSON-able data (sensitive fields masked). */
  view(): SimView;
  onChange(listener: () => void): () => void;
  close(): Promise<void>;
}

export type SimView = ReturnType<typeof viewOf>;

const TERMINAL = DEFAULT_TERMINALS[0];
const JOURNAL_SECTORS = 8;
const STATE_SECTORS = 2;
const FLASH_BLOCK_BYTES = 4096;
const IFD_SERIAL = "XSPOSSIM";
const EVENTS_MAX = 2000;

export async function startSim(options: SimOptions): Promise<Sim> {
  // Absolute: the host's certificate maker runs openssl in a temporary working directory.
  const varDir = path.resolve(options.varDir);
  fs.mkdirSync(varDir, { recursive: true });
  const host = await startHost({
    varDir: path.join(varDir, "host"),
    db: options.persistent ? undefined : ":memory:",
    port: options.hostPort ?? 0,
    controlPort: 0,
  });
  const listeners = new Set<() => void>();
  const changed = () => listeners.forEach((listener) => listener());
  const messages = new MessageLog();
  const events: StampedEvent[] = [];
  let originMs: number | undefined;
  let closed = false;
  const network = new SimNetwork({
    transport: new NodeTransport({ keyLogPath: options.keyLogPath }),
    onMessage: (direction, message) => {
      messages.add(direction, message, Date.now());
      changed();
    },
  });
  const flash = new PowerFlash({
    path: options.persistent ? path.join(varDir, "flash.bin") : undefined,
    sectorCount: JOURNAL_SECTORS + STATE_SECTORS,
    blockSize: FLASH_BLOCK_BYTES,
    seed: Date.now() % 2 ** 31,
  });
  const keys: KeyStore = options.persistent ? new FileKeyStore({ path: path.join(varDir, "keys.json") }) : new MemoryKeyStore();
  if (keys.loadMasterKey() === undefined) keys.saveMasterKey(new SecretKey("tdes", TERMINAL.tmk));
  const random = new NodeRandom();
  const startedMs = Date.now() - options.clock.nowMs();
  const capture = options.capture;
  const terminal = new SimTerminal({
    clock: options.clock,
    transport: capture === undefined ? network : capturingTransport(network, capture, () => startedMs + options.clock.nowMs()),
    endpoint: {
      host: host.address.host,
      port: host.address.port,
      tls: { ca: [fs.readFileSync(host.pki!.ca.cert)], serverName: "localhost" },
    },
    flash,
    // The SM4 key that seals PANs in the journal: drawn at first use, kept by the key store (keys.json `dek`).
    dataKey: keys.loadDataKey(random),
    keys,
    random,
    identity: { terminalId: TERMINAL.tid, merchantId: TERMINAL.mid, ifdSerial: IFD_SERIAL },
    parameters: options.parameters,
    linkUp: () => !network.down,
    onEvent: (event) => {
      if (closed) return;
      originMs ??= options.clock.nowMs();
      const stamped = { t: options.clock.nowMs() - originMs, ...event };
      events.push(stamped);
      // The message log heard the bytes first; the engine's verdict on them comes with its event.
      if (event.ev === "recv" && event.discarded === true)
        messages.markDiscarded(String(event.mti), String(event.stan ?? ""), String(event.reason ?? "discarded"));
      if (events.length > EVENTS_MAX) events.shift();
      options.onEvent?.(stamped);
    },
    onChange: changed,
  });
  const sim: Sim = {
    terminal,
    host,
    network,
    messages,
    events,
    terminalId: TERMINAL.tid,
    capture,
    addFault(spec) {
      const fault = parseFault(spec);
      const scale = options.timeScale ?? 1;
      host.core.faults.add(fault.ms === undefined ? fault : { ...fault, ms: Math.max(0, Math.round(fault.ms / scale)) });
      changed();
    },
    notify: changed,
    view: () => viewOf(sim, flash),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      closed = true;
      listeners.clear();
      terminal.powerOff(true);
      await host.close();
    },
  };
  return sim;
}

/** Every live record for the page's panels: the simulator pages through the journal as a device panel would. */
function allRecords(journal: FlashJournal | undefined): JournalRecordView[] {
  const records: JournalRecordView[] = [];
  for (let page = journal?.records() ?? []; page.length > 0; page = journal!.records({ offset: records.length })) records.push(...page);
  return records;
}

function viewOf(sim: Sim, flash: PowerFlash) {
  const terminal = sim.terminal;
  const screen = terminal.screen;
  const state = terminal.terminalState;
  const journal = terminal.journal;
  const records = allRecords(terminal.flashJournal);
  return {
    powered: terminal.powered,
    flash: { cutArmed: flash.cutArmed, operations: flash.operations },
    // The page paints only this: the shared screen state machine rendered in both languages.
    screen: screen === undefined ? null : { kind: screen.kind, zh: render(screen, "zh"), en: render(screen, "en") },
    notice: terminal.notice ?? null,
    countdown:
      terminal.remainingMs === undefined ? null : { remainingMs: terminal.remainingMs, totalMs: terminal.parameters.responseTimeoutMs },
    parameters: terminal.parameters,
    receipts: terminal.receipts,
    terminalState: state === undefined ? null : { stanNext: state.stanNext, batch: state.batch, signedOn: state.signedOn },
    journal: {
      reversals: records
        .filter((r) => r.state !== "approved")
        .map((r) => ({
          stan: r.stan,
          batch: r.batch,
          op: r.op,
          amount: r.amount,
          state: r.state,
          reason: r.reason ?? null,
          attempts: r.attempts,
          pan: r.panMasked,
        })),
      approved: (journal === undefined ? [] : approvedList(journal)).map((r) => ({
        stan: r.stan,
        batch: r.batch,
        op: r.op,
        amount: r.amount,
        pan: records.find((v) => v.stan === r.stan)?.panMasked ?? "",
        authCode: r.authCode,
        rrn: r.rrn,
        originalStan: r.originalStan ?? null,
      })),
      history: sim.events.filter((e) => e.ev === "journal").slice(-50),
    },
    messages: sim.messages.entries(),
    events: sim.events.slice(-100),
    network: { down: sim.network.down, latencyMs: sim.network.latencyMs },
    host: {
      address: `${sim.host.address.host}:${sim.host.address.port}`,
      faults: sim.host.core.faults.list(),
      ledger: sim.host.ledger.view(sim.terminalId),
    },
    cards: TEST_CARDS.map((card) => ({ name: card.name, entry: card.entry })),
    faultKinds: FAULT_KINDS,
  };
}
