/**
 * The host Ledger (tools/host/ledger.ts) in memory, with the semantics of the
 * SQLite ledger: the scenario runner's ledger where the better-sqlite3 native
 * binding is not built, and a faster one for many runs (chaos).
 */
import type {
  BatchTotals,
  BatchUploadRecord,
  Ledger,
  LedgerLine,
  ReconcileView,
  ReversalOutcome,
  ReversalRequest,
  SettlementRecord,
  StoredTransaction,
  TerminalSession,
  Totals,
  TransactionRecord,
  TransactionState,
} from "../host/ledger";

const TRANSACTIONS_MAX = 100_000;

export class MemoryLedger implements Ledger {
  readonly #transactions = new Map<string, StoredTransaction>();
  readonly #reversals = new Map<string, ReversalOutcome>();
  readonly #sessions = new Map<string, TerminalSession>();
  readonly #settlements: SettlementRecord[] = [];
  readonly uploads: BatchUploadRecord[] = [];

  find(tid: string, batch: string, stan: string): StoredTransaction | undefined {
    return this.#transactions.get(`${tid}/${batch}/${stan}`);
  }

  latestSale(tid: string, stan: string): StoredTransaction | undefined {
    let latest: StoredTransaction | undefined;
    for (const t of this.#transactions.values())
      if (t.tid === tid && t.stan === stan && t.kind === "sale" && (latest === undefined || t.createdMs >= latest.createdMs)) latest = t;
    return latest;
  }

  refundedAmount(tid: string, batch: string, stan: string): number {
    let amount = 0;
    for (const t of this.#transactions.values())
      if (t.tid === tid && t.kind === "refund" && t.state === "approved" && t.originalBatch === batch && t.originalStan === stan)
        amount += t.amount;
    return amount;
  }

  book(record: TransactionRecord): boolean {
    const key = `${record.tid}/${record.batch}/${record.stan}`;
    if (this.#transactions.has(key) || this.#transactions.size >= TRANSACTIONS_MAX) return false;
    const state: TransactionState = record.responseCode === "00" ? "approved" : "declined";
    this.#transactions.set(key, { ...record, state });
    if (record.kind === "void" && state === "approved") this.#setState(record.tid, record.originalBatch, record.originalStan, "voided");
    return true;
  }

  reverse(request: ReversalRequest): ReversalOutcome {
    const { tid, batch, stan } = request;
    const key = `${tid}/${batch}/${stan}`;
    const previous = this.#reversals.get(key);
    if (previous !== undefined && previous !== "unknownOriginal") return "repeat";
    const original = this.find(tid, batch, stan);
    const outcome: ReversalOutcome =
      original === undefined ? "unknownOriginal" : original.state === "approved" ? "reversed" : "nothingToReverse";
    if (outcome === "reversed") {
      this.#setState(tid, batch, stan, "reversed");
      if (original!.kind === "void") this.#setState(tid, original!.originalBatch, original!.originalStan, "approved");
    }
    this.#reversals.set(key, outcome);
    return outcome;
  }

  totals(tid: string, batch: string): BatchTotals {
    const zero = (): Totals => ({ debitAmount: 0, debitCount: 0, creditAmount: 0, creditCount: 0 });
    const domestic = zero();
    const foreign = zero();
    for (const t of this.#transactions.values()) {
      if (t.tid !== tid || t.batch !== batch || t.state !== "approved") continue;
      const into = (t.domestic ? domestic : foreign) as { -readonly [K in keyof Totals]: number };
      if (t.kind === "sale") {
        into.debitAmount += t.amount;
        into.debitCount++;
      }
      if (t.kind === "refund") {
        into.creditAmount += t.amount;
        into.creditCount++;
      }
    }
    return { domestic, foreign };
  }

  settle(record: SettlementRecord): void {
    this.#settlements.push(record);
  }

  uploadBatchRecord(record: BatchUploadRecord): void {
    this.uploads.push(record);
  }

  session(tid: string): TerminalSession | undefined {
    return this.#sessions.get(tid);
  }

  saveSession(session: TerminalSession): void {
    this.#sessions.set(session.tid, session);
  }

  view(tid: string): ReconcileView {
    const lines = (state: TransactionState, kinds: readonly string[]) => {
      const transactions: LedgerLine[] = [...this.#transactions.values()]
        .filter((t) => t.tid === tid && t.state === state && kinds.includes(t.kind))
        .map((t) => ({ batch: t.batch, stan: t.stan, kind: t.kind, amount: t.amount }))
        .sort((a, b) => (a.batch + a.stan < b.batch + b.stan ? -1 : 1));
      return { count: transactions.length, amount: transactions.reduce((s, t) => s + t.amount, 0), transactions };
    };
    const approved = lines("approved", ["sale", "refund"]);
    const net = approved.transactions.reduce((s, t) => s + (t.kind === "sale" ? t.amount : -t.amount), 0);
    const unresolved: ReconcileView["unresolved"] = [];
    for (const [key, outcome] of this.#reversals)
      if (outcome === "unknownOriginal" && key.startsWith(`${tid}/`))
        unresolved.push({ batch: key.split("/")[1], stan: key.split("/")[2], reason: "unknownOriginal" });
    for (const s of this.#settlements)
      if (s.tid === tid && !s.balanced) unresolved.push({ batch: s.batch, reason: "unbalancedSettlement" });
    return { tid, approved, reversed: lines("reversed", ["sale", "void", "refund"]), net, unresolved };
  }

  close(): void {}

  #setState(tid: string, batch: string | undefined, stan: string | undefined, state: TransactionState): void {
    const key = `${tid}/${batch}/${stan}`;
    const t = this.#transactions.get(key);
    if (t !== undefined) this.#transactions.set(key, { ...t, state });
  }
}
