/**
 * Issue 15 item 6: every bad input exits 2 with one line on stderr; "internal
 * error" (exit 1) is kept for bugs. Each case here once ended otherwise.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const XSPOS = path.join(ROOT, "tools/xspos");

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-cli-"));
  fs.writeFileSync(path.join(dir, "not-a-db"), "hello, not SQLite\n".repeat(100));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function xspos(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(XSPOS, args, { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("encode of a message without fields is no longer an internal error: it encodes", () => {
  expect(xspos(["encode", "--no-header", '{"mti":"0800"}'])).toMatchObject({ status: 0, stdout: "08000000000000000000\n" });
  expect(xspos(["encode", "--dialect", "iso87ascii", '{"mti":"0800"}'])).toMatchObject({ status: 0 });
});

test.each([
  [["torture", "--seeds", "-1"], /--seeds must be an integer/],
  [["torture", "--seeds", "1", "--from", "-5"], /--from must be an integer/],
  [["chaos", "--seeds", "-1"], /--seeds must be an integer/],
  [["host", "--port", "-1"], /--port must be an integer/],
  [["host", "reconcile", "--tid", "10000001", "--db", "NOT_A_DB"], /no ledger at NOT_A_DB/],
  [["host", "reconcile", "--tid", "10000001", "--db", "DIR/not-a-db"], /ledger file cannot be used: file is not a database/],
  [["host", "--db", "DIR/not-a-db", "--var", "DIR/var", "--port", "0", "--control-port", "0"], /ledger file cannot be used/],
  [["host", "--cert", "DIR/not-a-db", "--key", "DIR/not-a-db", "--var", "DIR/var", "--port", "0", "--control-port", "0"], /--cert\/--key/],
  [["torture", "--seeds"], /argument missing/],
  [["encode", '{"mti":"0800","fields":{"11":"000001"}}'], /encode: the CUP dialect carries a TPDU and a header: give "tpdu"/],
  [["encode", '{"tpdu":"6000000000","mti":"0800"}'], /or --no-header$/],
  // The arguments are judged before the control API is asked (no host listens on port 1).
  [["host", "publish", "--control", "http://127.0.0.1:1", "--image", "1.2.0", "--kind", "bogus"], /publish: kind must be one of good, /],
  [
    ["host", "publish", "--control", "http://127.0.0.1:1", "--image", "1.2", "--kind", "good"],
    /publish: version must be major.minor.patch/,
  ],
  [["host", "publish", "--control", "http://127.0.0.1:1", "--image", "1.2.0"], /--image needs --kind good\|badSignature/],
  [["host", "publish", "--control", "http://127.0.0.1:1", "--parameters", '{"nosuch":1}'], /publish: nosuch: not a terminal parameter/],
  [["host", "publish", "--control", "http://127.0.0.1:1", "--parameters", "[1]"], /publish: parameters must be an object/],
  [
    ["host", "publish", "--control", "http://127.0.0.1:1", "--image", "1.2.0", "--kind", "good"],
    /no host control API at http:\/\/127.0.0.1:1\/tms/,
  ],
])("%j exits 2 with one line", (args, message) => {
  const result = xspos(args.map((a) => a.replace("DIR", dir)));
  expect(result.status).toBe(2);
  const lines = result.stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^xspos: /);
  expect(lines[0]).toMatch(message);
  expect(lines[0]).not.toMatch(/internal error/);
});
