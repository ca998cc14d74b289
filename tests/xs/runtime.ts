export {};

/**
 * A small jest-compatible test runtime for running the core suites inside XS
 * (xsnap). It is bundled in front of each suite. It first removes the globals
 * an mcconfig device build does not have, so a core module that leans on them
 * fails here as it would on the terminal.
 *
 * Supported: describe/it/test (+ .each, .skip, .only, .todo), beforeAll/afterAll/
 * beforeEach/afterEach, `done` callbacks, expect with the matchers below, .not,
 * .resolves, .rejects.
 *
 * Strict where a lenient runner would report PASS with nothing checked, and in
 * agreement with jest (tests/node/xs/runtime-*.test.ts compare the two): a
 * suite with no tests fails, `.each([])` fails, `.only` focuses as in
 * jest-circus (lint forbids committing it), `toThrow` on a non-function fails,
 * equality follows @jest/expect-utils (type tags, cycles, Errors by message),
 * a `done` test that never calls `done` fails, `toHaveProperty` sees inherited
 * properties.
 */
type Fn = (...args: unknown[]) => unknown;
/** jest-circus's modes: unset, or set explicitly, or passed down by the enclosing describe. */
type Mode = "skip" | "only" | "todo" | undefined;
interface TestCase {
  readonly name: string;
  readonly fn: Fn;
  mode: Mode;
}
interface Suite {
  readonly name: string;
  readonly parent: Suite | undefined;
  readonly children: (Suite | TestCase)[];
  readonly beforeAll: Fn[];
  readonly afterAll: Fn[];
  readonly beforeEach: Fn[];
  readonly afterEach: Fn[];
  readonly mode: Mode;
}
interface Outcome {
  readonly name: string;
  readonly status: "passed" | "failed" | "skipped";
  readonly error?: string;
}

const g = globalThis as Record<string, unknown>;
const encoder = new (g.TextEncoder as { new (): { encode(s: string): Uint8Array } })();
const send = g.issueCommand as (message: ArrayBuffer) => ArrayBuffer;

// The device build has none of these (docs/device.md "Preload and freeze rules").
for (const name of [
  "TextEncoder",
  "TextDecoder",
  "issueCommand",
  "print",
  "setTimeout",
  "setInterval",
  "clearTimeout",
  "structuredClone",
  "console",
  "performance",
  "gc",
  "harden",
  "lockdown",
  "currentMeterLimit",
  "resetMeter",
  "setMeter",
  "setMeterLimit",
]) {
  Reflect.deleteProperty(g, name);
}

