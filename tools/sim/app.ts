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
import { render } from "../../modules/ui/terminal-ui";
import { FileKeyStore } from "../../hosts/sim/file-key-store";
import { NodeTransport } from "../../hosts/sim/node-transport";
import { startHost, type HostApp } from "../host/app";
import { FAULT_KINDS, parseFault } from "../host/faults";
import { FIELD_NAMES, MTI_NAMES } from "./field-names";
import { DEFAULT_TERMINALS } from "../host/terminals";
import { TEST_CARDS } from "../../modules/card/test-cards";
import { NodeRandom } from "../../hosts/sim/node-platform";
import { MessageLog } from "./message-log";
import { SimNetwork, type NetworkSwitch } from "./network";
import { capturingTransport } from "../pcap/capture-transport";
import type { TcpCapture } from "../pcap/pcap";
import { PowerFlash } from "./power-flash";
import type { ScaledClock } from "./scaled-clock";
import { SimTerminal, type OperatorStep, type TerminalEvent, type TerminalSettings } from "./terminal";
import { ReversalTimeline } from "./timeline";
import type { FlashJournal, JournalRecordView } from "../../modules/txn/flash-journal";
import { approvedList } from "../scenario/forwarding-journal";
import { updateSectors } from "../scenario/update-hardware";

export interface SimOptions {
  /** Where flash.bin, the key files and the host's files live. */
  readonly varDir: string;
  /** False: flash, keys and ledger in RAM (headless script runs start clean). */
  readonly persistent: boolean;
  /** The terminal's clock; its scale (the time scale) also shortens host delay faults and the added network latency. */
  readonly clock: ScaledClock;
  readonly settings: TerminalSettings;
  /** Host port; 0 = any free one. */
  readonly hostPort?: number;
  readonly onEvent?: (event: StampedEvent) => void;
  /** What the operator did on the keypad, as a scenario step (the page's recorder). */
  readonly onOperatorStep?: (step: OperatorStep) => void;
  /** Records the terminal's connections (`--pcap`), seen from the terminal, stamped with the terminal's clock from now. */
  readonly capture?: TcpCapture;
  /** Wall-clock ms when the terminal's clock read 0: one capture over several Sims (a reset) keeps one time line. */
  readonly captureEpochMs?: number;
  /** Where the terminal's TLS secrets go (SSLKEYLOGFILE), if anywhere. */
  readonly keyLogPath?: string;
}

export type StampedEvent = { readonly t: number } & TerminalEvent;

/** The page's firmware panel: what runs, and where the last update stands (docs/update.md). */
export interface FirmwareView {
  /** The version of the image the last boot ran (null before the first boot). */
  readonly version: string | null;
  readonly update: { readonly state: string; readonly version: string; readonly reason: string | null } | null;
}

/** What every simulator behind the page has, whichever terminal runs in it (native-app.ts runs the Linux binary). */
export interface SimBase {
  readonly host: HostApp;
  readonly network: NetworkSwitch;
  readonly messages: MessageLog;
  readonly events: readonly StampedEvent[];
  readonly timeline: ReversalTimeline;
  /** The terminal's clock: its scale is the time scale. */
  readonly clock: ScaledClock;
  /** The terminal clock's ms since the run started: the trace's `t`. */
  nowT(): number;
  readonly terminalId: string;
  /** The capture being recorded (`--pcap`), if any. */
  readonly capture: TcpCapture | undefined;
  addFault(spec: unknown): void;
  /** Tells the page something changed outside the terminal (network switch, faults cleared). */
  notify(): void;
  /** The firmware as the trace told it: the version the last boot ran, the last update event. */
  firmware(): FirmwareView;
  /** Everything the page shows, as JSON-able data (sensitive fields masked). */
  view(): object;
  onChange(listener: () => void): () => void;
  close(): Promise<void>;
}

/** The Node terminal's simulator: the firmware core in this process. */
export interface Sim extends SimBase {
  readonly kind: "node";
  readonly terminal: SimTerminal;
  readonly network: SimNetwork;
  view(): SimView;
}

export type SimView = ReturnType<typeof viewOf>;

const TERMINAL = DEFAULT_TERMINALS[0];
const JOURNAL_SECTORS = 8;
const STATE_SECTORS = 2;
const FLASH_BLOCK_BYTES = 4096;
const IFD_SERIAL = "XSPOSSIM";
/** The trace kept for export (`/trace.jsonl`); the page shows the last ones. */
const EVENTS_MAX = 20_000;
/** Journal rows the page keeps after their record left the flash journal (reversed, completed). */
const KNOWN_RECORDS_MAX = 200;

interface KnownRecord {
  readonly stan: string;
  readonly batch: string;
  readonly op: string;
  readonly amount: number;
  readonly pan: string;
  /** The last journal state the trace told. */
  state: string;
}

