/**
 * `xspos sim`: the desktop simulator (docs/simulator.md). The acquirer host
 * over TLS, the terminal core on real time with its flash in ./var/flash.bin,
 * and a web page on 127.0.0.1 that looks and behaves like the terminal.
 *   tools/xspos sim [--port P] [--host-port P] [--var DIR] [--response-timeout-ms MS] ... [--time-scale N]
 *   tools/xspos sim --headless --script FILE.json [--time-scale N]
 *   tools/xspos sim --terminal native ...: the Linux terminal binary (hosts/lin) behind the page or the script
 * `--pcap FILE` records the terminal's connections (written when the run ends).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { integerOption, parseOptions, UsageError, type Command } from "../command";
import { resolveParameters } from "../../../modules/terminal/parameters";
import { parseScenario, ScenarioFileError } from "../../scenario/scenario-file";
import { checkScenarioSchema } from "../../scenario/schema-check";
import { SimDesk } from "../../sim/desk";
import { TIME_SCALE_MAX } from "../../sim/scaled-clock";
import { XSPOS_POLICY } from "../../../modules/txn/reversal-policy";
import { HeadlessStepError, runHeadless } from "../../sim/headless";
import { startWebServer } from "../../sim/web-server";
import { TcpCapture } from "../../pcap/pcap";
import { writeCapture } from "./scenario";
import { runNativeHeadless } from "../../lin/headless";
import { NATIVE_TERMINAL } from "../../lin/native-terminal";

const OPTIONS = {
  port: { type: "string" },
  "host-port": { type: "string" },
  var: { type: "string" },
  "response-timeout-ms": { type: "string" },
  "connect-timeout-ms": { type: "string" },
  "reversal-attempts": { type: "string" },
  "reversal-retries": { type: "string" },
  "block-sales-while-reversal-failed": { type: "boolean" },
  headless: { type: "boolean" },
  script: { type: "string" },
  "time-scale": { type: "string" },
  "no-power-on": { type: "boolean" },
  pcap: { type: "string" },
  terminal: { type: "string" },
} as const;

function readScenario(file: string) {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    const value: unknown = JSON.parse(text);
    checkScenarioSchema(value);
    return parseScenario(value);
  } catch (error) {
    if (error instanceof SyntaxError) throw new UsageError(`${file} is not JSON: ${error.message}`);
    if (error instanceof ScenarioFileError) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
}

/** SSLKEYLOGFILE, the variable every TLS tool reads: the terminal's TLS secrets are appended there. */
function keyLogPath(): string | undefined {
  const value = process.env.SSLKEYLOGFILE;
  return value === undefined || value === "" ? undefined : value;
}