function reply(value: unknown): void {
  const bytes = encoder.encode(JSON.stringify(value));
  send(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}

function newSuite(name: string, parent: Suite | undefined, mode: Mode): Suite {
  return { name, parent, children: [], beforeAll: [], afterAll: [], beforeEach: [], afterEach: [], mode };
}

const root = newSuite("", undefined, undefined);
let current = root;
/** As jest-circus: set once any test is focused (directly or by its describe.only) outside a skipped describe. */
let hasFocusedTests = false;
/** Mistakes found while the suite registers its tests (`.each([])`): each fails the suite. */
const definitionErrors: string[] = [];
let testCount = 0;

function describeImpl(name: string, body: Fn, mode: Mode): void {
  const suite = newSuite(name, current, mode ?? current.mode);
  current.children.push(suite);
  const saved = current;
  current = suite;
  try {
    body();
  } finally {
    current = saved;
  }
  // jest-circus finish_describe_definition: the describe's mode passes to its unmarked tests, except that a
  // describe.only holding a test.only focuses that test alone.
  const tests = suite.children.filter((c): c is TestCase => "fn" in c);
  if (!(suite.mode === "only" && tests.some((t) => t.mode === "only"))) {
    for (const t of tests) if (t.mode === undefined) t.mode = suite.mode;
  }
  if (suite.mode !== "skip" && tests.some((t) => t.mode === "only")) hasFocusedTests = true;
}

function testImpl(name: string, fn: Fn, mode: Mode): void {
  testCount++;
  if (mode === "only" && current.mode !== "skip") hasFocusedTests = true;
  current.children.push({ name, fn, mode });
}

function formatTitle(template: string, args: readonly unknown[], index: number): string {
  let i = 0;
  return template
    .replace(/%[sdipfjo#%]/g, (token) => {
      if (token === "%%") return "%";
      if (token === "%#") return String(index);
      const value = args[i++];
      return token === "%p" || token === "%j" || token === "%o" ? stringify(value) : String(value);
    })
    .replace(/\$(\w+)/g, (whole, key: string) => {
      const first = args[0];
      return first !== null && typeof first === "object" && key in first ? String((first as Record<string, unknown>)[key]) : whole;
    });
}

function withEach(register: (name: string, fn: Fn) => void) {
  return (table: readonly unknown[]) => (name: string, fn: (...args: unknown[]) => unknown) => {
    // jest throws here: a table that came out empty would otherwise check nothing and pass.
    if (!Array.isArray(table) || table.length === 0) {
      definitionErrors.push(`.each called with an empty table of data: "${name}"`);
      return;
    }
    table.forEach((row, index) => {
      const args = Array.isArray(row) ? row : [row];
      register(formatTitle(name, args, index), () => fn(...args));
    });
  };
}

const test = Object.assign((name: string, fn: Fn) => testImpl(name, fn, undefined), {
  skip: (name: string, fn: Fn) => testImpl(name, fn, "skip"),
  only: (name: string, fn: Fn) => testImpl(name, fn, "only"),
  todo: (name: string) => testImpl(name, () => undefined, "todo"),
  each: withEach((name, fn) => testImpl(name, fn, undefined)),
});
const describe = Object.assign((name: string, body: Fn) => describeImpl(name, body, undefined), {
  skip: (name: string, body: Fn) => describeImpl(name, body, "skip"),
  only: (name: string, body: Fn) => describeImpl(name, body, "only"),
  each: withEach((name, fn) => describeImpl(name, fn, undefined)),
});

// ---------------------------------------------------------------- expect

class ExpectationError extends Error {
  override readonly name = "ExpectationError";
}

const ASYMMETRIC = Symbol("asymmetric");
interface Asymmetric {
  readonly [ASYMMETRIC]: true;
  matches(actual: unknown): boolean;
  readonly description: string;
}
function isAsymmetric(value: unknown): value is Asymmetric {
  return value !== null && typeof value === "object" && ASYMMETRIC in value;
}

function stringify(value: unknown, depth = 0): string {
  if (isAsymmetric(value)) return value.description;
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return `[Function ${value.name || "anonymous"}]`;
  if (value === null || typeof value !== "object") return String(value);
  if (depth > 3) return "[…]";
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const items = Array.from(value as unknown as ArrayLike<number>).slice(0, 64);
    return `${value.constructor.name} [${items.join(", ")}${(value as unknown as ArrayLike<number>).length > 64 ? ", …" : ""}]`;
  }
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (Array.isArray(value)) return `[${value.map((v) => stringify(v, depth + 1)).join(", ")}]`;
  if (value instanceof Map)
    return `Map {${[...value].map(([k, v]) => `${stringify(k, depth + 1)} => ${stringify(v, depth + 1)}`).join(", ")}}`;
  if (value instanceof Set) return `Set {${[...value].map((v) => stringify(v, depth + 1)).join(", ")}}`;
  const entries = Object.keys(value).map((k) => `${k}: ${stringify((value as Record<string, unknown>)[k], depth + 1)}`);
  return `{${entries.join(", ")}}`;
}

const typeTag = (value: unknown): string => Object.prototype.toString.call(value);

/**
 * Deep equality as @jest/expect-utils `equals` (with jest's iterable equality for toEqual, and type equality for
 * toStrictEqual): values of different type tags differ (an Error or a Date is not `{}`), Errors compare by message,
 * cycles compare by position (`aStack`/`bStack`), own enumerable keys, undefined-valued keys ignored unless strict.
 */