export async function startSim(options: SimOptions): Promise<Sim> {
  // Absolute: the host's certificate maker runs openssl in a temporary working directory.
  const varDir = path.resolve(options.varDir);
  fs.mkdirSync(varDir, { recursive: true });
  const host = await startHost({
    varDir: path.join(varDir, "host"),
    db: options.persistent ? undefined : ":memory:",
    port: options.hostPort ?? 0,
    controlPort: 0,
    delayScale: () => options.clock.scale,
  });
  const trace = new SimTrace(options);
  const { changed, messages, timeline, nowT } = trace;
  const known = new Map<string, KnownRecord>();
  // A record's details as it is journaled: a reversed one leaves the flash journal, its row keeps them.
  const remember = (stan: string, state: string) => {
    const record = allRecords(terminal.flashJournal).find((r) => r.stan === stan);
    const kept = known.get(stan);
    if (record === undefined) return void (kept !== undefined && (kept.state = state));
    known.delete(stan);
    if (known.size >= KNOWN_RECORDS_MAX) known.delete(known.keys().next().value!);
    known.set(stan, { stan, batch: record.batch, op: record.op, amount: record.amount, pan: record.panMasked, state });
  };
  let closed = false;
  const lastRead: JournalRead = { records: [], approved: [] };
  const network = new SimNetwork({
    transport: new NodeTransport({ keyLogPath: options.keyLogPath }),
    timeScale: () => options.clock.scale,
    onMessage: (direction, message) => {
      messages.add(direction, message, Date.now(), options.clock.nowMs());
      changed();
    },
  });
  const flash = new PowerFlash({
    path: options.persistent ? path.join(varDir, "flash.bin") : undefined,
    sectorCount: JOURNAL_SECTORS + STATE_SECTORS + updateSectors(FLASH_BLOCK_BYTES),
    blockSize: FLASH_BLOCK_BYTES,
    seed: Date.now() % 2 ** 31,
  });
  const keys: KeyStore = options.persistent ? new FileKeyStore({ path: path.join(varDir, "keys.json") }) : new MemoryKeyStore();
  if (keys.loadMasterKey() === undefined) keys.saveMasterKey(new SecretKey("tdes", TERMINAL.tmk));
  const random = new NodeRandom();
  const startedMs = options.captureEpochMs ?? Date.now() - options.clock.nowMs();
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
    terminalSectors: JOURNAL_SECTORS + STATE_SECTORS,
    // The SM4 key that seals PANs in the journal: drawn at first use, kept by the key store (keys.json `dek`).
    dataKey: keys.loadDataKey(random),
    keys,
    random,
    identity: { terminalId: TERMINAL.tid, merchantId: TERMINAL.mid, ifdSerial: IFD_SERIAL },
    parameters: options.settings.parameters,
    linkUp: () => !network.down,
    onEngineEvent: (event) => closed || timeline.onEngineEvent(nowT(), event),
    onLinkFailure: (failure, detail, connected) => closed || timeline.onLinkFailure(nowT(), failure, detail, connected),
    onOperatorStep: (step) => closed || options.onOperatorStep?.(step),
    onEvent: (event) => {
      if (closed) return;
      const stamped = trace.add(event);
      if (event.ev === "power") timeline.onPower(stamped.t, String(event.state));
      if (event.ev === "journal") remember(String(event.stan), String(event.state));
    },
    onChange: changed,
  });
  terminal.applySettings(options.settings);
  const sim: Sim = {
    kind: "node",
    terminal,
    host,
    network,
    ...trace.parts(host),
    terminalId: TERMINAL.tid,
    capture,
    view: () => viewOf(sim, flash, options.clock, known, lastRead),
    async close() {
      closed = true;
      trace.clearListeners();
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

/** What the journal panels show: read from the flash while it has power. */
interface JournalRead {
  records: JournalRecordView[];
  approved: ReturnType<typeof approvedList>;
}

/**
 * The journal as the panels show it. An unpowered chip answers no read (PowerCut): after a cut the panels
 * keep what was last read, and the next power-on's recovery reads it again.
 */
function readJournal(sim: Sim, flash: PowerFlash, last: JournalRead): JournalRead {
  if (!flash.powered) return last;
  const journal = sim.terminal.journal;
  last.records = allRecords(sim.terminal.flashJournal);
  last.approved = journal === undefined ? [] : approvedList(journal);
  return last;
}

function viewOf(sim: Sim, flash: PowerFlash, clock: ScaledClock, known: Map<string, KnownRecord>, lastRead: JournalRead) {
  const terminal = sim.terminal;
  const screen = terminal.screen;
  const state = terminal.terminalState;
  const { records, approved } = readJournal(sim, flash, lastRead);
  const history = lastJournalEvents(sim.events);
  return {
    powered: terminal.powered,
    flash: { cutArmed: flash.cutArmed, operations: flash.operations },
    // The page paints only this: the shared screen state machine rendered in both languages.
    screen: screen === undefined ? null : { kind: screen.kind, zh: render(screen, "zh"), en: render(screen, "en") },
    notice: terminal.notice ?? null,
    countdown:
      terminal.remainingMs === undefined ? null : { remainingMs: terminal.remainingMs, totalMs: terminal.parameters.responseTimeoutMs },
    parameters: terminal.parameters,
    settings: { ...terminal.settings, timeScale: clock.scale },
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
      approved: approved.map((r) => ({
        stan: r.stan,
        batch: r.batch,
        op: r.op,
        amount: r.amount,
        pan: records.find((v) => v.stan === r.stan)?.panMasked ?? "",
        authCode: r.authCode,
        rrn: r.rrn,
        originalStan: r.originalStan ?? null,
      })),
      history,
      // Rows whose record left the flash journal (reversed; completed and declined, or settled): kept with their details.
      closed: [...known.values()].filter(
        (r) =>
          (r.state === "reversed" || r.state === "completed") &&
          !records.some((v) => v.stan === r.stan) &&
          !approved.some((a) => a.stan === r.stan),
      ),
    },
    ...sharedView(sim),
    cards: TEST_CARDS.map((card) => ({ name: card.name, entry: card.entry, refused: null as string | null })),
    terminalKind: "node" as "node" | "native",
    /** What the terminal behind the page cannot do that the page offers (the Linux terminal's). */
    terminalNotes: [] as string[],
  };
}

/**
 * What both terminals' simulators keep the same way: the page's listeners, the trace's time (terminal
 * clock ms since the run started), the trace itself (bounded), the message log and the reversal timeline.
 */
export class SimTrace {
  readonly messages = new MessageLog();
  readonly events: StampedEvent[] = [];
  readonly timeline = new ReversalTimeline();
  readonly #options: Pick<SimOptions, "clock" | "onEvent">;
  readonly #listeners = new Set<() => void>();
  #originMs: number | undefined;
  #firmware: FirmwareView = { version: null, update: null };

  constructor(options: Pick<SimOptions, "clock" | "onEvent">) {
    this.#options = options;
  }

  readonly changed = (): void => this.#listeners.forEach((listener) => listener());

  // One reading of the clock: two could straddle a millisecond (at ×100, 10 µs of real time).
  readonly nowT = (): number => {
    const nowMs = this.#options.clock.nowMs();
    this.#originMs ??= nowMs;
    return nowMs - this.#originMs;
  };

  /** A trace event, stamped and kept; an answer the terminal discarded is marked in the message log. */
  add(event: TerminalEvent): StampedEvent {
    const stamped = { t: this.nowT(), ...event };
    this.events.push(stamped);
    // The message log heard the bytes first; the engine's verdict on them comes with its event.
    if (event.ev === "recv" && event.discarded === true)
      this.messages.markDiscarded(String(event.mti), String(event.stan ?? ""), String(event.reason ?? "discarded"));
    if (this.events.length > EVENTS_MAX) this.events.shift();
    // Kept apart from the bounded trace: a long session still shows what runs.
    if (event.ev === "boot" && typeof event.version === "string") this.#firmware = { ...this.#firmware, version: event.version };
    if (event.ev === "update")
      this.#firmware = {
        ...this.#firmware,
        update: {
          state: String(event.state),
          version: String(event.version),
          reason: typeof event.reason === "string" ? event.reason : null,
        },
      };
    this.#options.onEvent?.(stamped);
    return stamped;
  }

  clearListeners(): void {
    this.#listeners.clear();
  }

  /** The Sim's members that are these, with the host's faults. */
  parts(host: HostApp) {
    return {
      messages: this.messages,
      events: this.events,
      timeline: this.timeline,
      clock: this.#options.clock,
      nowT: this.nowT,
      addFault: (spec: unknown) => {
        host.core.faults.add(parseFault(spec));
        this.changed();
      },
      notify: this.changed,
      firmware: () => this.#firmware,
      onChange: (listener: () => void) => {
        this.#listeners.add(listener);
        return () => this.#listeners.delete(listener);
      },
    };
  }
}

