/**
 * State machines as data (the reversal machine, the update machine): a frozen
 * table of transitions and one lookup. A pair the table does not name is a bug
 * in the caller, an assertion, never a silent path.
 */
import { AssertionError } from "./assert";

export interface Transition<S extends string, E extends string> {
  readonly from: S;
  readonly on: E;
  readonly to: S;
}

export function transition<S extends string, E extends string>(from: S, on: E, to: S): Transition<S, E> {
  return Object.freeze({ from, on, to });
}

/** The state `event` moves `from` to in `table`; `machine` names it in the assertion. */
export function nextState<S extends string, E extends string>(table: readonly Transition<S, E>[], machine: string, from: S, event: E): S {
  for (const t of table) if (t.from === from && t.on === event) return t.to;
  throw new AssertionError(`${machine}: no transition from ${from} on ${event}`);
}