function equals(a: unknown, b: unknown, strict: boolean, aStack: unknown[] = [], bStack: unknown[] = []): boolean {
  if (isAsymmetric(b)) return b.matches(a);
  if (isAsymmetric(a)) return a.matches(b);
  if (strict && typeof a === "object" && typeof b === "object" && a !== null && b !== null) {
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  }
  if (a instanceof Error && b instanceof Error) return a.message === b.message;
  if (Object.is(a, b)) return true;
  if (a === null || b === null) return false;
  const tag = typeTag(a);
  if (tag !== typeTag(b)) return false;
  switch (tag) {
    case "[object Boolean]":
    case "[object String]":
    case "[object Number]":
      // Two primitives that are not Object.is; or two boxed values.
      return typeof a === "object" && typeof b === "object" && Object.is(a.valueOf(), b.valueOf());
    case "[object Date]":
      return +(a as Date) === +(b as Date);
    case "[object RegExp]":
      return (a as RegExp).source === (b as RegExp).source && (a as RegExp).flags === (b as RegExp).flags;
  }
  if (typeof a !== "object" || typeof b !== "object") return false;
  // A cycle equals a cycle at the same depth; a cycle never equals a non-cycle.
  for (let i = aStack.length - 1; i >= 0; i--) {
    if (aStack[i] === a) return bStack[i] === b;
    if (bStack[i] === b) return false;
  }
  aStack.push(a);
  bStack.push(b);
  const result = equalContents(a, b, strict, aStack, bStack);
  aStack.pop();
  bStack.pop();
  return result;
}

function equalContents(a: object, b: object, strict: boolean, aStack: unknown[], bStack: unknown[]): boolean {
  if (ArrayBuffer.isView(a) && !(a instanceof DataView)) {
    const x = a as unknown as ArrayLike<unknown>;
    const y = b as unknown as ArrayLike<unknown>;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
    return true;
  }
  if (a instanceof ArrayBuffer) return equals(new Uint8Array(a), new Uint8Array(b as ArrayBuffer), strict, aStack, bStack);
  if (a instanceof Map) {
    const m = b as Map<unknown, unknown>;
    if (a.size !== m.size) return false;
    for (const [k, v] of a) if (!m.has(k) || !equals(v, m.get(k), strict, aStack, bStack)) return false;
    return true;
  }
  if (a instanceof Set) {
    const t = b as Set<unknown>;
    if (a.size !== t.size) return false;
    for (const v of a) if (!t.has(v) && ![...t].some((w) => equals(v, w, strict, aStack, bStack))) return false;
    return true;
  }
  if (Array.isArray(a) && a.length !== (b as unknown[]).length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const own = (o: Record<string, unknown>, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
  const keys = (o: Record<string, unknown>) => Object.keys(o).filter((k) => strict || o[k] !== undefined);
  const ka = keys(ra);
  if (ka.length !== keys(rb).length) return false;
  for (const k of ka) {
    if (strict && !own(rb, k)) return false;
    if (!equals(ra[k], rb[k], strict, aStack, bStack)) return false;
  }
  return true;
}

function matchesObject(actual: unknown, expected: unknown): boolean {
  if (isAsymmetric(expected)) return expected.matches(actual);
  if (expected === null || typeof expected !== "object" || actual === null || typeof actual !== "object")
    return equals(actual, expected, false);
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => matchesObject(actual[i], e));
  }
  if (ArrayBuffer.isView(expected) || expected instanceof Map || expected instanceof Set || expected instanceof Date)
    return equals(actual, expected, false);
  const a = actual as Record<string, unknown>;
  return Object.keys(expected).every((k) => k in a && matchesObject(a[k], (expected as Record<string, unknown>)[k]));
}

function thrownMatches(thrown: unknown, expected: unknown): boolean {
  if (expected === undefined) return true;
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  if (typeof expected === "string") return message.includes(expected);
  if (expected instanceof RegExp) return expected.test(message);
  if (typeof expected === "function") return thrown instanceof (expected as new () => unknown);
  if (expected instanceof Error) return message === expected.message;
  if (expected !== null && typeof expected === "object") return matchesObject(thrown, expected);
  return false;
}

type Matchers = Record<string, (...args: unknown[]) => unknown>;

