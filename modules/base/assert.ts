/**
 * Assertions for invariants and preconditions (TigerBeetle style): a failed
 * assertion is a bug in this program, never a reaction to bad input. Bad input
 * gets a typed error from the module that parses it.
 */
export class AssertionError extends Error {
  override readonly name = "AssertionError";
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function assertInteger(value: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new AssertionError(`${what} must be an integer in [${min}, ${max}], got ${value}`);
  }
}
