/**
 * One seeded day of trading on an unstable network (docs/resilience.md): the
 * chaos world's whole system (tools/chaos/system.ts) with the network model
 * (tools/chaos/network-model.ts) instead of injected faults, a merchant's
 * workload from opening to closing, a settlement at closing time, then
 * quiescence (the network good, sign-on, settlement) and the ledger oracle's
 * checks. Measured per day: reversals, 冲正失败 episodes shown, time from each
 * reversal's trigger to its resolution, messages sent, and from the oracle
 * reversals lost and reversals that took effect twice.
 *
 * The workload draws from its own stream, the outage timeline from its own,
 * so the same seed under two reversal policies trades the same day through
 * the same outages.
 */
import { SeededRandom } from "../../modules/platform/random";
import { TxnRequestError, type TxnEvent } from "../../modules/txn/engine";
import type { ReversalPolicy } from "../../modules/txn/reversal-policy";
import type { WorkingKeys } from "../../modules/crypto/keys";
import type { ApprovedRecord } from "../../modules/txn/ports";
import { CardPresentError } from "../scenario/card-desk";
import { NetworkModel, type NetworkModelParameters, type NetworkModelStats } from "./network-model";
import type { Oracle, Violation } from "./oracle";
import { oracleFor } from "./run";
import { WORKLOAD_PINS } from "./secrets";
import type { JournalOperation } from "./storage";
import { ChaosSystem, chaosParameters, type SystemEvent, type SystemObserver } from "./system";
import { approvedList } from "../scenario/forwarding-journal";

/** Opening to closing time, virtual. */
export const TRADING_DAY_MS = 10 * 60 * 60 * 1000;
/** Mean time between two customers (exponential). */
const ARRIVAL_MEAN_MS = 10 * 60 * 1000;
/** A merchant waits this long for a busy terminal before giving up on a customer. */
const MERCHANT_PATIENCE_MS = 5 * 60 * 1000;
const WAIT_STEP_MS = 1_000;
/** Virtual time the system gets to settle down after the day; more is a liveness failure. */
const QUIESCENCE_HORIZON_MS = 24 * 60 * 60 * 1000;
/** Cards that behave: the day's reversals come from the network, not from a chip that declines after approval. */
const CARD_NAMES: readonly string[] = Object.freeze(["unionpay-chip", "unionpay-msr", "visa-contactless", "visa-msr"]);
const OPERATIONS = Object.freeze([
  ["sale", 80],
  ["balance", 8],
  ["void", 7],
  ["refund", 5],
] as const);
const OPERATION_WEIGHTS = OPERATIONS.reduce((sum, [, weight]) => sum + weight, 0);
/** The terminal's parameters: the table's defaults (60 s response, 10 s connect, 3 attempts). */
const INITIAL_LATENCY_MS = 50;

export interface TradingDayOptions {
  readonly reversalPolicy: ReversalPolicy;
  readonly network?: NetworkModelParameters;
  /** Keep every event (the trace); off for the bench. */
  readonly keepEvents?: boolean;
}

export interface TradingDayResult {
  readonly seed: number;
  readonly policy: string;
  /** Records that became reversal-due during the day. */
  readonly reversals: number;
  /** 冲正失败 episodes shown to the merchant (a record's first failure). */
  readonly failed: number;
  /** Reversals lost: the oracle's invariants 1–3 (host and terminal disagree, a record dropped), not counting duplicates. */
  readonly lost: number;
  /** Reversals that took effect twice at the host. */
  readonly duplicated: number;
  /** Every oracle violation (all invariants), for the report. */
  readonly violations: readonly Violation[];
  /** Trigger (reversal-due) to reversed, per record resolved before the day's end (closing settlement included). */
  readonly resolveMs: readonly number[];
  /** Records still owed at the end of the day. */
  readonly unresolved: number;
  /** Records owed at closing time, before the closing settlement (whose flush goes first) ran. */
  readonly owedAtClosing: number;
  /** Messages the terminal sent during the day, and of them 0400s. */
  readonly messages: number;
  readonly reversalMessages: number;
  readonly transactions: number;
  /** Operations refused on the terminal (sales paused by an open 冲正失败, not sent, …). */
  readonly refused: number;
  /** Customers who left because the terminal stayed busy. */
  readonly customersLost: number;
  /** The network from opening to closing time (the same for every policy). */
  readonly network: NetworkModelStats;
  readonly events: readonly SystemEvent[];
}

