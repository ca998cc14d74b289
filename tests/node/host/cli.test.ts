/**
 * `tools/xspos host` and `tools/xspos host reconcile` as a user runs them:
 * the served address and control URL are printed, the ledger is in the
 * given file, reconcile prints the host's view as JSON, bad input exits 2.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SeededRandom } from "../../../modules/platform/random";
import { HostCore } from "../../../tools/host/core";
import { SqliteLedger } from "../../../tools/host/sqlite-ledger";
import { DEFAULT_TERMINALS, registry } from "../../../tools/host/terminals";
import { connectLink, TestTerminal } from "../../../tools/host/test-terminal";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const XSPOS = path.join(ROOT, "tools/xspos");
const SALE = { amount: 700, pan: "6228480000000015", expiry: "3012", pin: "1234" };

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-host-cli-"));
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function xspos(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(XSPOS, args, { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("xspos host reconcile", () => {
  test("prints the host's view of a terminal as one JSON line", () => {
    const db = path.join(dir, "reconcile.db");
    const ledger = new SqliteLedger(db);
    const core = new HostCore({ ledger, terminals: registry(DEFAULT_TERMINALS), random: new SeededRandom(3) });
    const terminal = new TestTerminal(DEFAULT_TERMINALS[0]);
    terminal.acceptSignOn(core.handle(terminal.signOn("000001"), { nowMs: 0 }).response!);
    core.handle(terminal.sale({ ...SALE, stan: "000002" }), { nowMs: 0 });
    core.handle(terminal.sale({ ...SALE, stan: "000003" }), { nowMs: 0 });
    core.handle(terminal.reversal(terminal.saleMessage({ ...SALE, stan: "000003" }), "98"), { nowMs: 0 });
    ledger.close();

    const { status, stdout } = xspos(["host", "reconcile", "--tid", "10000001", "--db", db]);
    expect(status).toBe(0);
    expect(stdout.trim().split("\n")).toHaveLength(1);
    expect(JSON.parse(stdout)).toMatchObject({
      tid: "10000001",
      approved: { count: 1, amount: 700 },
      reversed: { count: 1, amount: 700 },
      net: 700,
      unresolved: [],
    });
  });

  test.each([
    [["host", "reconcile"], /--tid/],
    [["host", "reconcile", "--tid", "1"], /--tid/],
    [["host", "reconcile", "--tid", "10000001", "--db", "/nonexistent/ledger.db"], /no ledger/],
    [["host", "--port", "x"], /--port/],
    [["host", "--cert", "a.pem"], /--cert and --key/],
  ])("%j exits 2 with one line on stderr", (args, message) => {
    const { status, stderr } = xspos(args);
    expect(status).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(message);
  });
});

describe("xspos host", () => {
  test("serves TLS with the generated test CA, prints its addresses, stops on SIGTERM", async () => {
    const varDir = path.join(dir, "var");
    const child = spawn(XSPOS, ["host", "--port", "0", "--control-port", "0", "--var", varDir], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    const lines = new Promise<void>((resolve) => {
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes("test CA")) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      await lines;
      const port = Number(/tls:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)![1]);
      const controlUrl = /(http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)![1];
      expect(fs.existsSync(path.join(varDir, "ledger.db"))).toBe(true);
      const link = await connectLink({ port, ca: fs.readFileSync(path.join(varDir, "pki/ca.pem")) });
      const terminal = new TestTerminal(DEFAULT_TERMINALS[0]);
      terminal.acceptSignOn((await link.exchange(terminal.signOn("000001")))!);
      expect(terminal.decode((await link.exchange(terminal.sale({ ...SALE, stan: "000002" })))!).fields[39]).toBe("00");
      link.close();
      const view = (await (await fetch(`${controlUrl}/ledger?tid=10000001`)).json()) as { net: number };
      expect(view.net).toBe(700);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  });
});
