/**
 * The page's reversal timeline, one per STAN: the request, its answer or its
 * deadline, every reversal attempt (a connect refused or a connection cut
 * included, which the trace's send/recv events never show), backoffs, late or
 * discarded answers, and how the record ended. Built from the engine's events
 * (the screen-only ones too) and the terminal's connection failures; bounded.
 */
import type { TransportFailure } from "../../modules/platform/transport";
import type { TxnEvent } from "../../modules/txn/events";

export type TimelineKind =
  | "request"
  | "answer"
  | "late"
  | "discarded"
  | "deadline"
  | "attempt"
  | "sent"
  | "refused"
  | "link"
  | "backoff"
  | "offline"
  | "power"
  | "result"
  | "resolution";

export interface TimelineEntry {
  /** Terminal clock ms since the run started (the trace's `t`). */
  readonly t: number;
  readonly kind: TimelineKind;
  readonly text: string;
}

/** As the journal has it: a 冲正失败 record being retried stays failed until a 0410 closes it. */
export type Resolution = "open" | "reversed" | "failed" | "completed";

export interface StanTimeline {
  readonly stan: string;
  op: string;
  amount: number | undefined;
  /** A reversal was owed at some point: only these are shown. */
  reversal: boolean;
  resolution: Resolution;
  readonly entries: TimelineEntry[];
}

const STANS_MAX = 50;
const ENTRIES_MAX = 100;
const REASONS: Readonly<Record<string, string>> = Object.freeze({
  "98": "98 no answer",
  A0: "A0 bad MAC",
  "06": "06 failed after approval",
});
const WHY: Readonly<Record<string, string>> = Object.freeze({
  late: "late — the deadline had passed, discarded",
  duplicate: "duplicate — discarded",
  mismatch: "does not match the request — discarded",
  badMac: "bad MAC — discarded",
});

export class ReversalTimeline {
  readonly #stans = new Map<string, StanTimeline>();
  /** The STAN whose exchange or reversal attempt is on the wire: connection failures belong to it. */
  #current: string | undefined;

  /** The timelines that involved a reversal, oldest first. */
  list(): readonly StanTimeline[] {
    return [...this.#stans.values()].filter((line) => line.reversal);
  }

  clear(): void {
    this.#stans.clear();
    this.#current = undefined;
  }

  onEngineEvent(t: number, event: TxnEvent): void {
    switch (event.ev) {
      case "exchange":
        if (event.phase === "connecting") {
          this.#current = event.stan;
          this.#line(event.stan).op = event.op;
        }
        return;
      case "send":
        if (event.mti === "0400") return this.#add(event.stan, t, "sent", `0400 sent${event.f39 ? ` (F39 ${event.f39})` : ""}`);
        return this.#add(event.stan, t, "request", `${event.mti} sent`);
      case "recv": {
        if (event.stan === undefined) return;
        const f39 = event.f39 === undefined ? "" : ` F39 ${event.f39}`;
        if (event.discarded !== true) return this.#add(event.stan, t, "answer", `${event.mti}${f39} received`);
        const reason = event.reason ?? "discarded";
        // An answer for another STAN belongs to the exchange that was waiting when it came.
        const stan = reason === "mismatch" && this.#current !== undefined ? this.#current : event.stan;
        const text = `${event.mti}${f39}${stan === event.stan ? "" : ` (STAN ${event.stan})`} ${WHY[reason] ?? reason}`;
        return this.#add(stan, t, reason === "late" ? "late" : "discarded", text);
      }
      case "journal":
        return this.#journal(t, event.stan, event.state, event.reason);
      case "reversal":
        return this.#reversal(t, event);
      case "result":
        if (event.stan !== undefined && this.#stans.has(event.stan)) {
          const amount = event.amount === undefined ? "" : ` ${event.amount} fen`;
          this.#add(event.stan, t, "result", `result: ${event.op}${amount} ${event.outcome}${event.reversed ? ", reversed" : ""}`);
        }
        this.#current = undefined;
        return;
      default:
        return;
    }
  }

  /** A connection of the terminal failed; it belongs to the exchange on the wire, if any. */
  onLinkFailure(t: number, failure: TransportFailure, detail: string, connected: boolean): void {
    const stan = this.#current;
    if (stan === undefined || this.#stans.get(stan)?.resolution !== "open") return;
    if (connected) return this.#add(stan, t, "link", `connection ${failure}: ${detail}`);
    this.#add(stan, t, "refused", `connect ${failure === "refused" ? "refused" : `failed (${failure})`}: ${detail}`);
  }

  /** A power cut or off: every open reversal waits for the next power-on. */
  onPower(t: number, state: string): void {
    if (state === "on") return;
    for (const line of this.#stans.values()) if (line.resolution === "open") this.#add(line.stan, t, "power", `power ${state}`);
    this.#current = undefined;
  }

  #journal(t: number, stan: string, state: string, reason: string | undefined): void {
    const line = this.#line(stan);
    switch (state) {
      case "armed":
        return this.#add(stan, t, "request", "armed on flash (a reversal is owed if no answer comes)");
      case "reversalDue":
        line.reversal = true;
        return this.#add(stan, t, "deadline", `reversal due: ${REASONS[reason ?? "98"] ?? reason}`);
      case "completed":
        line.resolution = "completed";
        return this.#add(stan, t, "resolution", "completed: answered, nothing owed");
      case "reversed":
        line.resolution = "reversed";
        return this.#add(stan, t, "resolution", "reversed: the host took the reversal");
      case "failed":
        line.resolution = "failed";
        return this.#add(stan, t, "resolution", "冲正失败 reversal failed: attempts spent, still owed");
      default:
        return;
    }
  }

  #reversal(t: number, event: Extract<TxnEvent, { ev: "reversal" }>): void {
    const line = this.#line(event.stan);
    line.reversal = true;
    line.op = event.op;
    line.amount = event.amount;
    switch (event.phase) {
      case "attempt":
        this.#current = event.stan;
        return this.#add(
          event.stan,
          t,
          "attempt",
          `attempt ${event.attempt} of ${event.attempts}${event.deferred ? " (owed from before)" : ""}`,
        );
      case "waiting":
        return this.#add(event.stan, t, "attempt", `waiting for the 0410, deadline ${event.timeoutMs} ms`);
      case "backoff":
        return this.#add(event.stan, t, "backoff", `backoff ${event.timeoutMs} ms before attempt ${event.attempt}`);
      case "offline":
        this.#current = undefined;
        return this.#add(event.stan, t, "offline", "nothing sent (no connection): still owed, not counted as an attempt");
      default:
        this.#current = undefined;
        return;
    }
  }

  #line(stan: string): StanTimeline {
    let line = this.#stans.get(stan);
    if (line !== undefined) return line;
    if (this.#stans.size >= STANS_MAX) this.#stans.delete(this.#stans.keys().next().value!);
    line = { stan, op: "", amount: undefined, reversal: false, resolution: "open", entries: [] };
    this.#stans.set(stan, line);
    return line;
  }

  #add(stan: string, t: number, kind: TimelineKind, text: string): void {
    const entries = this.#line(stan).entries;
    if (entries.length >= ENTRIES_MAX) entries.splice(1, 1);
    entries.push({ t, kind, text });
  }
}
