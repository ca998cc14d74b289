/**
 * The simulator with the Linux terminal binary (hosts/lin) behind the page
 * (`xspos sim --terminal native`): the same host simulator over real TLS on
 * loopback, the page's network switch as a TCP relay in between
 * (link-proxy.ts), the message log from the host's side (the bytes on the
 * relay are TLS), the trace, the reversal timeline and the journal rows
 * from the binary's own lines (native-sim-terminal.ts).
 */
import fs from "node:fs";
import path from "node:path";
import { TEST_CARDS } from "../../modules/card/test-cards";
import type { TxnEvent } from "../../modules/txn/events";
import { startHost } from "../host/app";
import { NATIVE_TID } from "../lin/native-terminal";
import { lastJournalEvents, sharedView, SimTrace, type SimBase, type SimOptions } from "./app";
import { LinkProxy } from "./link-proxy";
import { NATIVE_CARDS_NOTE, NativeSimTerminal } from "./native-sim-terminal";

export interface NativeSim extends SimBase {
  readonly kind: "native";
  readonly terminal: NativeSimTerminal;
  readonly network: LinkProxy;
  view(): NativeSimView;
}

export type NativeSimView = ReturnType<typeof nativeViewOf>;

const KNOWN_RECORDS_MAX = 200;

export const NATIVE_NOTES: readonly string[] = Object.freeze([
  "Linux terminal (hosts/lin binary) over TLS on loopback: its power is the process (off = quit, cut = SIGKILL, cut at the next flash op = the binary's own kill inside the operation)",
  `${NATIVE_CARDS_NOTE}`,
  "the screen is what the binary prints, in its build's language; no response countdown",
  "settings and the time scale are provisioned into NVS at start: changing them restarts the terminal (the time scale divides its timeouts)",
  "messages as the host saw them (the link carries TLS); no capture export; the journal rows carry no PAN",
  "no network check or sign-off on its menu; the reversal backoff is the shipped one; no recording or scenario play (use --headless --script)",
  "firmware updates into its --slots file (var/native/slots.bin) with the TEST release key: an activation or a rollback restarts the process",
]);

/** A journal row's details, kept after its record left the journal the binary tells (reversed, completed). */
interface KnownRecord {
  readonly stan: string;
  batch: string;
  op: string;
  amount: number;
  readonly pan: string;
  state: string;
}

export async function startNativeSim(options: SimOptions & { readonly binary?: string }): Promise<NativeSim> {
  const varDir = path.resolve(options.varDir);
  const dir = path.join(varDir, "native");
  fs.mkdirSync(dir, { recursive: true });
  const trace = new SimTrace(options);
  const { changed, messages, timeline } = trace;
  const known = new KnownRecords();
  let closed = false;
  const host = await startHost({
    varDir: path.join(varDir, "host"),
    db: options.persistent ? undefined : ":memory:",
    port: options.hostPort ?? 0,
    controlPort: 0,
    delayScale: () => options.clock.scale,
    // What the host took in is what the terminal sent ("out"), and the other way round.
    onMessage: (direction, message) => {
      if (closed) return;
      messages.add(direction === "received" ? "out" : "in", message, Date.now(), options.clock.nowMs());
      changed();
    },
  });
  const link = new LinkProxy({ target: host.address, timeScale: () => options.clock.scale });
  let terminal: NativeSimTerminal;
  try {
    const linkAddress = await link.listen();
    terminal = new NativeSimTerminal({
      dir,
      host,
      link: linkAddress,
      settings: options.settings,
      timeScale: () => options.clock.scale,
      binary: options.binary,
      onChange: changed,
      onJournal: (journal) => {
        for (const r of journal.pending) known.details(r.stan, r.op, r.amount);
        for (const r of journal.approved) known.details(r.stan, r.op, r.amount, r.batch);
      },
      onEvent: (event) => {
        if (closed) return;
        const stamped = trace.add(event);
        if (event.ev === "power") timeline.onPower(stamped.t, String(event.state));
        // The binary prints the trace's events: the timeline hears those (no connection attempts or backoffs).
        else timeline.onEngineEvent(stamped.t, event as unknown as TxnEvent);
        if (event.ev === "journal") known.state(String(event.stan), String(event.state), terminal.journal?.state?.batch ?? "");
        if (event.ev === "result" && typeof event.stan === "string")
          known.details(event.stan, String(event.op), typeof event.amount === "number" ? event.amount : undefined);
      },
    });
  } catch (error) {
    await link.close();
    await host.close();
    throw error;
  }
  const sim: NativeSim = {
    kind: "native",
    terminal,
    host,
    network: link,
    ...trace.parts(host),
    terminalId: NATIVE_TID,
    capture: undefined,
    view: () => nativeViewOf(sim, known),
    async close() {
      closed = true;
      trace.clearListeners();
      terminal.powerOff(false);
      await terminal.stopped();
      await link.close();
      await host.close();
    },
  };
  return sim;
}

