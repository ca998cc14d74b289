/**
 * One chaos seed: a random workload and a random fault schedule, both drawn
 * from SeededRandom(seed) as the run goes (a void names a sale the terminal
 * really approved), so a seed replays exactly. Then quiescence: faults stop,
 * the network comes back, power returns, the terminal signs on (flushing its
 * reversals, 冲正失败 ones included) and settles; then the oracle's final checks.
 */
import { SeededRandom } from "../../modules/platform/random";
import { TxnRequestError } from "../../modules/txn/engine";
import type { Fault } from "../host/faults";
import { TEST_CARDS } from "../../modules/card/test-cards";
import { CardPresentError } from "../scenario/card-desk";
import { Oracle, type Violation } from "./oracle";
import { SecretScanner, WORKLOAD_PINS } from "./secrets";
import { ChaosSystem, chaosParameters, TERMINAL, type PortHooks, type SystemEvent, type TerminalParameters } from "./system";
import { approvedList } from "../scenario/forwarding-journal";

export interface SeedOptions {
  /** Planted bugs (tests of the oracle). */
  readonly hooks?: PortHooks;
}

export interface SeedResult {
  readonly seed: number;
  readonly violations: readonly Violation[];
  readonly faults: Readonly<Record<string, number>>;
  readonly transactions: number;
  readonly reversals: number;
  readonly events: readonly SystemEvent[];
}

const STEPS_MIN = 6;
const STEPS_SPREAD = 14;
/** Virtual time the system gets to settle down; more is a liveness failure. */
const QUIESCENCE_HORIZON_MS = 24 * 60 * 60 * 1000;
/** Operations queued without waiting, at most (the engine's queue holds 16). */
const QUEUED_AHEAD_MAX = 3;
const CARD_NAMES = Object.freeze(TEST_CARDS.map((card) => card.name));
const DECLINE_CODES = Object.freeze(["05", "51", "55", "96"]);
const MESSAGE_FAULTS = Object.freeze([
  "delay",
  "delay",
  "delay",
  "noResponse",
  "closeBeforeRead",
  "closeAfterRead",
  "closeMidResponse",
  "badMac",
  "decline",
  "duplicateResponse",
  "wrongStan",
] as const);
const FAULT_MTIS = Object.freeze(["0200", "0220", "0400", "0500", "0800", "0320"]);
/** A flash cut lands within this many erase/program operations (a sale takes a few). */
const FLASH_CUT_WITHIN_OPS = 12;
/** A network drop lands somewhere within a message or two. */
const DROP_BYTES_MAX = 300;

const OPERATIONS = Object.freeze([
  ["sale", 40],
  ["void", 12],
  ["refund", 8],
  ["balance", 8],
  ["settle", 8],
  ["echo", 4],
  ["signOn", 5],
  ["reboot", 7],
  ["powerCut", 5],
] as const);
const CARD_OPERATIONS: readonly string[] = Object.freeze(["sale", "void", "refund", "balance"]);
const OPERATION_WEIGHTS = OPERATIONS.reduce((s, [, w]) => s + w, 0);