/** The panels that are the same whichever terminal runs: timeline, messages, events, network, host. */
export function sharedView(sim: SimBase) {
  return {
    timeline: sim.timeline.list(),
    messages: sim.messages.entries(),
    events: sim.events.slice(-100),
    network: { down: sim.network.down, latencyMs: sim.network.latencyMs },
    firmware: sim.firmware(),
    host: {
      address: `${sim.host.address.host}:${sim.host.address.port}`,
      faults: sim.host.core.faults.list(),
      // What the TMS publishes now (the image's version, kind and size; the parameter set).
      published: publishedOf(sim.host),
      ledger: sim.host.ledger.view(sim.terminalId),
    },
    faultKinds: FAULT_KINDS,
    fieldNames: FIELD_NAMES,
    mtiNames: MTI_NAMES,
  };
}

function publishedOf(host: HostApp): { readonly image: unknown; readonly parameters: unknown } {
  const { image, parameters } = host.core.tms.summary();
  return { image, parameters };
}

const HISTORY_MAX = 50;

/** The last journal events of the trace, oldest first. */
export function lastJournalEvents(events: readonly StampedEvent[]): StampedEvent[] {
  const found: StampedEvent[] = [];
  for (let i = events.length - 1; i >= 0 && found.length < HISTORY_MAX; i--) if (events[i].ev === "journal") found.push(events[i]);
  return found.reverse();
}