/** The oracle, plus the day's measurements while the day lasts. */
class DayObserver implements SystemObserver {
  measuring = true;
  reversals = 0;
  failed = 0;
  messages = 0;
  reversalMessages = 0;
  transactions = 0;
  refused = 0;
  signedOn = false;
  readonly resolveMs: number[] = [];
  readonly #dueAtMs = new Map<string, number>();

  constructor(readonly oracle: Oracle) {}

  onEvent(event: SystemEvent): void {
    this.oracle.onEvent(event);
    if (event.ev === "result") {
      if (event.op === "signOn") this.signedOn = event.outcome === "approved" || this.signedOn;
      if (event.refusal === "notSignedOn") this.signedOn = false;
    }
    if (!this.measuring) return;
    const stan = String(event.stan);
    switch (event.ev) {
      case "send":
        this.messages++;
        if (event.mti === "0400") this.reversalMessages++;
        return;
      case "result":
        if (event.op === "sale" || event.op === "void" || event.op === "refund" || event.op === "balance") this.transactions++;
        if (event.outcome === "refused") this.refused++;
        return;
      case "journal":
        if (event.state === "reversalDue" && !this.#dueAtMs.has(stan)) {
          this.#dueAtMs.set(stan, event.t);
          this.reversals++;
        }
        if (event.state === "reversed") {
          const dueAtMs = this.#dueAtMs.get(stan);
          if (dueAtMs !== undefined) this.resolveMs.push(event.t - dueAtMs);
        }
        return;
    }
  }

  onEngineEvent(event: TxnEvent, t: number): void {
    this.oracle.onEngineEvent(event, t);
    if (this.measuring && event.ev === "reversal" && event.phase === "failed" && event.firstFailure) this.failed++;
  }

  onFault(kind: string): void {
    this.oracle.onFault(kind);
  }

  onJournal(operation: JournalOperation, stan: string, record: ApprovedRecord | undefined, t: number): void {
    this.oracle.onJournal(operation, stan, record, t);
  }

  onWorkingKeys(keys: WorkingKeys): void {
    this.oracle.onWorkingKeys(keys);
  }
}