async function headless(
  script: string | undefined,
  varDir: string | undefined,
  timeScale: number,
  pcap: string | undefined,
  native: boolean,
): Promise<number> {
  if (script === undefined) throw new UsageError("--headless needs --script FILE.json");
  const scenario = readScenario(script);
  if (native && !fs.existsSync(NATIVE_TERMINAL)) throw new UsageError(`no native terminal at ${NATIVE_TERMINAL}: run make native-terminal`);
  if (native && pcap !== undefined)
    throw new UsageError("--pcap records the Node terminal's connections; with --terminal native, capture on loopback");
  const capture = pcap === undefined ? undefined : new TcpCapture();
  const dir = varDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "xspos-sim-"));
  try {
    const options = { varDir: dir, timeScale, onEvent: (event: object) => process.stdout.write(`${JSON.stringify(event)}\n`) };
    const run = native
      ? await runNativeHeadless(scenario, options)
      : await runHeadless(scenario, { ...options, capture, keyLogPath: keyLogPath() });
    if (capture !== undefined) writeCapture(pcap!, capture);
    for (const failure of run.failures) process.stderr.write(`xspos: expectation failed: ${failure}\n`);
    return run.failures.length === 0 ? 0 : 1;
  } catch (error) {
    if (error instanceof HeadlessStepError) throw new UsageError(error.message);
    throw error;
  } finally {
    if (varDir === undefined) fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const command: Command = {
  summary: "desktop simulator: host over TLS + terminal core + web page on 127.0.0.1 (or --headless --script FILE.json)",
  usage: [
    "tools/xspos sim [--port P] [--host-port P] [--var DIR] [--response-timeout-ms MS] [--connect-timeout-ms MS]",
    "                [--reversal-attempts N] [--block-sales-while-reversal-failed] [--no-power-on] [--time-scale N] [--pcap FILE]",
    "                [--terminal node|native]",
    "tools/xspos sim --headless --script FILE.json [--time-scale N] [--var DIR] [--terminal node|native] [--pcap FILE]",
    "--pcap FILE  record the terminal's connections as a pcap (page: written at exit, and served at /capture.pcap)",
    "defaults: --port 0 (a free port; the URL is printed), --var var (flash image var/flash.bin, host files var/host)",
    "--time-scale N runs the terminal's clock, host delays and network latency N times faster (default 1; the page changes it live)",
    "--terminal native: the Linux terminal binary (hosts/lin, make native-terminal) over TLS on loopback, behind the page",
    "                   or the script; swipe cards only; its power is the process (docs/simulator.md)",
  ],
  async run(args) {
    const { values, positionals } = parseOptions(args, OPTIONS, false);
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const timeScale = integerOption(values["time-scale"], "time-scale", 1, 1, TIME_SCALE_MAX);
    if (values.terminal !== undefined && values.terminal !== "node" && values.terminal !== "native")
      throw new UsageError("--terminal is node or native");
    const native = values.terminal === "native";
    if (values.headless) return headless(values.script, values.var, timeScale, values.pcap, native);
    if (native && !fs.existsSync(NATIVE_TERMINAL))
      throw new UsageError(`no native terminal at ${NATIVE_TERMINAL}: run make native-terminal`);
    if (native && values.pcap !== undefined)
      throw new UsageError("--pcap records the Node terminal's connections; with --terminal native, capture on loopback");
    if (values.script !== undefined) throw new UsageError("--script needs --headless");
    // Every option is checked before anything starts: a usage error leaves no server behind.
    const webPort = integerOption(values.port, "port", 0, 0, 65535);
    const hostPort = integerOption(values["host-port"], "host-port", 0, 0, 65535);
    const parameters = resolveParameters({
      responseTimeoutMs: integerOption(values["response-timeout-ms"], "response-timeout-ms", 60_000, 1, 600_000),
      connectTimeoutMs: integerOption(values["connect-timeout-ms"], "connect-timeout-ms", 10_000, 1, 600_000),
      // --reversal-retries is the old name of --reversal-attempts, still read.
      reversalAttempts: integerOption(values["reversal-attempts"] ?? values["reversal-retries"], "reversal-attempts", 3, 1, 10),
      blockSalesWhileReversalFailed: values["block-sales-while-reversal-failed"] === true,
    });
    // The page always records a capture of the Node terminal (its export button); --pcap also writes it at exit.
    const capture = new TcpCapture();
    const desk = await SimDesk.start({
      varDir: values.var ?? "var",
      persistent: true,
      settings: { parameters, backoffMs: XSPOS_POLICY.backoffMs },
      timeScale,
      hostPort,
      capture,
      keyLogPath: keyLogPath(),
      terminal: native ? "native" : "node",
    });
    const sim = desk.sim;
    const web = await startWebServer(desk, webPort);
    console.log(`host listening on tls://${sim.host.address.host}:${sim.host.address.port}`);
    console.log(`terminal flash image: ${path.join(values.var ?? "var", native ? "native/flash.bin" : "flash.bin")}`);
    console.log(`simulator page: ${web.url}`);
    if (values.pcap !== undefined) console.log(`capture: ${values.pcap} at exit, so far at ${web.url}capture.pcap`);
    if (!values["no-power-on"]) sim.terminal.powerOn();
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await web.close();
    await desk.close();
    if (values.pcap !== undefined) writeCapture(values.pcap, capture);
    return 0;
  },
};
