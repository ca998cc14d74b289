/**
 * The ledger oracle: watches one chaos run as it happens (events, screens,
 * journal operations) and checks the invariants of docs/chaos.md, some at the
 * moment something happens, the rest once the system is quiescent:
 *   1. host ledger and terminal log agree on every standing transaction;
 *   2. no host approval of a sale or void stands unless the terminal completed it;
 *   3. no reversal is lost (every record is retried before the next online
 *      message and closed only by a real answer), none had a second effect;
 *   4. no late or duplicate answer turned into an approval;
 *   5. every 冲正失败 shown matched an unresolved record at that moment;
 *   6. no full PAN, track data or PIN block in an event, a screen or NV memory.
 * Checks judge the terminal by what it could know (events it received) and
 * the host by its ledger; nothing here trusts the engine's own bookkeeping.
 */
import type { WorkingKeys } from "../../modules/crypto/keys";
import type { ApprovedRecord } from "../../modules/txn/ports";
import type { TxnEvent } from "../../modules/txn/events";
import { FIRMWARE_VERSION } from "../../modules/update/firmware-version";
import { versionCode } from "../../modules/update/manifest";
import type { RecordingLedger } from "./recording-ledger";
import type { JournalOperation, TerminalStorage } from "./storage";
import type { SecretScanner } from "./secrets";
import type { SystemEvent, SystemObserver } from "./system";
import { approvedList } from "../scenario/forwarding-journal";

export type Invariant = "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "liveness" | "crash";

export interface Violation {
  readonly invariant: Invariant;
  readonly step: number;
  readonly t: number;
  readonly detail: string;
  /** Number of events seen when it was found (the trace ends there). */
  readonly eventCount: number;
}

/** 0410 answers that close a reversal (as the engine's REVERSAL_FINAL_CODES). */
const REVERSAL_FINAL_CODES: readonly string[] = Object.freeze(["00", "12", "25"]);
/** One run stops collecting after this many violations: the first ones tell the story. */
const VIOLATIONS_MAX = 20;
/** Published kinds whose image is signed and whole: the only ones that may ever boot. */
const BOOTABLE_KINDS: readonly unknown[] = Object.freeze(["good", "crashesOnBoot"]);

interface Accepted {
  readonly t: number;
  readonly f39: string | undefined;
}

export interface OracleContext {
  readonly tid: string;
  readonly responseTimeoutMs: number;
  /** The terminal's journal under any planted bug (what really is on flash), and the batches it closed. */
  readonly storage: Pick<TerminalStorage, "journal" | "settled">;
  readonly ledger: RecordingLedger;
  readonly scanner: SecretScanner;
  readonly hasWorkingKeys: () => boolean;
}

export class Oracle implements SystemObserver {
  readonly events: SystemEvent[] = [];
  readonly violations: Violation[] = [];
  readonly faults = new Map<string, number>();
  transactions = 0;
  reversals = 0;
  /** The driver's step, for reports. */
  step = 0;
  #now = 0;
  /** Last send time per request MTI + STAN. */
  readonly #sent = new Map<string, number>();
  /** Last accepted (not discarded) answer per response MTI + STAN. */
  readonly #accepted = new Map<string, Accepted>();
  readonly #reversalDue = new Set<string>();
  readonly #reversalAnswered = new Set<string>();
  /** Last journal operation per STAN. */
  readonly #lastOperation = new Map<string, JournalOperation>();
  /** Non-0400 messages sent so far, and per STAN the count when its last reversal attempt began. */
  #onlineSends = 0;
  /** Where each STAN first went out: end-of-run violations point there. */
  readonly #firstSent = new Map<string, { step: number; t: number; eventCount: number }>();
  readonly #attemptedAt = new Map<string, number>();
  /** Firmware (invariant 7): each published image's kind, the versions whose slot verified, the highest confirmed. */
  readonly #imageKinds = new Map<string, unknown>();
  readonly #verified = new Set<string>([FIRMWARE_VERSION]);
  #confirmedCode = versionCode(FIRMWARE_VERSION);
  #lastBoot = FIRMWARE_VERSION;