export function runTradingDay(seed: number, options: TradingDayOptions): TradingDayResult {
  const parameters = chaosParameters({}, INITIAL_LATENCY_MS);
  const system = new ChaosSystem(parameters, seed, {}, { reversalPolicy: options.reversalPolicy });
  const model = new NetworkModel({
    seed,
    clock: system.clock,
    network: system.network,
    parameters: options.network,
    // The terminal hears its link come back, as the device hears Wi-Fi come up (a powered terminal only).
    // The reference template has no link-state awareness (and no idle retries): its terminal is not told.
    // The terminal hears the link come back; whether it acts on it is its policy's (retryOnLinkUp).
    onLinkRestored: () => system.guard(() => system.terminal?.linkRestored()),
  });
  system.conditions = model;
  const oracle = oracleFor(system);
  const observer = new DayObserver(oracle);
  system.observer = observer;
  const day = new Day(system, observer, new SeededRandom(seed));
  let unresolved = 0;
  let customersLost = 0;
  let network = { ...model.stats };
  let owedAtClosing = 0;
  try {
    model.start();
    customersLost = day.trade(() => {
      network = { ...model.stats };
      owedAtClosing = system.storage.journal.pending().length;
    });
    unresolved = system.storage.journal.pending().length;
    observer.measuring = false;
    model.stop();
    day.quiesce();
    oracle.finish(system.storage.flash.exportImage());
  } catch (error) {
    oracle.fail("crash", error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  }
  const duplicated = [...system.ledger.effects.values()].filter((effects) => effects > 1).length;
  const lost = oracle.violations.filter(
    (v) => (v.invariant === "1" || v.invariant === "2" || v.invariant === "3") && !/took effect/.test(v.detail),
  ).length;
  return {
    seed,
    policy: options.reversalPolicy.name,
    reversals: observer.reversals,
    failed: observer.failed,
    lost,
    duplicated,
    violations: oracle.violations,
    resolveMs: observer.resolveMs,
    unresolved,
    owedAtClosing,
    messages: observer.messages,
    reversalMessages: observer.reversalMessages,
    transactions: observer.transactions,
    refused: observer.refused,
    customersLost,
    network,
    events: options.keepEvents === true ? oracle.events : [],
  };
}

/** The merchant's day: customers arrive at random, each served when the terminal is free; a settlement at closing. */
class Day {
  constructor(
    readonly system: ChaosSystem,
    readonly observer: DayObserver,
    readonly rng: SeededRandom,
  ) {}

  /** Trades from opening to closing (`onClosing` at closing time, before the settlement); returns how many customers left unserved. */
  trade(onClosing: () => void): number {
    const { system, rng } = this;
    system.powerOn();
    this.#request(() => system.engine!.signOn());
    let customersLost = 0;
    let nextMs = 0;
    for (;;) {
      // Drawn whatever happens, so every policy meets the same customers at the same instants.
      nextMs += Math.max(1, Math.round(-ARRIVAL_MEAN_MS * Math.log(1 - rng.nextUint32() / 2 ** 32)));
      const operation = this.#pickOperation();
      const draws = { card: rng.nextUint32(), pin: rng.nextUint32(), amount: rng.nextUint32(), original: rng.nextUint32() };
      if (nextMs >= TRADING_DAY_MS) break;
      system.advance(nextMs - system.clock.nowMs());
      if (!this.#waitUntilFree()) {
        customersLost++;
        continue;
      }
      if (!this.observer.signedOn) {
        this.#request(() => system.engine!.signOn());
        if (!this.#waitUntilFree()) continue;
      }
      this.#serve(operation, draws);
    }
    system.advance(TRADING_DAY_MS - system.clock.nowMs());
    onClosing();
    if (this.#waitUntilFree()) {
      this.#request(() => system.engine!.settle());
      this.#waitUntilFree();
    }
    return customersLost;
  }

  /** The network is good now: sign-on flushes what is owed, settlement closes the batch. */
  quiesce(): void {
    const { system } = this;
    for (const run of [() => system.engine!.signOn(), () => system.engine!.settle()]) {
      system.runUntilIdle(QUIESCENCE_HORIZON_MS);
      this.#request(run);
    }
    if (!system.runUntilIdle(QUIESCENCE_HORIZON_MS)) this.observer.oracle.fail("liveness", "still busy after 24 h of virtual time");
  }

  #pickOperation(): string {
    let draw = this.rng.below(OPERATION_WEIGHTS);
    for (const [name, weight] of OPERATIONS) {
      if (draw < weight) return name;
      draw -= weight;
    }
    return "sale";
  }

  /** The merchant waits (a second at a time, within patience) for the terminal to be free. */
  #waitUntilFree(): boolean {
    const { system } = this;
    for (let waitedMs = 0; waitedMs <= MERCHANT_PATIENCE_MS; waitedMs += WAIT_STEP_MS) {
      if (system.engine?.idle === true) return true;
      system.advance(WAIT_STEP_MS);
    }
    return false;
  }

  #request(run: () => void): void {
    this.system.guard(() => {
      try {
        run();
      } catch (error) {
        if (!(error instanceof TxnRequestError) && !(error instanceof CardPresentError)) throw error;
        this.system.emit({ ev: "day", refused: error.message });
      }
    });
  }

  #serve(operation: string, draws: { card: number; pin: number; amount: number; original: number }): void {
    const { system } = this;
    const engine = system.engine!;
    const cardName = CARD_NAMES[draws.card % CARD_NAMES.length];
    // Small amounts go without a PIN (the host allows it); otherwise the right PIN.
    const pin = draws.pin % 5 === 0 ? undefined : WORKLOAD_PINS[0];
    const amount = 1 + (draws.amount % (draws.amount % 2 === 0 ? 10_000 : 500_000));
    const present = (op: "sale" | "balance" | "refund", amountMinor: number) => system.cards.present(cardName, op, amountMinor);
    system.emit({ ev: "day", operation });
    this.#request(() => {
      const sales = approvedList(system.storage.journal).filter((r) => r.op === "sale");
      switch (operation) {
        case "balance":
          return engine.balance(present("balance", 0), pin);
        case "void":
          if (sales.length > 0) return engine.voidSale(sales[draws.original % sales.length].stan);
          return engine.sale({ amount, card: present("sale", amount), pin });
        case "refund": {
          const original = sales.length > 0 ? sales[draws.original % sales.length] : undefined;
          const refunded = original?.amount ?? amount;
          return engine.refund({ amount: refunded, card: present("refund", refunded), pin, originalStan: original?.stan });
        }
        default:
          return engine.sale({ amount, card: present("sale", amount), pin });
      }
    });
  }
}
