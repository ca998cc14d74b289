/**
 * A scenario's `expect` entries against the events of a run (docs/contracts.md "Scenarios"):
 * the virtual-clock runner and the simulator's headless runs report failures the same way.
 */
import type { Expectation } from "./scenario-file";

type Event = Readonly<Record<string, unknown>>;

function matches(event: Event, partial: Readonly<Record<string, unknown>>): boolean {
  return Object.keys(partial).every((k) => JSON.stringify(event[k]) === JSON.stringify(partial[k]));
}

/** What did not hold, one sentence per failed expectation; empty when every one holds. */
export function checkExpectations(expectations: readonly Expectation[], events: readonly Event[]): string[] {
  const failures: string[] = [];
  for (const expectation of expectations) {
    const failure = check(expectation, events);
    if (failure !== undefined) failures.push(failure);
  }
  return failures;
}

function check(expectation: Expectation, events: readonly Event[]): string | undefined {
  if ("has" in expectation)
    return events.some((e) => matches(e, expectation.has))
      ? undefined
      : `expected an event with ${JSON.stringify(expectation.has)}, none found`;
  if ("lacks" in expectation) {
    const found = events.find((e) => matches(e, expectation.lacks));
    return found === undefined ? undefined : `expected no event with ${JSON.stringify(expectation.lacks)}, found ${JSON.stringify(found)}`;
  }
  const count = events.filter((e) => matches(e, expectation.count)).length;
  return count === expectation.eq
    ? undefined
    : `expected ${expectation.eq} events with ${JSON.stringify(expectation.count)}, found ${count}`;
}
