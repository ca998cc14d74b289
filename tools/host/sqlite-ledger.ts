/**
 * The ledger in SQLite (better-sqlite3 v12, synchronous). A file database
 * survives host restarts; ":memory:" serves tests and the in-process runners.
 * Every booking that touches two rows runs in one SQLite transaction.
 *
 * A file ledger runs in WAL mode with synchronous = NORMAL: a commit writes the
 * WAL without waiting for the disk; only a checkpoint syncs. Checkpoints run in
 * a worker thread on a connection of their own (PASSIVE: they never block a
 * writer), so the host's event loop never waits for an fsync; automatic
 * checkpoints on the serving connection are off (a checkpoint inside a commit
 * stalled every terminal for up to 250 ms under load).
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
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
  TransactionRecord,
} from "./ledger";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS terminals (
  tid TEXT PRIMARY KEY,
  batch TEXT NOT NULL,
  working_keys BLOB,
  signed_on_ms INTEGER NOT NULL,
  pending_keys BLOB
);
CREATE TABLE IF NOT EXISTS transactions (
  tid TEXT NOT NULL,
  batch TEXT NOT NULL,
  stan TEXT NOT NULL,
  mid TEXT NOT NULL,
  mti TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('sale', 'void', 'refund')),
  amount INTEGER NOT NULL CHECK (amount >= 0),
  pan_masked TEXT NOT NULL,
  domestic INTEGER NOT NULL,
  response_code TEXT NOT NULL,
  auth_code TEXT NOT NULL,
  rrn TEXT NOT NULL,
  original_batch TEXT,
  original_stan TEXT,
  state TEXT NOT NULL CHECK (state IN ('approved', 'declined', 'reversed', 'voided')),
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (tid, batch, stan)
);
-- A void or a refund asks what names its sale (refundedAmount).
CREATE INDEX IF NOT EXISTS transactions_by_original ON transactions (tid, original_batch, original_stan);
-- A refund that names its sale by STAN alone (latestSale).
CREATE INDEX IF NOT EXISTS transactions_by_stan ON transactions (tid, stan);
CREATE TABLE IF NOT EXISTS reversals (
  tid TEXT NOT NULL,
  batch TEXT NOT NULL,
  stan TEXT NOT NULL,
  reason TEXT NOT NULL,
  outcome TEXT NOT NULL,
  received INTEGER NOT NULL,
  first_ms INTEGER NOT NULL,
  PRIMARY KEY (tid, batch, stan)
);
CREATE TABLE IF NOT EXISTS settlements (
  tid TEXT NOT NULL,
  batch TEXT NOT NULL,
  terminal_totals TEXT NOT NULL,
  host_totals TEXT NOT NULL,
  balanced INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (tid, batch)
);
CREATE TABLE IF NOT EXISTS batch_uploads (
  id INTEGER PRIMARY KEY,
  tid TEXT NOT NULL,
  batch TEXT NOT NULL,
  stan TEXT NOT NULL,
  network_code TEXT NOT NULL,
  record_hex TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);
`;

/** The lines a reconcile view lists per state; more is summarised by count and amount only. */
const VIEW_LINES_MAX = 10_000;
/** How often the checkpoint worker moves the WAL into the database. */
const CHECKPOINT_INTERVAL_MS = 1000;

/** The checkpoint worker (CommonJS, run with eval): its own connection, a PASSIVE checkpoint every interval. */
const CHECKPOINT_WORKER = `
const { workerData } = require("node:worker_threads");
const Database = require(workerData.module);
const db = new Database(workerData.path);
setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch {
    // Busy or closing: the next interval tries again.
  }
}, workerData.intervalMs);
`;

interface TransactionRow {
  tid: string;
  batch: string;
  stan: string;
  mid: string;
  mti: string;
  kind: "sale" | "void" | "refund";
  amount: number;
  pan_masked: string;
  domestic: number;
  response_code: string;
  auth_code: string;
  rrn: string;
  original_batch: string | null;
  original_stan: string | null;
  state: StoredTransaction["state"];
  created_ms: number;
}

