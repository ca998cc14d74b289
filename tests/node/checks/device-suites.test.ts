/**
 * The on-device test app's runner, proven in XS: the device bundle (prelude +
 * tests/xs/runtime.ts + suites) runs in xsnap with only what an mcconfig build
 * offers, and prints the failures and `N passed, N failed` through trace.
 */
import path from "node:path";
import { bundleDeviceSuites, REPO_ROOT } from "../../device/bundle";
import { XsWorker } from "../../../tools/xs/worker";

/** xsnap lacks these Moddable extensions; give them to XS the way the device has them, and route trace to Node. */
const MODDABLE_EXTENSIONS = `
  const sendLine = issueCommand;
  const utf8 = new TextEncoder();
  const utf8Decoder = new TextDecoder();
  ArrayBuffer.fromString = (text) => { const b = utf8.encode(text); return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength); };
  String.fromArrayBuffer = (bytes) => utf8Decoder.decode(new Uint8Array(bytes));
  globalThis.trace = (text) => { const b = utf8.encode(text); sendLine(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); };
`;

async function runOnDeviceRunner(suites: readonly string[]): Promise<string> {
  const code = await bundleDeviceSuites(suites);
  let serial = "";
  const worker = new XsWorker((message) => {
    serial += Buffer.from(message).toString();
    return new Uint8Array(0);
  });
  try {
    await worker.evaluate(MODDABLE_EXTENSIONS);
    await worker.evaluate(code);
    await worker.evaluate("__xsposRun()");
    await worker.evaluate("__xsposReport()");
  } finally {
    worker.close();
  }
  return serial;
}

describe("on-device test runner", () => {
  test("runs core suites in XS and ends with the N passed, N failed line", async () => {
    const output = await runOnDeviceRunner([path.join(REPO_ROOT, "tests/core/platform/virtual-clock.test.ts")]);
    const summary = output.trim().split("\n").at(-1) ?? "";
    expect(summary).toMatch(/^[1-9]\d* passed, 0 failed$/);
    expect(output).not.toContain("FAIL");
  });

  test("prints each failure by name before the summary", async () => {
    const output = await runOnDeviceRunner([path.join(REPO_ROOT, "tests/fixtures/xs/fails.test.ts")]);
    expect(output).toContain("FAIL ");
    expect(output.trim().split("\n").at(-1)).toMatch(/^\d+ passed, [1-9]\d* failed$/);
  });

  test("rejects an empty suite list", async () => {
    await expect(bundleDeviceSuites([])).rejects.toThrow("expected 1 to 500 suites");
  });
});