function makeMatchers(actual: unknown, negate: boolean, prefix: string): Matchers {
  const check = (pass: boolean, message: () => string): void => {
    if (pass === negate) throw new ExpectationError(`${prefix}${negate ? ".not" : ""}: ${message()}`);
  };
  const num = (v: unknown): number | bigint => v as number | bigint;
  const matchers: Matchers = {
    toBe: (e) => check(Object.is(actual, e), () => `expected ${stringify(actual)} to be ${stringify(e)}`),
    toEqual: (e) => check(equals(actual, e, false), () => `expected ${stringify(actual)} to equal ${stringify(e)}`),
    toStrictEqual: (e) => check(equals(actual, e, true), () => `expected ${stringify(actual)} to strictly equal ${stringify(e)}`),
    toBeTruthy: () => check(Boolean(actual), () => `expected ${stringify(actual)} to be truthy`),
    toBeFalsy: () => check(!actual, () => `expected ${stringify(actual)} to be falsy`),
    toBeNull: () => check(actual === null, () => `expected ${stringify(actual)} to be null`),
    toBeUndefined: () => check(actual === undefined, () => `expected ${stringify(actual)} to be undefined`),
    toBeDefined: () => check(actual !== undefined, () => `expected a defined value`),
    toBeNaN: () => check(Number.isNaN(actual), () => `expected ${stringify(actual)} to be NaN`),
    toBeGreaterThan: (e) => check(num(actual) > num(e), () => `expected ${stringify(actual)} > ${stringify(e)}`),
    toBeGreaterThanOrEqual: (e) => check(num(actual) >= num(e), () => `expected ${stringify(actual)} >= ${stringify(e)}`),
    toBeLessThan: (e) => check(num(actual) < num(e), () => `expected ${stringify(actual)} < ${stringify(e)}`),
    toBeLessThanOrEqual: (e) => check(num(actual) <= num(e), () => `expected ${stringify(actual)} <= ${stringify(e)}`),
    toBeCloseTo: (e, digits = 2) =>
      check(
        Math.abs((actual as number) - (e as number)) < 10 ** -(digits as number) / 2,
        () => `expected ${stringify(actual)} to be close to ${stringify(e)}`,
      ),
    toBeInstanceOf: (e) =>
      check(
        actual instanceof (e as new () => unknown),
        () => `expected ${stringify(actual)} to be an instance of ${(e as { name: string }).name}`,
      ),
    toMatch: (e) =>
      check(
        typeof actual === "string" && (e instanceof RegExp ? e.test(actual) : actual.includes(e as string)),
        () => `expected ${stringify(actual)} to match ${String(e)}`,
      ),
    toMatchObject: (e) => check(matchesObject(actual, e), () => `expected ${stringify(actual)} to match object ${stringify(e)}`),
    toContain: (e) =>
      check(
        typeof actual === "string" ? actual.includes(e as string) : Array.from(actual as Iterable<unknown>).some((v) => v === e),
        () => `expected ${stringify(actual)} to contain ${stringify(e)}`,
      ),
    toContainEqual: (e) =>
      check(
        Array.from(actual as Iterable<unknown>).some((v) => equals(v, e, false)),
        () => `expected ${stringify(actual)} to contain equal ${stringify(e)}`,
      ),
    toHaveLength: (e) =>
      check(
        (actual as { length: number }).length === e,
        () => `expected length ${(actual as { length: number }).length} to be ${stringify(e)}`,
      ),
    // As jest: a path "a.b[0]" or an array of keys; inherited properties and getters count; a last key that exists
    // with the value undefined counts.
    toHaveProperty: (path, ...value) => {
      const parts = Array.isArray(path)
        ? path.map(String)
        : String(path)
            .replace(/\[(\w+)\]/g, ".$1")
            .split(".")
            .filter((p) => p !== "");
      let node: unknown = actual;
      let found = parts.length > 0;
      for (const [i, part] of parts.entries()) {
        if (node === null || node === undefined) {
          found = false;
          break;
        }
        const next = (node as Record<string, unknown>)[part];
        if (i === parts.length - 1)
          found = next !== undefined || (typeof node === "object" || typeof node === "function" ? part in node : false);
        node = next;
      }
      check(
        found && (value.length === 0 || equals(node, value[0], false)),
        () => `expected ${stringify(actual)} to have property ${String(path)}${value.length > 0 ? ` equal to ${stringify(value[0])}` : ""}`,
      );
    },
    toThrow: (e) => {
      // jest: a matcher error whatever the negation; `expect(value).not.toThrow()` would otherwise check nothing.
      if (typeof actual !== "function")
        throw new ExpectationError(
          `${prefix}${negate ? ".not" : ""}.toThrow: the received value must be a function, got ${stringify(actual)}`,
        );
      let thrown: unknown;
      let didThrow = false;
      try {
        (actual as Fn)();
      } catch (error) {
        didThrow = true;
        thrown = error;
      }
      check(didThrow && thrownMatches(thrown, e), () =>
        didThrow ? `expected the thrown ${stringify(thrown)} to match ${stringify(e)}` : `expected the function to throw`,
      );
    },
  };
  matchers.toThrowError = matchers.toThrow;
  return matchers;
}

