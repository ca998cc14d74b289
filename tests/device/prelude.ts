/**
 * Runs first in the device test bundle: gives tests/xs/runtime.ts the two
 * host hooks it expects from xsnap (TextEncoder, issueCommand), built on what
 * an mcconfig build has (ArrayBuffer.fromString, String.fromArrayBuffer,
 * trace). The runtime captures both and deletes them before any suite loads,
 * so suites see the same globals as in the xsnap run.
 */
interface Outcome {
  readonly name: string;
  readonly status: "passed" | "failed" | "skipped";
  readonly error?: string;
}

interface XsExtensions {
  trace(text: string): void;
  fromString(text: string): ArrayBuffer;
  fromArrayBuffer(bytes: ArrayBuffer): string;
}

const host = globalThis as unknown as Record<string, unknown>;
const trace = host.trace as XsExtensions["trace"];
// Called on their constructors: XS's ArrayBuffer.fromString constructs `this` ("new: not a constructor" when detached).
const fromString = (text: string): ArrayBuffer => (ArrayBuffer as unknown as XsExtensions).fromString(text);
const fromArrayBuffer = (bytes: ArrayBuffer): string => (String as unknown as XsExtensions).fromArrayBuffer(bytes);

/** Prints the runner's report on the serial console, ending with the line `make test` prints: `N passed, N failed`. */
function printReport(message: ArrayBuffer): ArrayBuffer {
  const outcomes = JSON.parse(fromArrayBuffer(message)) as Outcome[];
  let passed = 0;
  let failed = 0;
  for (const outcome of outcomes) {
    if (outcome.status === "passed") passed++;
    if (outcome.status !== "failed") continue;
    failed++;
    trace(`FAIL ${outcome.name}\n  ${(outcome.error ?? "").split("\n").join("\n  ")}\n`);
  }
  trace(`${passed} passed, ${failed} failed\n`);
  host.__xsposFailed = failed;
  return new ArrayBuffer(0);
}

class Utf8Encoder {
  encode(text: string): Uint8Array {
    return new Uint8Array(fromString(text));
  }
}

host.TextEncoder = Utf8Encoder;
host.issueCommand = printReport;

export {};