function fromRow(row: TransactionRow): StoredTransaction {
  return {
    tid: row.tid,
    batch: row.batch,
    stan: row.stan,
    mid: row.mid,
    mti: row.mti,
    kind: row.kind,
    amount: row.amount,
    panMasked: row.pan_masked,
    domestic: row.domestic === 1,
    responseCode: row.response_code,
    authCode: row.auth_code,
    rrn: row.rrn,
    originalBatch: row.original_batch ?? undefined,
    originalStan: row.original_stan ?? undefined,
    state: row.state,
    createdMs: row.created_ms,
  };
}

export class SqliteLedger implements Ledger {
  readonly #db: Database.Database;
  readonly #find: Database.Statement;
  readonly #insert: Database.Statement;
  readonly #setState: Database.Statement;
  readonly #findReversal: Database.Statement;
  readonly #insertReversal: Database.Statement;
  readonly #updateReversal: Database.Statement;
  readonly #totals: Database.Statement;
  readonly #refunded: Database.Statement;
  readonly #latestSale: Database.Statement;
  readonly #book: (record: TransactionRecord) => boolean;
  readonly #reverse: (request: ReversalRequest) => ReversalOutcome;
  readonly #checkpointer: Worker | undefined;

  /** `path` is a file (created when missing) or ":memory:". */
  constructor(path: string) {
    this.#db = new Database(path);
    if (path !== ":memory:") {
      this.#db.pragma("journal_mode = WAL");
      // NORMAL in WAL mode survives a host process crash; the simulator does not promise power-loss durability.
      this.#db.pragma("synchronous = NORMAL");
    }
    this.#db.exec(SCHEMA);
    if (path !== ":memory:") {
      this.#db.pragma("wal_autocheckpoint = 0");
      this.#checkpointer = new Worker(CHECKPOINT_WORKER, {
        eval: true,
        workerData: { module: createRequire(import.meta.url).resolve("better-sqlite3"), path, intervalMs: CHECKPOINT_INTERVAL_MS },
      });
      // The worker never keeps the process alive, and its failure (e.g. at exit) is not the ledger's.
      this.#checkpointer.unref();
      this.#checkpointer.on("error", () => undefined);
    }
    // Ledgers written before pending keys existed get the column (NULL: no pending sign-on).
    const columns = this.#db.prepare("SELECT name FROM pragma_table_info('terminals')").all() as { name: string }[];
    if (!columns.some((c) => c.name === "pending_keys")) this.#db.exec("ALTER TABLE terminals ADD COLUMN pending_keys BLOB");
    this.#find = this.#db.prepare("SELECT * FROM transactions WHERE tid = ? AND batch = ? AND stan = ?");
    this.#insert = this.#db.prepare(
      `INSERT OR IGNORE INTO transactions (tid, batch, stan, mid, mti, kind, amount, pan_masked, domestic, response_code, auth_code, rrn,
         original_batch, original_stan, state, created_ms)
       VALUES (@tid, @batch, @stan, @mid, @mti, @kind, @amount, @panMasked, @domestic, @responseCode, @authCode, @rrn,
         @originalBatch, @originalStan, @state, @createdMs)`,
    );
    this.#setState = this.#db.prepare("UPDATE transactions SET state = ? WHERE tid = ? AND batch = ? AND stan = ?");
    this.#findReversal = this.#db.prepare("SELECT outcome FROM reversals WHERE tid = ? AND batch = ? AND stan = ?");
    this.#insertReversal = this.#db.prepare(
      "INSERT INTO reversals (tid, batch, stan, reason, outcome, received, first_ms) VALUES (?, ?, ?, ?, ?, 1, ?)",
    );
    this.#updateReversal = this.#db.prepare(
      "UPDATE reversals SET received = received + 1, outcome = ? WHERE tid = ? AND batch = ? AND stan = ?",
    );
    this.#totals = this.#db.prepare(
      `SELECT domestic, kind, COUNT(*) AS count, COALESCE(SUM(amount), 0) AS amount FROM transactions
       WHERE tid = ? AND batch = ? AND state = 'approved' AND kind IN ('sale', 'refund') GROUP BY domestic, kind`,
    );
    this.#refunded = this.#db.prepare(
      `SELECT COALESCE(SUM(amount), 0) AS amount FROM transactions
       WHERE tid = ? AND original_batch = ? AND original_stan = ? AND kind = 'refund' AND state = 'approved'`,
    );
    this.#latestSale = this.#db.prepare(
      "SELECT * FROM transactions WHERE tid = ? AND stan = ? AND kind = 'sale' ORDER BY created_ms DESC, rowid DESC LIMIT 1",
    );
    this.#book = this.#db.transaction((record: TransactionRecord): boolean => this.#bookOne(record));
    this.#reverse = this.#db.transaction((request: ReversalRequest): ReversalOutcome => {
      const { tid, batch, stan } = request;
      const previous = this.#findReversal.get(tid, batch, stan) as { outcome: ReversalOutcome } | undefined;
      if (previous !== undefined && previous.outcome !== "unknownOriginal") {
        this.#updateReversal.run(previous.outcome, tid, batch, stan);
        return "repeat";
      }
      const original = this.find(tid, batch, stan);
      const outcome: ReversalOutcome =
        original === undefined ? "unknownOriginal" : original.state === "approved" ? "reversed" : "nothingToReverse";
      if (outcome === "reversed") {
        this.#setState.run("reversed", tid, batch, stan);
        // Undoing a void puts its sale back.
        if (original!.kind === "void") this.#setState.run("approved", tid, original!.originalBatch, original!.originalStan);
      }
      if (previous === undefined) this.#insertReversal.run(tid, batch, stan, request.reason, outcome, request.nowMs);
      else this.#updateReversal.run(outcome, tid, batch, stan);
      return outcome;
    });
  }

  find(tid: string, batch: string, stan: string): StoredTransaction | undefined {
    const row = this.#find.get(tid, batch, stan) as TransactionRow | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  latestSale(tid: string, stan: string): StoredTransaction | undefined {
    const row = this.#latestSale.get(tid, stan) as TransactionRow | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  refundedAmount(tid: string, batch: string, stan: string): number {
    return (this.#refunded.get(tid, batch, stan) as { amount: number }).amount;
  }

  #bookOne(record: TransactionRecord): boolean {
    const state = record.responseCode === "00" ? "approved" : "declined";
    const inserted = this.#insert.run({
      ...record,
      domestic: record.domestic ? 1 : 0,
      originalBatch: record.originalBatch ?? null,
      originalStan: record.originalStan ?? null,
      state,
    });
    if (inserted.changes === 0) return false;
    if (record.kind === "void" && state === "approved") this.#setState.run("voided", record.tid, record.originalBatch, record.originalStan);
    return true;
  }

  book(record: TransactionRecord): boolean {
    // One INSERT is atomic by itself; only a void touches a second row and needs a transaction.
    return record.kind === "void" ? this.#book(record) : this.#bookOne(record);
  }

  reverse(request: ReversalRequest): ReversalOutcome {
    return this.#reverse(request);
  }

  totals(tid: string, batch: string): BatchTotals {
    const empty = (): { debitAmount: number; debitCount: number; creditAmount: number; creditCount: number } => ({
      debitAmount: 0,
      debitCount: 0,
      creditAmount: 0,
      creditCount: 0,
    });
    const domestic = empty();
    const foreign = empty();
    for (const row of this.#totals.all(tid, batch) as { domestic: number; kind: string; count: number; amount: number }[]) {
      const totals = row.domestic === 1 ? domestic : foreign;
      if (row.kind === "sale") {
        totals.debitAmount = row.amount;
        totals.debitCount = row.count;
      } else {
        totals.creditAmount = row.amount;
        totals.creditCount = row.count;
      }
    }
    return { domestic, foreign };
  }

  settle(record: SettlementRecord): void {
    this.#db
      .prepare(
        `INSERT OR REPLACE INTO settlements (tid, batch, terminal_totals, host_totals, balanced, created_ms) VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(
        record.tid,
        record.batch,
        JSON.stringify(record.terminalTotals),
        JSON.stringify(record.hostTotals),
        record.balanced ? 1 : 0,
        record.createdMs,
      );
  }

  uploadBatchRecord(record: BatchUploadRecord): void {
    this.#db
      .prepare("INSERT INTO batch_uploads (tid, batch, stan, network_code, record_hex, created_ms) VALUES (?, ?, ?, ?, ?, ?)")
      .run(record.tid, record.batch, record.stan, record.networkCode, record.recordHex, record.createdMs);
  }

  session(tid: string): TerminalSession | undefined {
    const row = this.#db.prepare("SELECT * FROM terminals WHERE tid = ?").get(tid) as
      { tid: string; batch: string; working_keys: Buffer | null; signed_on_ms: number; pending_keys: Buffer | null } | undefined;
    if (row === undefined) return undefined;
    return {
      tid: row.tid,
      batch: row.batch,
      workingKeysUnderTmk: row.working_keys === null ? undefined : new Uint8Array(row.working_keys),
      pendingKeysUnderTmk: row.pending_keys === null ? undefined : new Uint8Array(row.pending_keys),
      signedOnMs: row.signed_on_ms,
    };
  }

  saveSession(session: TerminalSession): void {
    this.#db
      .prepare("INSERT OR REPLACE INTO terminals (tid, batch, working_keys, signed_on_ms, pending_keys) VALUES (?, ?, ?, ?, ?)")
      .run(session.tid, session.batch, session.workingKeysUnderTmk ?? null, session.signedOnMs, session.pendingKeysUnderTmk ?? null);
  }

  atomically<T>(work: () => T): T {
    // better-sqlite3 nests a transaction inside another as a savepoint, so book/reverse keep theirs.
    return this.#db.transaction(work)();
  }

  view(tid: string): ReconcileView {
    // A standing void moves no money of its own (its sale is 'voided'), so approved lists sales and refunds only.
    const lines = (state: string, kinds: string): { count: number; amount: number; transactions: LedgerLine[] } => {
      const where = `tid = ? AND state = ? AND kind IN (${kinds})`;
      const summary = this.#db
        .prepare(`SELECT COUNT(*) AS count, COALESCE(SUM(amount), 0) AS amount FROM transactions WHERE ${where}`)
        .get(tid, state) as { count: number; amount: number };
      const transactions = this.#db
        .prepare(`SELECT batch, stan, kind, amount FROM transactions WHERE ${where} ORDER BY batch, stan LIMIT ?`)
        .all(tid, state, VIEW_LINES_MAX) as LedgerLine[];
      return { count: summary.count, amount: summary.amount, transactions };
    };
    const net = this.#db
      .prepare(
        `SELECT COALESCE(SUM(CASE kind WHEN 'sale' THEN amount WHEN 'refund' THEN -amount ELSE 0 END), 0) AS net
         FROM transactions WHERE tid = ? AND state = 'approved'`,
      )
      .get(tid) as { net: number };
    const unknown = this.#db
      .prepare("SELECT batch, stan FROM reversals WHERE tid = ? AND outcome = 'unknownOriginal' ORDER BY batch, stan LIMIT ?")
      .all(tid, VIEW_LINES_MAX) as { batch: string; stan: string }[];
    const unbalanced = this.#db
      .prepare("SELECT batch FROM settlements WHERE tid = ? AND balanced = 0 ORDER BY batch LIMIT ?")
      .all(tid, VIEW_LINES_MAX) as { batch: string }[];
    return {
      tid,
      approved: lines("approved", "'sale', 'refund'"),
      reversed: lines("reversed", "'sale', 'void', 'refund'"),
      net: net.net,
      unresolved: [
        ...unknown.map((r) => ({ batch: r.batch, stan: r.stan, reason: "unknownOriginal" as const })),
        ...unbalanced.map((r) => ({ batch: r.batch, reason: "unbalancedSettlement" as const })),
      ],
    };
  }

  close(): void {
    void this.#checkpointer?.terminate();
    // What is left in the WAL goes into the database now, so a closed ledger is one file.
    if (this.#checkpointer !== undefined) this.#db.pragma("wal_checkpoint(TRUNCATE)");
    this.#db.close();
  }
}