function asyncMatchers(promise: unknown, mode: "resolves" | "rejects", negate: boolean): Matchers {
  const sync = makeMatchers(undefined, negate, `expect.${mode}`);
  const out: Matchers = {};
  for (const name of Object.keys(sync)) {
    out[name] = async (...args: unknown[]) => {
      let value: unknown;
      try {
        const resolved = await promise;
        if (mode === "rejects") throw new ExpectationError(`expect.rejects: the promise resolved with ${stringify(resolved)}`);
        value = resolved;
      } catch (error) {
        if (error instanceof ExpectationError) throw error;
        if (mode === "resolves") throw new ExpectationError(`expect.resolves: the promise rejected with ${stringify(error)}`);
        value = error;
      }
      if (mode === "rejects" && (name === "toThrow" || name === "toThrowError")) {
        return makeMatchers(
          () => {
            throw value;
          },
          negate,
          "expect.rejects",
        )[name](...args);
      }
      return makeMatchers(value, negate, `expect.${mode}`)[name](...args);
    };
  }
  return out;
}

const expect = Object.assign(
  (actual: unknown) => {
    const matchers = makeMatchers(actual, false, "expect");
    return Object.assign(matchers, {
      not: makeMatchers(actual, true, "expect"),
      resolves: Object.assign(asyncMatchers(actual, "resolves", false), { not: asyncMatchers(actual, "resolves", true) }),
      rejects: Object.assign(asyncMatchers(actual, "rejects", false), { not: asyncMatchers(actual, "rejects", true) }),
    });
  },
  {
    any: (ctor: unknown): Asymmetric => ({
      [ASYMMETRIC]: true,
      description: `Any<${(ctor as { name: string }).name}>`,
      matches: (v) =>
        ctor === Number
          ? typeof v === "number"
          : ctor === String
            ? typeof v === "string"
            : ctor === Boolean
              ? typeof v === "boolean"
              : v instanceof (ctor as new () => unknown),
    }),
    anything: (): Asymmetric => ({ [ASYMMETRIC]: true, description: "Anything", matches: (v) => v !== null && v !== undefined }),
    objectContaining: (e: unknown): Asymmetric => ({
      [ASYMMETRIC]: true,
      description: `ObjectContaining ${stringify(e)}`,
      matches: (v) => matchesObject(v, e),
    }),
    arrayContaining: (e: unknown[]): Asymmetric => ({
      [ASYMMETRIC]: true,
      description: `ArrayContaining ${stringify(e)}`,
      matches: (v) => Array.isArray(v) && e.every((x) => v.some((y) => equals(y, x, false))),
    }),
    stringContaining: (e: string): Asymmetric => ({
      [ASYMMETRIC]: true,
      description: `StringContaining ${e}`,
      matches: (v) => typeof v === "string" && v.includes(e),
    }),
    stringMatching: (e: RegExp): Asymmetric => ({
      [ASYMMETRIC]: true,
      description: `StringMatching ${String(e)}`,
      matches: (v) => typeof v === "string" && e.test(v),
    }),
  },
);

