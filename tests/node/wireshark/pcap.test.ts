/**
 * `--pcap FILE` on scenario, chaos replay and the headless simulator: the
 * terminal's connections as TCP streams (SYN, data, FIN/RST as they
 * happened), read back by tshark with the cup8583 dissector. TCP analysis
 * must find nothing wrong with the sequence numbers the writer made up.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-pcap-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function xspos(args: string[]) {
  return spawnSync("tools/xspos", args, { encoding: "utf8", timeout: 90_000 });
}

interface Packet {
  stream: number;
  flags: string;
  mti: string;
  stan: string;
  analysis: string;
}

/** One row per packet: TCP stream, flags (as tshark spells them), MTIs and STANs of its CUP frames, TCP analysis warnings. */
function packets(file: string): Packet[] {
  const fields = ["tcp.stream", "tcp.flags.str", "cup8583.mti", "cup8583.f11", "tcp.analysis.flags"];
  const result = spawnSync(
    "tshark",
    ["-X", "lua_script:tools/wireshark/cup8583.lua", "-r", file, "-T", "fields", "-E", "separator=|", ...fields.flatMap((f) => ["-e", f])],
    { encoding: "utf8" },
  );
  if (result.error !== undefined) throw new Error(`tshark did not run (make wireshark-deps installs it): ${result.error.message}`);
  expect(result.status).toBe(0);
  return result.stdout
    .trim()
    .split("\n")
    .map((line) => {
      const [stream, flags, mti, stan, analysis] = line.split("|");
      return { stream: Number(stream), flags: flags.replace(/[^A-Z]/g, ""), mti, stan, analysis };
    });
}

/** Per stream, its packets' flag letters in order. */
function streams(rows: Packet[]): string[][] {
  const out: string[][] = [];
  for (const row of rows) (out[row.stream] ??= []).push(row.flags);
  return out;
}

test("scenario --pcap: the 0200 and its 0400 with the same STAN, one stream, handshake to FIN, virtual time", () => {
  const file = path.join(dir, "timeout.pcap");
  const run = xspos(["scenario", "tests/scenarios/sale-timeout-reversed.json", "--pcap", file]);
  expect(run.status).toBe(0);
  const rows = packets(file);
  expect(rows.every((r) => r.analysis === "")).toBe(true);
  const frames = rows.filter((r) => r.mti !== "").map((r) => `${r.mti} ${r.stan}`);
  expect(frames).toEqual(["0800 000001", "0810 000001", "0200 000002", "0400 000002", "0410 000002", "0210 000002"]);
  // tshark's flag letters: S SYN, A ACK, P PSH, F FIN, R RST.
  expect(streams(rows)[0].slice(0, 3)).toEqual(["S", "AS", "A"]);
  expect(streams(rows)[0].slice(-3)).toEqual(["AF", "AF", "A"]);
  // The 0400 leaves 60 s of virtual time after the 0200 (the response timeout).
  const times = spawnSync("tshark", ["-r", file, "-T", "fields", "-e", "frame.time_relative"], { encoding: "utf8" }).stdout.split("\n");
  expect(Number(times[6]) - Number(times[5])).toBeCloseTo(60, 1);
});

test("a refused connect is a SYN answered by RST; a power cut leaves a stream that stops", () => {
  const refused = path.join(dir, "refused.pcap");
  expect(xspos(["scenario", "tests/scenarios/refused-connection.json", "--pcap", refused]).status).toBe(0);
  const refusedStreams = streams(packets(refused));
  expect(refusedStreams).toContainEqual(["S", "AR"]);
  const cut = path.join(dir, "cut.pcap");
  expect(xspos(["scenario", "tests/scenarios/power-cut-after-send.json", "--pcap", cut]).status).toBe(0);
  const rows = packets(cut);
  const saleStream = rows.find((r) => r.mti === "0200")!.stream;
  const last = rows.filter((r) => r.stream === saleStream).at(-1)!;
  // Nothing after the sale on its stream: no FIN, no RST, no answer (the terminal was off).
  expect(last.mti).toBe("0200");
  const reversal = rows.find((r) => r.mti === "0400")!;
  expect(reversal.stream).toBeGreaterThan(saleStream);
  expect(reversal.stan).toBe(last.stan);
});