  constructor(readonly context: OracleContext) {}

  // ------------------------------------------------------------ live checks

  onEvent(event: SystemEvent): void {
    this.#now = event.t;
    this.events.push(event);
    this.#scanEvent(event);
    const stan = typeof event.stan === "string" ? event.stan : "";
    switch (event.ev) {
      case "power":
        // What the terminal learnt but had not made durable is gone: a 0410 whose "reversed" write the cut tore.
        if (event.state !== "on") this.#reversalAnswered.clear();
        return;
      case "send":
        return this.#onSend(String(event.mti), stan);
      case "recv":
        if (event.discarded !== true) this.#onAccepted(String(event.mti), stan, event.f39 as string | undefined);
        return;
      case "tms":
        if (event.published === "image") this.#imageKinds.set(String(event.version), event.kind);
        return;
      case "update":
        return this.#onUpdate(String(event.state), String(event.version));
      case "boot":
        return this.#onBoot(String(event.version));
      case "result":
        if (event.op === "sale" || event.op === "void" || event.op === "refund" || event.op === "balance") this.transactions++;
        if (event.outcome === "approved" && this.#reversalDue.has(stan))
          this.#violate("4", `STAN ${stan} was shown approved after it became reversal-due`);
        return;
    }
  }

  onEngineEvent(event: TxnEvent, t: number): void {
    this.#now = t;
    if (event.ev !== "reversal") return;
    if (event.phase === "attempt") this.#attemptedAt.set(event.stan, this.#onlineSends);
    if (event.phase !== "failed") return;
    const record = this.context.storage.journal.pending().find((r) => r.stan === event.stan);
    if (record?.state !== "failed")
      this.#violate("5", `冲正失败 shown for STAN ${event.stan}, but the journal holds it as ${record?.state ?? "nothing (resolved)"}`);
    else if (this.#reversalAnswered.has(event.stan)) {
      const host = this.context.ledger.find(this.context.tid, record.batch, event.stan);
      this.#violate("5", `冲正失败 shown for STAN ${event.stan} after a valid final 0410 (host: ${host?.state ?? "never booked"})`);
    }
  }

  onFault(kind: string): void {
    this.faults.set(kind, (this.faults.get(kind) ?? 0) + 1);
  }

  onWorkingKeys(keys: WorkingKeys): void {
    this.context.scanner.addWorkingKeys(keys);
  }

  onJournal(operation: JournalOperation, stan: string, record: ApprovedRecord | undefined, t: number): void {
    this.#now = t;
    this.#lastOperation.set(stan, operation);
    if (operation === "reversalDue") this.#reversalDue.add(stan);
    if (operation === "reversed") this.reversals++;
    const answer = (mti: string) => this.#accepted.get(mti + stan);
    if (operation === "complete") {
      // Closing an armed record is right only when the host holds no approval for it (a decline, or never booked).
      const host = this.context.ledger.booked.find((k) => k.stan === stan);
      const state = host === undefined ? undefined : this.context.ledger.find(host.tid, host.batch, stan)?.state;
      if (state === "approved" || state === "voided")
        this.#violate("3", `STAN ${stan}: reversal record closed while the host holds it ${state}: a lost reversal`);
    }
    if (operation === "reversed" && !this.#reversalAnswered.has(stan))
      this.#violate("3", `STAN ${stan}: reversal closed without a valid final 0410`);
    if (operation === "approve" && record !== undefined) {
      if (this.#reversalDue.has(stan)) this.#violate("4", `STAN ${stan}: approval logged after it became reversal-due`);
      const mti = record.op === "refund" ? "0230" : "0210";
      const sentMs = this.#sent.get((record.op === "refund" ? "0220" : "0200") + stan);
      const got = answer(mti);
      if (got?.f39 !== "00" || sentMs === undefined || got.t < sentMs)
        this.#violate("4", `STAN ${stan}: approval logged without an accepted ${mti} 00 to its request`);
    }
  }

  #onSend(mti: string, stan: string): void {
    this.#sent.set(mti + stan, this.#now);
    if (!this.#firstSent.has(stan)) this.#firstSent.set(stan, { step: this.step, t: this.#now, eventCount: this.events.length });
    const pending = this.context.storage.journal.pending();
    if (mti === "0400") {
      if (!pending.some((r) => r.stan === stan)) this.#violate("3", `0400 sent for STAN ${stan}, which no pending reversal record has`);
      return;
    }
    // Batch upload (0320) continues the settlement whose 0500 already came after the flush.
    if (mti === "0320") return;
    if (this.context.hasWorkingKeys())
      for (const record of pending)
        if ((this.#attemptedAt.get(record.stan) ?? -1) < this.#onlineSends)
          this.#violate("3", `${mti} sent while the reversal of STAN ${record.stan} (${record.state}) was not retried first`);
    this.#onlineSends++;
  }

  #onAccepted(mti: string, stan: string, f39: string | undefined): void {
    const requestMti = mti.slice(0, 2) + String(Number(mti[2]) - 1) + mti[3];
    const sentMs = this.#sent.get(requestMti + stan);
    if (sentMs !== undefined && this.#now >= sentMs + this.context.responseTimeoutMs)
      this.#violate(
        "4",
        `${mti} for STAN ${stan} accepted ${this.#now - sentMs} ms after its request (deadline ${this.context.responseTimeoutMs} ms)`,
      );
    this.#accepted.set(mti + stan, { t: this.#now, f39 });
    if (mti === "0410" && REVERSAL_FINAL_CODES.includes(f39 ?? "")) this.#reversalAnswered.add(stan);
  }

  /** Invariant 7: a slot verifies only an image signed and whole; only one that passes its self-test is confirmed. */
  #onUpdate(state: string, version: string): void {
    const kind = this.#imageKinds.get(version);
    if (state === "verified") {
      if (!BOOTABLE_KINDS.includes(kind)) this.#violate("7", `image ${version} (${String(kind)}) verified in its slot`);
      this.#verified.add(version);
    }
    if (state === "confirmed") {
      if (kind === "crashesOnBoot") this.#violate("7", `image ${version} confirmed though it fails its self-test`);
      this.#confirmedCode = Math.max(this.#confirmedCode, versionCode(version));
    }
  }

  /** Invariant 7: every boot runs the factory image or one that verified, never older than the last confirmed. */
  #onBoot(version: string): void {
    this.#lastBoot = version;
    if (!this.#verified.has(version)) this.#violate("7", `booted ${version}, an image that never verified`);
    else if (versionCode(version) < this.#confirmedCode) this.#violate("7", `booted ${version}, older than a version confirmed before`);
  }

  #scanEvent(event: SystemEvent): void {
    for (const key in event) {
      const value = event[key];
      if (typeof value !== "string") continue;
      const hit = this.context.scanner.scanText(value);
      if (hit !== undefined) this.#violate("6", `${hit.kind} of ${hit.card} in clear in a ${event.ev} event (field ${key})`);
    }
  }

  // ------------------------------------------------------------ at quiescence

  /**
   * Invariant 8: what the voids and refunds naming a sale gave back comes to no more than the sale took, per
   * sale of the terminal's log (invariant 1 ties that log to the host's). A void or refund names its sale by
   * STAN within its own batch.
   */
  #noSalePaidBackTwice(log: readonly ApprovedRecord[]): void {
    const sales = new Map<string, ApprovedRecord>();
    const givenBack = new Map<string, { amount: number; stans: string[] }>();
    for (const r of log) {
      if (r.op === "sale") sales.set(`${r.batch}/${r.stan}`, r);
      else if (r.originalStan !== undefined) {
        const key = `${r.batch}/${r.originalStan}`;
        const back = givenBack.get(key) ?? { amount: 0, stans: [] };
        givenBack.set(key, { amount: back.amount + r.amount, stans: [...back.stans, `${r.op} ${r.stan}`] });
      }
    }
    for (const [key, back] of givenBack) {
      const sale = sales.get(key);
      if (sale !== undefined && back.amount > sale.amount)
        this.#violateAt(sale.stan, "8", `sale ${key} of ${sale.amount}: ${back.stans.join(", ")} gave back ${back.amount}`);
    }
  }

  /** The checks that need the whole run: call once the system is quiescent. */
  finish(nvImage: Uint8Array | undefined): void {
    const { storage, ledger, tid } = this.context;
    const journal = storage.journal;
    const log = [...storage.settled, ...approvedList(journal)];
    const terminal = new Map(log.map((r) => [`${r.batch}/${r.stan}`, r]));
    const standing = ledger.transactions().filter((t) => t.state === "approved" || t.state === "voided");
    const host = new Map(standing.map((t) => [`${t.batch}/${t.stan}`, t]));
    for (const [key, t] of host) {
      const mine = terminal.get(key);
      if (mine === undefined && t.kind !== "refund")
        this.#violateAt(t.stan, "2", `host ${t.kind} ${key} of ${t.amount} stands ${t.state}, the terminal never completed it`);
      else if (mine === undefined) this.#violateAt(t.stan, "1", `host refund ${key} of ${t.amount} stands, the terminal log lacks it`);
      else if (mine.op !== t.kind || mine.amount !== t.amount)
        this.#violateAt(t.stan, "1", `${key}: host ${t.kind} ${t.amount}, terminal ${mine.op} ${mine.amount}`);
    }
    for (const [key, r] of terminal) {
      if (host.has(key)) continue;
      const state = ledger.find(tid, r.batch, r.stan)?.state ?? "never booked";
      this.#violateAt(r.stan, "1", `terminal ${r.op} ${key} of ${r.amount} is logged approved, host: ${state}`);
    }
    this.#noSalePaidBackTwice(log);
    for (const record of journal.pending()) this.#violate("3", `STAN ${record.stan} still ${record.state} at quiescence`);
    // A record not closed by any operation that returned, gone from the journal, while the host holds an approval: lost.
    const loggedStans = new Set(log.map((r) => r.stan));
    for (const [stan, operation] of this.#lastOperation) {
      if (operation !== "arm" && operation !== "reversalDue" && operation !== "failed") continue;
      if (loggedStans.has(stan) || journal.pending().some((r) => r.stan === stan)) continue;
      const held = standing.find((t) => t.stan === stan);
      if (held !== undefined)
        this.#violate("3", `STAN ${stan} (${operation}) vanished from the journal while the host holds it ${held.state}`);
    }
    for (const [key, effects] of ledger.effects) if (effects > 1) this.#violate("3", `reversal of ${key} took effect ${effects} times`);
    if (this.#imageKinds.get(this.#lastBoot) === "crashesOnBoot")
      this.#violate("7", `the terminal ends running ${this.#lastBoot}, an image that fails its self-test`);
    if (nvImage !== undefined) {
      const hit = this.context.scanner.scanBytes(nvImage);
      if (hit !== undefined) this.#violate("6", `${hit.kind} of ${hit.card} (${hit.encoding}) at NV offset ${hit.offset}`);
    }
  }

  fail(invariant: Invariant, detail: string): void {
    this.#violate(invariant, detail);
  }

  /** An end-of-run violation about one STAN: reported at the step and time that STAN first went out. */
  #violateAt(stan: string, invariant: Invariant, detail: string): void {
    const origin = this.#firstSent.get(stan);
    if (origin === undefined) return this.#violate(invariant, detail);
    if (this.violations.length >= VIOLATIONS_MAX) return;
    this.violations.push({ invariant, ...origin, detail: `${detail} (found at quiescence)` });
  }

  #violate(invariant: Invariant, detail: string): void {
    if (this.violations.length >= VIOLATIONS_MAX) return;
    this.violations.push({ invariant, step: this.step, t: this.#now, detail, eventCount: this.events.length });
  }
}