// ---------------------------------------------------------------- run

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}${error.stack ? `\n${error.stack}` : ""}`;
  return `thrown: ${stringify(error)}`;
}

/** A test or hook declaring a parameter gets jest's `done` callback and ends when it is called (fails on `done(error)`). */
function invoke(fn: Fn): unknown {
  if (fn.length === 0) return fn();
  return new Promise<void>((resolve, reject) => {
    const done = (reason?: unknown): void => {
      if (reason) reject(reason instanceof Error ? reason : new Error(`Failed: ${stringify(reason)}`));
      else resolve();
    };
    const returned = fn(done);
    if (returned !== undefined) reject(new Error("a test or hook takes a done callback and also returns something: use one or the other"));
  });
}

/** As jest-circus `_runTest`: skipped under a skipped describe, when marked skip/todo, or unfocused while any test is focused. */
function isSkipped(test: TestCase, parentSkipped: boolean): boolean {
  return parentSkipped || test.mode === "skip" || test.mode === "todo" || (hasFocusedTests && test.mode === undefined);
}

function hasEnabledTest(suite: Suite, parentSkipped: boolean): boolean {
  const skipped = parentSkipped || suite.mode === "skip";
  return suite.children.some((c) => ("fn" in c ? !isSkipped(c, skipped) : hasEnabledTest(c, skipped)));
}

const outcomes: Outcome[] = [];
let finished = false;
/** The test (or hook) awaiting now: named in the report when its promise never settles. */
let running = "";

async function runSuite(suite: Suite, path: string[], eachBefore: Fn[], eachAfter: Fn[], parentSkipped: boolean): Promise<void> {
  const title = suite.name === "" ? path : [...path, suite.name];
  const skipped = parentSkipped || suite.mode === "skip";
  const befores = [...eachBefore, ...suite.beforeEach];
  const afters = [...suite.afterEach, ...eachAfter];
  const active = hasEnabledTest(suite, parentSkipped);
  try {
    running = [...title, "(beforeAll)"].join(" › ");
    if (active) for (const hook of suite.beforeAll) await invoke(hook);
  } catch (error) {
    outcomes.push({ name: running, status: "failed", error: errorText(error) });
    return;
  }
  for (const child of suite.children) {
    if (!("fn" in child)) {
      await runSuite(child, title, befores, afters, skipped);
      continue;
    }
    const name = [...title, child.name].join(" › ");
    if (isSkipped(child, skipped)) {
      outcomes.push({ name, status: "skipped" });
      continue;
    }
    running = name;
    let failure: unknown = undefined;
    let failed = false;
    try {
      for (const hook of befores) await invoke(hook);
      await invoke(child.fn);
    } catch (error) {
      failed = true;
      failure = error;
    }
    for (const hook of afters) {
      try {
        await invoke(hook);
      } catch (error) {
        if (!failed) {
          failed = true;
          failure = error;
        }
      }
    }
    outcomes.push(failed ? { name, status: "failed", error: errorText(failure) } : { name, status: "passed" });
  }
  try {
    running = [...title, "(afterAll)"].join(" › ");
    if (active) for (const hook of suite.afterAll) await invoke(hook);
  } catch (error) {
    outcomes.push({ name: running, status: "failed", error: errorText(error) });
  }
}

async function runAll(): Promise<void> {
  for (const error of definitionErrors) outcomes.push({ name: "(definition)", status: "failed", error });
  // jest: "Your test suite must contain at least one test." A suite that checks nothing must not print PASS.
  if (testCount === 0) outcomes.push({ name: "(suite)", status: "failed", error: "the suite contains no tests" });
  await runSuite(root, [], [], [], false);
}

Object.assign(g, {
  describe,
  test,
  it: test,
  expect,
  beforeAll: (fn: Fn) => current.beforeAll.push(fn),
  afterAll: (fn: Fn) => current.afterAll.push(fn),
  beforeEach: (fn: Fn) => current.beforeEach.push(fn),
  afterEach: (fn: Fn) => current.afterEach.push(fn),
  // Called by the Node side in a second evaluation, so the suite's module body is metered apart from its tests.
  __xsposRun: () => {
    runAll().then(
      () => {
        finished = true;
      },
      (error: unknown) => {
        outcomes.push({ name: "(runner)", status: "failed", error: errorText(error) });
        finished = true;
      },
    );
  },
  // For hosts that run timers between promise jobs (Moddable's lin runtime): poll until the run ended.
  __xsposFinished: () => finished,
  // XS has no timers here: when the job queue is empty and the run has not finished, a test awaited something that never settles.
  __xsposReport: () => {
    if (!finished)
      outcomes.push({
        name: running === "" ? "(runner)" : running,
        status: "failed",
        error: "a test awaited a promise that never settled, or never called done (nothing drives timers in XS)",
      });
    reply(outcomes);
  },
});