test("chaos --from S --seeds 1 --pcap replays the seed into a capture; --pcap needs one seed", () => {
  const file = path.join(dir, "chaos.pcap");
  // Seed 31's world sends a refund. The seeds' worlds move as the terminal changes: seed 30's refund went when a
  // second refund of one sale came to be refused (docs/transactions.md, "What a void or a refund may give back").
  const run = xspos(["chaos", "--from", "31", "--seeds", "1", "--json", "--pcap", file]);
  expect(run.status).toBe(0);
  expect(JSON.parse(run.stdout.trim().split("\n").at(-1)!)).toMatchObject({ seeds: 1, violations: 0 });
  const rows = packets(file);
  expect(rows.filter((r) => r.mti === "0220").length).toBeGreaterThan(0);
  expect(rows.every((r) => r.analysis === "")).toBe(true);
  const twice = path.join(dir, "chaos-again.pcap");
  xspos(["chaos", "--from", "31", "--seeds", "1", "--pcap", twice]);
  expect(fs.readFileSync(twice).equals(fs.readFileSync(file))).toBe(true);
  const bad = xspos(["chaos", "--seeds", "2", "--pcap", file]);
  expect(bad.status).toBe(2);
  expect(bad.stderr).toContain("--pcap records one seed");
});

test("sim --headless --pcap: the frames over TLS, as the terminal wrote and read them", () => {
  const file = path.join(dir, "headless.pcap");
  const run = xspos(["sim", "--headless", "--script", "tests/scenarios/sale-timeout-reversed.json", "--time-scale", "100", "--pcap", file]);
  expect(run.status).toBe(0);
  const frames = packets(file)
    .filter((r) => r.mti !== "")
    .map((r) => `${r.mti} ${r.stan}`);
  expect(frames).toEqual(expect.arrayContaining(["0200 000002", "0400 000002", "0410 000002"]));
});

test("SSLKEYLOGFILE: a raw loopback capture of the headless simulator's TLS decrypts, and cup8583 reads the frames inside", async () => {
  const raw = path.join(dir, "loopback.pcapng");
  const keys = path.join(dir, "keys.log");
  // tshark's own capture on lo, stopped once the run is over (its pid is ours).
  const capture = spawn("tshark", ["-i", "lo", "-w", raw, "-q"], { stdio: ["ignore", "ignore", "pipe"] });
  await new Promise<void>((resolve, reject) => {
    capture.stderr.on("data", (chunk: Buffer) => chunk.toString().includes("Capturing on") && resolve());
    capture.once("exit", (code) => reject(new Error(`tshark could not capture on lo (exit ${code})`)));
  });
  const run = spawnSync(
    "tools/xspos",
    ["sim", "--headless", "--script", "tests/scenarios/sale-timeout-reversed.json", "--time-scale", "100"],
    { encoding: "utf8", timeout: 90_000, env: { ...process.env, SSLKEYLOGFILE: keys } },
  );
  await new Promise((resolve) => setTimeout(resolve, 500));
  const stopped = new Promise((resolve) => capture.once("exit", resolve));
  capture.kill("SIGINT");
  await stopped;
  expect(run.status).toBe(0);
  expect(fs.readFileSync(keys, "utf8")).toMatch(/^CLIENT_TRAFFIC_SECRET_0 [0-9a-f]{64} [0-9a-f]+$/m);
  const decrypted = spawnSync(
    "tshark",
    [
      "-X",
      "lua_script:tools/wireshark/cup8583.lua",
      "-r",
      raw,
      "-o",
      `tls.keylog_file:${keys}`,
      "-T",
      "fields",
      "-e",
      "tcp.dstport",
      "-e",
      "cup8583.mti",
      "-e",
      "cup8583.f11",
      "-Y",
      "cup8583 && tcp.dstport != 0",
    ],
    { encoding: "utf8" },
  );
  // Other work on this machine may use lo too: only what the terminal sent to this run's host port counts.
  const rows = decrypted.stdout
    .trim()
    .split("\n")
    .map((line) => line.split("\t"));
  const hostPort = rows.find(([, mti, stan]) => mti === "0200" && stan === "000002")?.[0];
  expect(hostPort).toBeDefined();
  const frames = rows.filter(([port]) => port === hostPort).map(([, mti, stan]) => `${mti} ${stan}`);
  expect(frames).toEqual(["0800 000001", "0200 000002", "0400 000002"]);
  // Without the key log the same capture shows no CUP frame on that port: they travel only inside TLS.
  const sealed = spawnSync(
    "tshark",
    ["-X", "lua_script:tools/wireshark/cup8583.lua", "-r", raw, "-Y", `cup8583 && tcp.port == ${hostPort}`],
    {
      encoding: "utf8",
    },
  );
  expect(sealed.stdout.trim()).toBe("");
});