export function runSeed(seed: number, options: SeedOptions = {}): SeedResult {
  const rng = new SeededRandom(seed);
  // Drawn in a fixed order, so a seed replays: latency first, then the terminal's parameters.
  const latencyMs = 1 + rng.below(30);
  const parameters: TerminalParameters = chaosParameters(
    {
      responseTimeoutMs: rng.pick([60_000, 30_000, 10_000]),
      connectTimeoutMs: rng.pick([10_000, 5_000]),
      reversalAttempts: 1 + rng.below(3),
      blockSalesWhileReversalFailed: rng.chance(0.25),
    },
    latencyMs,
  );
  const system = new ChaosSystem(parameters, seed, options.hooks);
  const oracle = oracleFor(system);
  system.observer = oracle;
  const driver = new Driver(system, oracle, rng, parameters);
  try {
    driver.run();
    oracle.finish(system.storage.flash.exportImage());
  } catch (error) {
    oracle.fail("crash", error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  }
  return {
    seed,
    violations: oracle.violations,
    faults: Object.fromEntries(oracle.faults),
    transactions: oracle.transactions,
    reversals: oracle.reversals,
    events: oracle.events,
  };
}

/** The ledger oracle watching one system (chaos seeds and resilience days alike). */
export function oracleFor(system: ChaosSystem): Oracle {
  return new Oracle({
    tid: TERMINAL.tid,
    responseTimeoutMs: system.parameters.responseTimeoutMs,
    storage: system.storage,
    ledger: system.ledger,
    scanner: new SecretScanner(),
    hasWorkingKeys: () => system.storage.keys.loadWorkingKeys() !== undefined,
  });
}

class Driver {
  #queuedAhead = 0;
  /** Fault timers scheduled on the clock stop acting once the run goes quiet. */
  #quiet = false;

  constructor(
    readonly system: ChaosSystem,
    readonly oracle: Oracle,
    readonly rng: SeededRandom,
    readonly parameters: TerminalParameters,
  ) {}

  run(): void {
    const { system, rng } = this;
    system.powerOn();
    this.#operate("signOn");
    this.#settleDown();
    const steps = STEPS_MIN + rng.below(STEPS_SPREAD);
    for (let step = 1; step <= steps; step++) {
      this.oracle.step = step;
      if (!system.powered) {
        system.advance(rng.below(5_000));
        system.powerOn();
      }
      while (rng.chance(0.45)) this.#injectFault();
      this.#operate(this.#pickOperation());
      this.#proceed();
    }
    this.oracle.step = steps + 1;
    this.#quiesce();
  }

  #pickOperation(): string {
    let draw = this.rng.below(OPERATION_WEIGHTS);
    for (const [name, weight] of OPERATIONS) {
      if (draw < weight) return name;
      draw -= weight;
    }
    return "sale";
  }

  #operate(name: string): void {
    const { system, rng } = this;
    system.emit({ ev: "chaos", action: name });
    if (name === "powerCut") return system.powerOff("cut");
    if (name === "reboot") {
      system.powerOff("off");
      system.advance(rng.below(3_000));
      return system.powerOn();
    }
    const engine = system.engine;
    if (engine === undefined) return;
    // A card is read when its operation starts: the merchant waits for the terminal to be free.
    if (CARD_OPERATIONS.includes(name) && !engine.idle) this.#settleDown();
    if (system.engine === undefined) return;
    system.guard(() => {
      try {
        this.#request(name);
      } catch (error) {
        if (!(error instanceof TxnRequestError) && !(error instanceof CardPresentError)) throw error;
        system.emit({ ev: "chaos", action: name, refused: error.message });
      }
    });
  }

  #request(name: string): void {
    const { rng } = this;
    const engine = this.system.engine!;
    const card = (op: "sale" | "balance" | "refund", amountMinor: number) => {
      const cardName = rng.pick(CARD_NAMES);
      // Small amounts go without a PIN (the host allows it); otherwise mostly the right PIN.
      const pin = rng.chance(0.2) ? undefined : rng.chance(0.9) ? WORKLOAD_PINS[0] : WORKLOAD_PINS[1];
      this.system.emit({ ev: "chaos", card: cardName, pinEntered: pin !== undefined });
      return { card: this.system.cards.present(cardName, op, amountMinor), pin };
    };
    const amount = () => 1 + rng.below(rng.chance(0.5) ? 10_000 : 5_000_000);
    switch (name) {
      case "signOn":
        return engine.signOn();
      case "echo":
        return engine.echo();
      case "settle":
        return engine.settle();
      case "balance": {
        const { card: c, pin } = card("balance", 0);
        return engine.balance(c, pin);
      }
      case "refund": {
        const sales = approvedList(this.system.storage.journal).filter((r) => r.op === "sale");
        const original = sales.length > 0 && rng.chance(0.5) ? rng.pick(sales) : undefined;
        const refunded = original?.amount ?? amount();
        return engine.refund({ amount: refunded, ...card("refund", refunded), originalStan: original?.stan });
      }
      case "void": {
        const sales = approvedList(this.system.storage.journal).filter((r) => r.op === "sale");
        if (sales.length > 0) return engine.voidSale(rng.pick(sales).stan);
        return this.#request("sale"); // nothing to void: a sale instead
      }
      case "sale": {
        const sold = amount();
        return engine.sale({ amount: sold, ...card("sale", sold) });
      }
    }
  }

  /** After an operation: wait for it, let part of it happen, or queue the next one right away. */
  #proceed(): void {
    const { system, rng } = this;
    const draw = rng.below(100);
    if (draw < 15 && this.#queuedAhead < QUEUED_AHEAD_MAX) {
      this.#queuedAhead++;
      return;
    }
    this.#queuedAhead = 0;
    if (draw < 40) {
      system.advance(rng.below(2 * this.parameters.responseTimeoutMs));
      if (rng.chance(0.2)) system.powerOff("cut");
      return;
    }
    this.#settleDown();
  }

  #settleDown(): void {
    if (!this.system.runUntilIdle(QUIESCENCE_HORIZON_MS)) this.oracle.fail("liveness", "still busy after 24 h of virtual time");
  }

  #injectFault(): void {
    const { system, rng, parameters } = this;
    const draw = rng.below(100);
    if (draw < 45) {
      const kind = rng.pick(MESSAGE_FAULTS);
      const fault: { -readonly [K in keyof Fault]: Fault[K] } = { kind, count: 1 + rng.below(3) };
      if (rng.chance(0.3)) fault.mti = rng.pick(FAULT_MTIS);
      if (kind === "delay") fault.ms = this.#delayMs();
      if (kind === "decline") fault.code = rng.pick(DECLINE_CODES);
      return this.#hostFault(fault);
    }
    if (draw < 55) return this.#hostFault({ kind: rng.chance(0.5) ? "refuseConnection" : "tlsHandshakeFail", count: 1 + rng.below(4) });
    if (draw < 70) {
      const direction = rng.chance(0.5) ? "toServer" : "toTerminal";
      system.network.dropAfter(direction, rng.below(DROP_BYTES_MAX));
      system.emit({ ev: "chaos", fault: `drop:${direction}` });
      return this.oracle.onFault(`drop:${direction}`);
    }
    if (draw < 78) {
      system.network.setDown(true);
      system.emit({ ev: "chaos", fault: "networkDown" });
      this.oracle.onFault("networkDown");
      return this.#later(rng.below(2 * parameters.responseTimeoutMs), () => system.network.setDown(false));
    }
    if (draw < 86)
      return this.#later(rng.below(parameters.responseTimeoutMs + parameters.responseTimeoutMs / 2), () => {
        this.oracle.onFault("hostRestart");
        system.restartHost();
      });
    const offset = rng.below(FLASH_CUT_WITHIN_OPS);
    const kind = system.storage.armCut((items) => rng.pick(items), offset);
    system.emit({ ev: "chaos", fault: "flashCut", kind, atFlashOp: offset + 1 });
  }

  /** A response delay that lands around the response deadline: exactly ±1 ms, on it, or anywhere. */
  #delayMs(): number {
    const { rng, parameters } = this;
    const onDeadline = parameters.responseTimeoutMs - 2 * parameters.latencyMs;
    switch (rng.below(5)) {
      case 0:
        return onDeadline - 1;
      case 1:
        return onDeadline;
      case 2:
        return onDeadline + 1;
      case 3:
        return rng.below(onDeadline);
      default:
        return onDeadline + rng.below(parameters.responseTimeoutMs);
    }
  }

  #hostFault(fault: Fault): void {
    this.system.emit({ ev: "chaos", fault: fault.kind, ...(fault.ms === undefined ? {} : { ms: fault.ms }), count: fault.count });
    this.system.host.faults.add(fault);
  }

  #later(delayMs: number, action: () => void): void {
    this.system.clock.schedule(delayMs, () => {
      if (!this.#quiet) action();
    });
  }

  /** Faults stop, the network comes back, power returns; sign-on flushes reversals, settlement closes the batch. */
  #quiesce(): void {
    const { system } = this;
    this.#quiet = true;
    system.emit({ ev: "chaos", action: "quiesce" });
    system.host.faults.clear();
    system.network.setDown(false);
    // A drop armed for a connection not yet made: give that connection an unreachable budget instead.
    system.network.dropAfter("toServer", 65_536);
    system.network.dropAfter("toTerminal", 65_536);
    system.storage.disarm();
    if (!system.powered) system.powerOn();
    this.#settleDown();
    for (const name of ["signOn", "settle"]) {
      this.#operate(name);
      this.#settleDown();
    }
  }
}
