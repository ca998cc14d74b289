/**
 * Bugs planted on purpose, one per invariant, to show the oracle catches each
 * (tests/node/chaos). Each wraps the terminal's ports (journal, clock, screen,
 * events, update hardware) with a faulty decorator; no module is edited. Never used by
 * `xspos chaos` itself.
 */
import type { Clock } from "../../modules/platform/clock";
import type { ApprovedRecord, ReversalRecord, TxnJournal } from "../../modules/txn/ports";
import { ForwardingJournal } from "../scenario/forwarding-journal";
import type { TxnEvent } from "../../modules/txn/events";
import type { Invariant } from "./oracle";
import type { ChaosSystem, PortHooks } from "./system";

export interface PlantedBug {
  readonly name: string;
  /** The invariant whose check must catch it. */
  readonly invariant: Invariant;
  hooks(): PortHooks;
}

/** Invariant 1: a declined sale is logged as approved (the terminal's log gains what the host never approved). */
const declineLoggedApproved: PlantedBug = {
  name: "a declined sale logged as approved",
  invariant: "1",
  hooks: () => {
    const armed = new Map<string, Parameters<TxnJournal["arm"]>>();
    return {
      journal: (inner) =>
        new (class extends ForwardingJournal {
          override arm(...args: Parameters<TxnJournal["arm"]>): void {
            armed.set(args[0].stan, args);
            this.inner.arm(...args);
          }
          override complete(stan: string): void {
            const [record, card] = armed.get(stan)!;
            if (record.op !== "sale") return this.inner.complete(stan);
            this.inner.approve({ ...record, ...card, op: "sale", panMasked: "", authCode: "", rrn: "" });
          }
        })(inner),
    };
  },
};

/**
 * Invariant 2: the armed record is cleared before the approval is logged, and
 * the approval is logged only once the terminal is idle again: a power cut in
 * between leaves the host's approval with nothing on the terminal.
 */
const clearReversalBeforeApproval: PlantedBug = {
  name: "the reversal cleared before the approval is logged",
  invariant: "2",
  hooks: () => {
    const armed = new Map<string, ReversalRecord>();
    return {
      journal: (inner, system: ChaosSystem) =>
        new (class extends ForwardingJournal {
          override arm(...args: Parameters<TxnJournal["arm"]>): void {
            armed.set(args[0].stan, args[0]);
            this.inner.arm(...args);
          }
          override approve(record: ApprovedRecord): void {
            this.inner.complete(record.stan);
            const cleared = armed.get(record.stan)!;
            // Logged later (armed again, then approved), from a timer of the running terminal: a cut first, and it never is.
            system.engineClock?.schedule(1_000, () =>
              system.guard(() => {
                this.inner.arm(cleared, record);
                this.inner.approve(record);
              }),
            );
          }
        })(inner),
    };
  },
};

/** Invariant 3: boot recovery drops the records it made reversal-due (marks them reversed, nothing sent). */
const dropReversalAtBoot: PlantedBug = {
  name: "a reversal record dropped at boot",
  invariant: "3",
  hooks: () => ({
    journal: (inner) =>
      new (class extends ForwardingJournal {
        override recover(): number {
          const due = this.inner.recover();
          for (const record of [...this.inner.pending()]) if (record.state === "reversalDue") this.inner.reversed(record.stan);
          return due;
        }
      })(inner),
  }),
};

/**
 * Invariant 3: a retried reversal goes out with a new STAN (so the host cannot match it to the
 * original); the journal itself still keys the record by the old one.
 */
const reversalWithNewStan: PlantedBug = {
  name: "a reversal sent again with a different STAN",
  invariant: "3",
  hooks: () => {
    const seen = new Set<string>();
    const originals = new Map<string, string>();
    const original = (stan: string) => originals.get(stan) ?? stan;
    return {
      journal: (inner) =>
        new (class extends ForwardingJournal {
          override pending(): readonly ReversalRecord[] {
            return this.inner.pending().map((record) => {
              if (!seen.has(record.stan)) {
                seen.add(record.stan);
                return record;
              }
              const stan = String((Number(record.stan) + 500_000) % 1_000_000).padStart(6, "0");
              originals.set(stan, record.stan);
              return { ...record, stan, fields: { ...record.fields, 11: stan } };
            });
          }
          override attempt(stan: string): number {
            return super.attempt(original(stan));
          }
          override reversed(stan: string): void {
            this.inner.reversed(original(stan));
          }
          override failed(stan: string): void {
            this.inner.failed(original(stan));
          }
        })(inner),
    };
  },
};

