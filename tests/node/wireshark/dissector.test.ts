/**
 * The Wireshark dissector (tools/wireshark/cup8583.lua) under Debian's tshark:
 * every message the builders make, the public samples and a scenario's whole
 * conversation (host answers included) decode field for field as
 * `tools/xspos decode --framed` prints them; frames split over segments and
 * several frames in one segment are reassembled; malformed frames are flagged
 * with the codec's own words and never raise a Lua error; the Lua field table
 * is the codec's CUP table. `make test` installs tshark (make wireshark-deps).
 */
import { execFile, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { fromAscii, toHex } from "../../../modules/base/hex";
import { CUP, Iso8583Codec, Iso8583Error } from "../../../modules/iso8583";
import { SeededRandom } from "../../../modules/platform/random";
import { TcpCapture } from "../../../tools/pcap/pcap";
import { runScenario } from "../../../tools/scenario/runner";
import { parseScenario } from "../../../tools/scenario/scenario-file";
import { builderMessages, type CorpusMessage } from "./corpus";

const DISSECTOR = "tools/wireshark/cup8583.lua";
const T0_MS = Date.UTC(2026, 0, 1);
const run = promisify(execFile);

type Layer = Record<string, unknown>;
interface Decoded {
  tpdu?: string;
  header?: string;
  mti: string;
  fields: Record<string, string>;
  secondaryBitmap?: boolean;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-wireshark-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The cup8583 layers of every frame of the capture, in order (several per frame when a segment holds several). */
function dissect(capture: TcpCapture, name: string): { layers: Layer[]; stderr: string } {
  const file = path.join(dir, `${name}.pcap`);
  fs.writeFileSync(file, capture.bytes());
  const result = spawnSync("tshark", ["-X", `lua_script:${DISSECTOR}`, "-r", file, "-T", "json", "--no-duplicate-keys", "-J", "cup8583"], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error !== undefined) throw new Error(`tshark did not run (make wireshark-deps installs it): ${result.error.message}`);
  expect(result.status).toBe(0);
  const packets = JSON.parse(result.stdout) as { _source: { layers: Record<string, unknown> } }[];
  const layers: Layer[] = [];
  for (const packet of packets) {
    const layer = packet._source.layers.cup8583;
    if (layer === undefined) continue;
    for (const one of Array.isArray(layer) ? layer : [layer]) layers.push(one as Layer);
  }
  // Anything but tshark's root warning is a problem (a Lua error prints here).
  return { layers, stderr: result.stderr.replace(/^Running as user "root".*\n/m, "") };
}

/** A layer as the decode contract's JSON: tpdu, header, mti, fields by number. */
function asDecoded(layer: Layer): Decoded {
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(layer)) {
    const m = /^cup8583\.f(\d+)$/.exec(key);
    if (m !== null) fields[m[1]] = value as string;
  }
  const decoded: Decoded = {
    tpdu: layer["cup8583.tpdu"] as string,
    header: layer["cup8583.header"] as string,
    mti: layer["cup8583.mti"] as string,
    fields,
  };
  // The contract's mark of an empty secondary bitmap on the wire.
  if ((layer["cup8583.bitmap"] as string).length === 32 && Object.keys(fields).every((n) => Number(n) <= 64))
    decoded.secondaryBitmap = true;
  return decoded;
}

function malformedText(layer: Layer): string | undefined {
  const expert = layer["_ws.expert"] as Layer | Layer[] | undefined;
  for (const one of expert === undefined ? [] : Array.isArray(expert) ? expert : [expert]) {
    if ("cup8583.malformed" in one) return one["_ws.expert.message"] as string;
  }
  return undefined;
}

/** `tools/xspos decode --framed HEX`, two at a time (the machine's two cores). */
async function decodeAll(messages: readonly Uint8Array[]): Promise<Decoded[]> {
  const out: Decoded[] = new Array<Decoded>(messages.length);
  let next = 0;
  const worker = async () => {
    while (next < messages.length) {
      const i = next++;
      const { stdout } = await run("tools/xspos", ["decode", "--framed", toHex(messages[i])]);
      out[i] = JSON.parse(stdout) as Decoded;
    }
  };
  await Promise.all([worker(), worker()]);
  return out;
}

/** Each message in a connection of its own, the terminal's way: one write per frame. */
function oneConnectionEach(messages: readonly CorpusMessage[]): TcpCapture {
  const capture = new TcpCapture();
  messages.forEach((m, i) => {
    const t = T0_MS + 1000 * i;
    const stream = capture.open(t);
    stream.established(t + 1);
    stream.data(t + 2, "terminal", m.bytes);
    stream.close(t + 3, "terminal");
  });
  return capture;
}

function concatenated(messages: readonly CorpusMessage[]): Uint8Array {
  const out = new Uint8Array(messages.reduce((sum, m) => sum + m.bytes.length, 0));
  let o = 0;
  for (const m of messages) {
    out.set(m.bytes, o);
    o += m.bytes.length;
  }
  return out;
}

const corpus = builderMessages();

test("the Lua field table is the codec's CUP table", () => {
  const lua = fs.readFileSync(DISSECTOR, "utf8");
  const rows = [...lua.matchAll(/^ {2}\[(\d+)\] = \{ "(\w+)", "(\w+)", (\d+), "(\w+)", "[^"]+" \},$/gm)];
  const table = rows.map((m) => `${m[1]} ${m[2]} ${m[3]} ${m[4]} ${m[5]}`);
  const codec = CUP.fields.flatMap((def) =>
    def === undefined ? [] : [`${def.number} ${def.kind} ${def.lengthType} ${def.length} ${def.align}`],
  );
  expect(table).toEqual(codec);
});

test("every builder message and public sample decodes in tshark as tools/xspos decode prints it", async () => {
  const { layers, stderr } = dissect(oneConnectionEach(corpus), "builders");
  expect(stderr).toBe("");
  expect(layers.map(malformedText)).toEqual(corpus.map(() => undefined));
  const expected = await decodeAll(corpus.map((m) => m.bytes));
  expect(layers.map(asDecoded)).toEqual(expected);
  // The length prefix and a few sub-fields, by their abbreviations.
  expect(layers.map((l) => Number(l["cup8583.len"]))).toEqual(corpus.map((m) => m.bytes.length - 2));
  const sale = layers[corpus.findIndex((m) => m.name === "0200 chip sale")];
  const f55 = sale["cup8583.f55_tree"] as Layer;
  expect((f55["cup8583.f55.tlv"] as string[]).slice(0, 3)).toEqual(["9F26", "9F27", "9F10"]);
  expect((sale["cup8583.f60_tree"] as Layer)["cup8583.f60.type"]).toBe("22");
  const settlement = layers[corpus.findIndex((m) => m.name === "0500 settlement")];
  expect(JSON.stringify(settlement["cup8583.f48_tree"])).toContain('"cup8583.f48.debit_amount":"000000123456"');
});

test("frames split over many segments, and several frames in one segment, are reassembled", () => {
  const capture = new TcpCapture();
  const all = concatenated(corpus);
  const split = capture.open(T0_MS);
  split.established(T0_MS + 1);
  split.data(T0_MS + 2, "terminal", all, 7);
  const packed = capture.open(T0_MS + 10);
  packed.established(T0_MS + 11);
  packed.data(T0_MS + 12, "terminal", all);
  const { layers, stderr } = dissect(capture, "reassembly");
  expect(stderr).toBe("");
  const codec = new Iso8583Codec({ dialect: CUP, framed: true });
  const once = corpus.map((m) => JSON.parse(JSON.stringify(codec.decode(m.bytes))) as Decoded);
  expect(layers.map(asDecoded)).toEqual([...once, ...once]);
});

test("a scenario's capture: the 0200 and its 0400 with the same STAN, and every host answer, as decode prints them", async () => {
  const capture = new TcpCapture();
  const scenario = parseScenario(JSON.parse(fs.readFileSync("tests/scenarios/sale-timeout-reversed.json", "utf8")));
  runScenario(scenario, { capture });
  const settle = parseScenario(JSON.parse(fs.readFileSync("tests/scenarios/settlement-unbalanced-upload.json", "utf8")));
  runScenario(settle, { capture });
  const { layers, stderr } = dissect(capture, "scenario");
  expect(stderr).toBe("");
  const summary = layers.map((l) => `${l["cup8583.mti"]} ${l["cup8583.f11"]}`);
  const saleStan = summary.find((s) => s.startsWith("0200"))!.slice(5);
  expect(summary).toContain(`0400 ${saleStan}`);
  expect(summary).toEqual(expect.arrayContaining(["0810 000001", `0410 ${saleStan}`]));
  const mtis = [...new Set(summary.map((s) => s.slice(0, 4)))];
  expect(mtis).toEqual(expect.arrayContaining(["0800", "0810", "0200", "0210", "0400", "0410", "0500", "0510", "0320", "0330"]));
  // Every frame compared with the CLI, cut from the capture's TCP payloads.
  const frames = framesOf(capture.bytes());
  expect(frames.length).toBe(layers.length);
  expect(layers.map(asDecoded)).toEqual(await decodeAll(frames));
});

/** The CUP frames of a capture written by TcpCapture, in order: TCP payloads per stream, cut at the length prefixes. */
function framesOf(pcap: Uint8Array): Uint8Array[] {
  const view = new DataView(pcap.buffer, pcap.byteOffset, pcap.byteLength);
  const pending = new Map<string, number[]>();
  const frames: Uint8Array[] = [];
  for (let o = 24; o < pcap.length;) {
    const length = view.getUint32(o + 8, true);
    const packet = pcap.subarray(o + 16, o + 16 + length);
    o += 16 + length;
    const tcp = 14 + 20;
    const key = `${(packet[tcp] << 8) | packet[tcp + 1]}>${(packet[tcp + 2] << 8) | packet[tcp + 3]}`;
    const bytes = pending.get(key) ?? [];
    bytes.push(...packet.subarray(tcp + 20));
    while (bytes.length >= 2 && bytes.length >= 2 + ((bytes[0] << 8) | bytes[1])) {
      frames.push(Uint8Array.from(bytes.splice(0, 2 + ((bytes[0] << 8) | bytes[1]))));
    }
    pending.set(key, bytes);
  }
  return frames;
}

test("malformed frames are flagged with the codec's words, never a Lua error", async () => {
  const sale = corpus.find((m) => m.name === "0200 chip sale")!.bytes;
  const mutate = (edit: (b: Uint8Array) => Uint8Array): Uint8Array => edit(sale.slice());
  const withLength = (b: Uint8Array): Uint8Array => {
    b[0] = (b.length - 2) >> 8;
    b[1] = (b.length - 2) & 0xff;
    return b;
  };
  const cases: CorpusMessage[] = [
    { name: "F2 longer than 19", bytes: mutate((b) => ((b[23] = 0x20), b)) },
    { name: "MTI not BCD", bytes: mutate((b) => ((b[13] = 0x0a), b)) },
    { name: "undefined field bit", bytes: mutate((b) => ((b[15] |= 0x08), b)) },
    { name: "cut inside F55", bytes: mutate((b) => withLength(b.slice(0, 150))) },
    { name: "trailing bytes", bytes: withLength(Uint8Array.from([...sale, 0x01, 0x02])) },
    { name: "F41 control character", bytes: mutate((b) => ((b[toHex(b).indexOf(toHex(fromAscii("10000159"))) / 2 + 3] = 0x07), b)) },
    { name: "bad PAN pad nibble", bytes: mutate((b) => ((b[33] |= 0x0f), b)) },
    { name: "only a TPDU", bytes: Uint8Array.from([0x00, 0x05, 0x60, 0x00, 0x03, 0x00, 0x00]) },
  ];
  const { layers, stderr } = dissect(oneConnectionEach(cases), "malformed");
  expect(stderr).toBe("");
  expect(layers.length).toBe(cases.length);
  const expected = await Promise.all(
    cases.map(async (c) => {
      const result = await run("tools/xspos", ["decode", "--framed", toHex(c.bytes)]).catch((error: { stderr: string }) => error);
      return result.stderr.trim().replace(/^xspos: decode: /, "");
    }),
  );
  expect(layers.map(malformedText)).toEqual(expected);
  expect(expected.every((text) => /at byte \d+: \w+/.test(text))).toBe(true);
});

test("500 seeded corruptions of builder frames: tshark agrees with the codec on every one, no Lua error", () => {
  const random = new SeededRandom(18);
  const codec = new Iso8583Codec({ dialect: CUP, framed: true });
  const cases: CorpusMessage[] = [];
  for (let i = 0; i < 500; i++) {
    const original = corpus[random.below(corpus.length)].bytes;
    const bytes = original.slice();
    const flips = 1 + random.below(3);
    for (let k = 0; k < flips; k++) bytes[2 + random.below(bytes.length - 2)] = random.below(256);
    cases.push({ name: `corruption ${i}`, bytes });
  }
  const { layers, stderr } = dissect(oneConnectionEach(cases), "corruptions");
  expect(stderr).toBe("");
  expect(layers.length).toBe(cases.length);
  cases.forEach((c, i) => {
    let expected: Decoded | string;
    try {
      expected = JSON.parse(JSON.stringify(codec.decode(c.bytes))) as Decoded;
    } catch (error) {
      if (!(error instanceof Iso8583Error)) throw error;
      expected = error.message;
    }
    const got = malformedText(layers[i]) ?? asDecoded(layers[i]);
    expect({ case: c.name, decoded: got }).toEqual({ case: c.name, decoded: expected });
  });
});

test("on another port the heuristic finds CUP frames and leaves other traffic alone", () => {
  const capture = new TcpCapture({ host: { ip: "10.0.0.1", port: 40123 } });
  const cup = capture.open(T0_MS);
  cup.established(T0_MS + 1);
  cup.data(T0_MS + 2, "terminal", corpus[0].bytes);
  cup.data(T0_MS + 3, "terminal", corpus[1].bytes);
  const http = capture.open(T0_MS + 10);
  http.established(T0_MS + 11);
  http.data(T0_MS + 12, "terminal", new TextEncoder().encode("GET / HTTP/1.1\r\nHost: acquirer.test\r\n\r\n"));
  const { layers, stderr } = dissect(capture, "heuristic");
  expect(stderr).toBe("");
  expect(layers.map((l) => l["cup8583.mti"])).toEqual(["0800", "0820"]);
});

test("sub-fields off the CUP layout are warnings on a message that decodes: F60 cut short, F55 not BER-TLV, F62 keys of a wrong size", () => {
  const codec = new Iso8583Codec({ dialect: CUP, framed: true });
  const odd: CorpusMessage[] = [
    { name: "F60 cut inside 60.3", fields: { 11: "000001", 60: "220000011" } },
    { name: "F55 length past its end", fields: { 11: "000001", 55: "9F2608DEAE" } },
    { name: "0810 keys of 10 bytes", fields: { 11: "000001", 39: "00", 62: "00112233445566778899" }, mti: "0810" },
  ].map((c) => ({
    name: c.name,
    bytes: codec.encode({ tpdu: "6000030000", header: "603100311312", mti: c.mti ?? "0200", fields: c.fields }).slice(),
  }));
  const { layers, stderr } = dissect(oneConnectionEach(odd), "subfields");
  expect(stderr).toBe("");
  expect(layers.map(malformedText)).toEqual([undefined, undefined, undefined]);
  const warnings = layers.map((l) => JSON.stringify(l));
  expect(warnings[0]).toContain("the sub-field at digit 9 is cut short (1 of 3 digits)");
  expect(warnings[1]).toContain("F55 TLV at byte 0: 8 bytes declared, 2 left");
  expect(warnings[2]).toContain("10 bytes of keys; 24, 40 or 60 expected");
});