/** Rows keep what the journal and the trace told of their record: a reversed one leaves the journal, its row stays. */
class KnownRecords {
  readonly #rows = new Map<string, KnownRecord>();

  values(): KnownRecord[] {
    return [...this.#rows.values()];
  }

  /** A journal state from the trace. */
  state(stan: string, state: string, batch: string): void {
    this.#row(stan, batch).state = state;
  }

  /** The op and amount of a record from the journal the binary told, or from a result event. */
  details(stan: string, op: string | undefined, amount: number | undefined, batch?: string): void {
    const row = this.#rows.get(stan);
    if (row === undefined) return;
    if (op !== undefined) row.op = op;
    if (amount !== undefined) row.amount = amount;
    if (batch !== undefined) row.batch = batch;
  }

  #row(stan: string, batch: string): KnownRecord {
    let row = this.#rows.get(stan);
    if (row !== undefined) return row;
    if (this.#rows.size >= KNOWN_RECORDS_MAX) this.#rows.delete(this.#rows.keys().next().value!);
    row = { stan, batch, op: "", amount: 0, pan: "", state: "" };
    this.#rows.set(stan, row);
    return row;
  }
}

function nativeViewOf(sim: NativeSim, known: KnownRecords) {
  const terminal = sim.terminal;
  const journal = terminal.journal;
  const screen = terminal.screen;
  const pending = journal?.pending ?? [];
  const approved = journal?.approved ?? [];
  const state = journal?.state ?? null;
  return {
    powered: terminal.powered,
    flash: { cutArmed: terminal.cutArmed, operations: journal?.flashOperations ?? 0 },
    // One language: the binary renders its screens in its build's language; the page shows them under both.
    screen: screen === undefined ? null : { kind: screen.kind, zh: screen.rendered, en: screen.rendered },
    notice: terminal.notice ?? null,
    countdown: null,
    parameters: terminal.parameters,
    settings: { ...terminal.settings, timeScale: sim.clock.scale },
    receipts: terminal.receipts,
    terminalState: state === null ? null : { stanNext: state.stanNext, batch: state.batch, signedOn: state.signedOn },
    journal: {
      reversals: pending.map((r) => ({
        stan: r.stan,
        batch: state?.batch ?? "",
        op: r.op,
        amount: r.amount,
        state: r.state,
        reason: r.reason ?? null,
        attempts: r.attempts,
        pan: "",
      })),
      approved: approved.map((r) => ({
        stan: r.stan,
        batch: r.batch,
        op: r.op,
        amount: r.amount,
        pan: "",
        authCode: "",
        rrn: "",
        originalStan: r.originalStan ?? null,
      })),
      history: lastJournalEvents(sim.events),
      closed: known
        .values()
        .filter(
          (r) =>
            (r.state === "reversed" || r.state === "completed") &&
            !pending.some((v) => v.stan === r.stan) &&
            !approved.some((a) => a.stan === r.stan),
        ),
    },
    ...sharedView(sim),
    cards: TEST_CARDS.map((card) => ({
      name: card.name,
      entry: card.entry,
      refused: card.entry === "swipe" ? null : NATIVE_CARDS_NOTE,
    })),
    terminalKind: "native" as "node" | "native",
    terminalNotes: NATIVE_NOTES as string[],
  };
}