/**
 * Invariant 4: the terminal's clock reads a value cached at the last timer
 * event, and the response timer runs 2 s long: an answer arriving after its
 * deadline is checked against a stale time and taken as the answer.
 */
const acceptLateResponse: PlantedBug = {
  name: "a late response accepted",
  invariant: "4",
  hooks: () => ({
    clock: (clock: Clock, system: ChaosSystem): Clock => {
      let cachedMs = clock.nowMs();
      return {
        nowMs: () => cachedMs,
        cancel: (handle) => clock.cancel(handle),
        schedule: (delayMs, callback) => {
          cachedMs = clock.nowMs();
          const stretchedMs = delayMs === system.parameters.responseTimeoutMs ? delayMs + 2_000 : delayMs;
          return clock.schedule(stretchedMs, () => {
            cachedMs = clock.nowMs();
            callback();
          });
        },
      };
    },
  }),
};

/** Invariant 5: 冲正失败 shown when a reversal succeeded. */
const reversalFailedAfterSuccess: PlantedBug = {
  name: "冲正失败 shown when nothing is unresolved",
  invariant: "5",
  hooks: () => {
    let tell: ((event: TxnEvent) => void) | undefined;
    return {
      events: (handler) => (tell = handler),
      journal: (inner) =>
        new (class extends ForwardingJournal {
          override reversed(stan: string): void {
            const record = this.inner.pending().find((r) => r.stan === stan);
            this.inner.reversed(stan);
            const amount = record?.amount ?? 0;
            tell?.({
              ev: "reversal",
              phase: "failed",
              stan,
              op: "sale",
              amount,
              attempts: 1,
              deferred: false,
              firstFailure: true,
              salesBlocked: false,
            });
          }
        })(inner),
    };
  },
};

/** Invariant 6: the card's PAN logged in clear when a record is armed. */
const panInLog: PlantedBug = {
  name: "a PAN logged in clear",
  invariant: "6",
  hooks: () => ({
    journal: (inner, system: ChaosSystem) =>
      new (class extends ForwardingJournal {
        override arm(...args: Parameters<TxnJournal["arm"]>): void {
          this.inner.arm(...args);
          system.emit({ ev: "log", line: `armed ${args[0].stan} card ${args[1].pan}` });
        }
      })(inner),
  }),
};

/** Invariant 7: the host's self-test passes whatever image runs (a crashing image is confirmed). */
const selfTestAlwaysPasses: PlantedBug = {
  name: "a self-test that passes every image",
  invariant: "7",
  hooks: () => ({ update: (update) => ({ ...update, selfTest: () => true }) }),
};

/**
 * Invariant 8: a void pays back a sale a refund already paid back in part. Both sides keep the rule, so both
 * lose it: the terminal's look-ups walk an approved log without its refunds, and the host's ledger sums no
 * refund against any sale.
 */
const voidAfterRefund: PlantedBug = {
  name: "a void of a sale a refund already paid back in part",
  invariant: "8",
  hooks: () => ({
    journal: (inner) =>
      new (class extends ForwardingJournal {
        override forEachApproved(visit: Parameters<TxnJournal["forEachApproved"]>[0], afterStan?: string): void {
          this.inner.forEachApproved((record, index) => (record.op === "refund" ? true : visit(record, index)), afterStan);
        }
      })(inner),
    ledger: (inner) =>
      new Proxy(inner, {
        get: (target, key) => {
          if (key === "refundedAmount") return () => 0;
          const value: unknown = Reflect.get(target, key, target);
          return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      }),
  }),
};

export const PLANTED_BUGS: readonly PlantedBug[] = Object.freeze([
  declineLoggedApproved,
  clearReversalBeforeApproval,
  dropReversalAtBoot,
  reversalWithNewStan,
  acceptLateResponse,
  reversalFailedAfterSuccess,
  panInLog,
  selfTestAlwaysPasses,
  voidAfterRefund,
]);
