/**
 * The closing `reconcile` event (docs/contracts.md): the host ledger against the terminal's log
 * for every approved-and-not-reversed transaction, what settlement closed during the run included.
 * Shared by the virtual-clock runner and the simulator's headless runs.
 */
import type { ApprovedRecord, TxnJournal } from "../../modules/txn/ports";
import { approvedList, ForwardingJournal } from "./forwarding-journal";
import type { Ledger } from "../host/ledger";

/** A closed record without its PAN: identity and amount are all a reconcile needs. */
export type SettledRecord = Pick<ApprovedRecord, "stan" | "batch" | "op" | "amount" | "originalStan">;

/** Settled records kept for one run's reconcile. */
const SETTLED_MAX = 10_000;

/** A journal plus plain copies of what settlement closed (the list outlives power cycles: pass the same array). */
export class SettlingJournal extends ForwardingJournal {
  constructor(
    inner: TxnJournal,
    readonly settled: SettledRecord[],
  ) {
    super(inner);
  }

  override closeBatch(batch: string): void {
    const closing = approvedList(this).filter((r) => r.batch === batch);
    super.closeBatch(batch);
    for (const r of closing) {
      if (this.settled.length >= SETTLED_MAX) this.settled.shift();
      this.settled.push({
        stan: r.stan,
        batch: r.batch,
        op: r.op,
        amount: r.amount,
        ...(r.originalStan !== undefined ? { originalStan: r.originalStan } : {}),
      });
    }
  }
}

interface Line {
  readonly batch: string;
  readonly stan: string;
  readonly kind: string;
  readonly amount: number;
}

export interface TerminalLog {
  /** What settlement closed during the run. */
  readonly settled: readonly SettledRecord[];
  /** The open batch's approved log. */
  readonly approved: readonly SettledRecord[];
  readonly reversalsPending: number;
}

export function reconcileEvent(
  ledger: Pick<Ledger, "view">,
  tid: string,
  terminal: TerminalLog,
): { ev: "reconcile" } & Record<string, unknown> {
  const hostLines: Line[] = ledger
    .view(tid)
    .approved.transactions.map((l) => ({ batch: l.batch, stan: l.stan, kind: l.kind, amount: l.amount }));
  const log = [...terminal.settled, ...terminal.approved];
  const voided = new Set(log.filter((r) => r.op === "void").map((r) => `${r.batch}/${r.originalStan}`));
  const terminalLines: Line[] = log
    .filter((r) => r.op !== "void" && !voided.has(`${r.batch}/${r.stan}`))
    .map((r) => ({ batch: r.batch, stan: r.stan, kind: r.op, amount: r.amount }));
  const key = (l: Line) => `${l.batch}/${l.stan}/${l.kind}/${l.amount}`;
  const hostKeys = hostLines.map(key).sort();
  const terminalKeys = terminalLines.map(key).sort();
  const agree = hostKeys.length === terminalKeys.length && hostKeys.every((k, i) => k === terminalKeys[i]);
  const summary = (keys: string[], lines: Line[]) => ({
    count: lines.length,
    amount: lines.reduce((s, l) => s + l.amount, 0),
    transactions: keys,
  });
  return {
    ev: "reconcile",
    agree,
    host: summary(hostKeys, hostLines),
    terminal: { ...summary(terminalKeys, terminalLines), reversalsPending: terminal.reversalsPending },
  };
}
