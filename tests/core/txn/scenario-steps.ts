/**
 * Steps and event lines the engine's scenario suites share (engine-limits, engine-refusals, engine-tms,
 * engine-wall-clock). The
 * scenario runner is pure, so these run in Node and in XS.
 */
import type { ScenarioEvent } from "../../../tools/scenario/runner";

export const drain = Object.freeze({ op: "drain" });

/** A magstripe UnionPay sale with its PIN (tools/scenario's test cards). */
export const sale = (amount: number) => ({ op: "sale", amount, card: "unionpay-msr", pin: "1234" });

/** The parts that are present, joined by spaces. */
export function line(...parts: unknown[]): string {
  return parts.filter((part) => part !== undefined).join(" ");
}

/** A result event as one line, with its refusal when refused: `sale approved`, `refund refused amountLimit`. */
export function resultLine(e: ScenarioEvent): string {
  return line(e.op, e.outcome, e.refusal);
}

/**
 * A sale whose 0200 and first 0400 go unanswered, then the network down and a power cycle: a reversal is owed
 * and the next message needs a new connection, which cannot be made.
 */
export function reversalOwedUnreachable(amount: number): unknown[] {
  return [
    { op: "hostFault", fault: { kind: "noResponse", mti: "0200" } },
    { op: "hostFault", fault: { kind: "noResponse", mti: "0400" } },
    sale(amount),
    { op: "advance", ms: 2500 },
    { op: "network", state: "down" },
    { op: "powerOff" },
    { op: "powerOn" },
  ];
}
