/**
 * `xspos bench codec`: in one run, pack and unpack of the same ISO 8583:1987
 * ASCII messages by xspos and by npm iso_8583 (msgs/s and the ratio), xspos
 * CUP pack/unpack msgs/s, and the XS meter of one CUP pack+unpack.
 */
import { bundleForXs } from "../xs/bundle";
import { createRequire } from "node:module";
import { integerOption, parseOptions } from "../cli/command";
import type { Benchmark } from "../cli/commands/bench";
import { REPO_ROOT } from "../xs/suites";
import { XsWorker } from "../xs/worker";
import { fromHex } from "../../modules/base/hex";
import { CUP, ISO87_ASCII, Iso8583Codec, type IsoMessage } from "../../modules/iso8583";
import { IC_SALE } from "../../tests/core/iso8583/samples";

/** iso_8583 (CommonJS, untyped): the parts used here. */
interface Iso8583Js {
  getBufferMessage(): Buffer | { error: string };
  getIsoJSON(buffer: Buffer, config: object): Record<string, string> | { error: string };
}
type Iso8583JsConstructor = new (data?: Record<string, string>, formats?: object) => Iso8583Js;

/** iso_8583 writes a binary bitmap unless field 1 is declared `an`: this makes it hex ASCII like iso87ascii. */
export const ISO_8583_FORMATS = Object.freeze({ 1: { ContentType: "an", Label: "Bitmap", LenType: "fixed", MaxLen: 32 } });
export const ISO_8583_UNPACK_CONFIG = Object.freeze({ bitmapEncoding: "utf8" });

/**
 * The compared messages. Each has a field above 64 because iso_8583 always
 * sends a secondary bitmap; fields 53, 64, 96 and 128, where its table departs
 * from ISO 8583:1987, are left out.
 */
export const ISO87_MESSAGES: readonly IsoMessage[] = Object.freeze([
  {
    mti: "0200",
    fields: {
      2: "4761739001010119",
      3: "000000",
      4: "000000005000",
      7: "0911131411",
      11: "000123",
      12: "131411",
      13: "0911",
      14: "2212",
      22: "051",
      25: "00",
      35: "4761739001010119D22122011758928889",
      37: "000000000123",
      41: "12345678",
      42: "MOTITILL_000001",
      43: "My Terminal Business                    ",
      49: "404",
      52: "7434F67813BAE545",
      102: "0123456789",
    },
  },
  {
    mti: "0210",
    fields: {
      2: "4761739001010119",
      3: "000000",
      4: "000000005000",
      7: "0911131412",
      11: "000123",
      37: "000000000123",
      38: "A1B2C3",
      39: "00",
      41: "12345678",
      42: "MOTITILL_000001",
      49: "404",
      100: "12345678901",
    },
  },
  { mti: "0800", fields: { 7: "0911131411", 11: "000124", 70: "301" } },
]);

/** The message in iso_8583's form: `0` = MTI, b fields as hex. */
export function toIso8583Js(message: IsoMessage): Record<string, string> {
  const data: Record<string, string> = { 0: message.mti };
  for (const [key, value] of Object.entries(message.fields)) if (value !== undefined) data[key] = value;
  return data;
}

/**
 * The first difference between an xspos decode and iso_8583's unpack of the
 * same bytes, or null. iso_8583 gives b fields in lowercase hex.
 */
export function unpackDifference(ours: IsoMessage, theirs: Record<string, string> | { error: string }): string | null {
  if ("error" in theirs) return `iso_8583: ${theirs.error}`;
  const expected = toIso8583Js(ours);
  const keys = Object.keys(theirs);
  if (keys.join() !== Object.keys(expected).join()) return `fields ${Object.keys(expected).join()} vs ${keys.join()}`;
  for (const key of keys) {
    const value = (theirs as Record<string, string>)[key];
    const normalized = ISO87_ASCII.fields[Number(key)]?.kind === "b" ? value.toUpperCase() : value;
    if (typeof value !== "string" || normalized !== expected[key]) return `field ${key}`;
  }
  return null;
}

export function loadIso8583Js(): Iso8583JsConstructor {
  return createRequire(import.meta.url)("iso_8583") as Iso8583JsConstructor;
}

const SLICE_MS = 25;

function runFor(ms: number, round: () => unknown): { rounds: number; ns: number } {
  const start = process.hrtime.bigint();
  const limit = BigInt(ms) * 1_000_000n;
  let rounds = 0;
  let elapsed = 0n;
  while (elapsed < limit) {
    for (let i = 0; i < 20; i++) round();
    rounds += 20;
    elapsed = process.hrtime.bigint() - start;
  }
  return { rounds, ns: Number(elapsed) };
}

/**
 * Messages per second of each contender (a round handles `perRound` messages).
 * The contenders run in alternating short slices, so load from other processes
 * on a shared machine falls on both alike and the ratio stays meaningful.
 */
function rates(durationMs: number, perRound: number, contenders: readonly (() => unknown)[]): number[] {
  for (const round of contenders) runFor(durationMs / 2, round); // warm-up: let the JIT settle
  const totals = contenders.map(() => ({ rounds: 0, ns: 0 }));
  for (let slice = 0; slice < durationMs / SLICE_MS; slice++) {
    contenders.forEach((round, i) => {
      const { rounds, ns } = runFor(SLICE_MS, round);
      totals[i].rounds += rounds;
      totals[i].ns += ns;
    });
  }
  return totals.map((t) => Math.round((t.rounds * perRound) / (t.ns / 1e9)));
}

/** One CUP pack+unpack in XS: compute and heap slots of that one crank. */
async function xsMeter(): Promise<Record<string, number>> {
  const bundled = await bundleForXs({
    contents: [
      `import { fromHex } from "./modules/base/hex";`,
      `import { CUP, Iso8583Codec } from "./modules/iso8583";`,
      `import { IC_SALE } from "./tests/core/iso8583/samples";`,
      `const codec = new Iso8583Codec({ dialect: CUP });`,
      `const message = codec.decode(fromHex(IC_SALE));`,
      `globalThis.packUnpack = () => codec.decode(codec.encode(message));`,
    ].join("\n"),
    resolveDir: REPO_ROOT,
    sourcefile: "codec-bench.ts",
  });
  const worker = new XsWorker();
  try {
    await worker.evaluate(bundled);
    await worker.evaluate("packUnpack();"); // warm-up: the codec's first use builds its tables
    const one = await worker.evaluate("packUnpack();");
    return { compute: one.meter.compute, heapSlots: one.meter.currentHeapCount };
  } finally {
    worker.close();
  }
}

export const benchmark: Benchmark = {
  summary: "ISO 8583 pack/unpack: xspos vs npm iso_8583 (ISO-1987 ASCII), xspos CUP, XS meter of one CUP pack+unpack",
  async run(args) {
    const { values } = parseOptions(args, { ms: { type: "string" } }, false);
    const durationMs = integerOption(values.ms, "ms", 2000, 100, 60000);
    const Iso8583Js = loadIso8583Js();

    const ascii = new Iso8583Codec({ dialect: ISO87_ASCII, framed: true });
    const jsData = ISO87_MESSAGES.map(toIso8583Js);
    const jsBuffers = jsData.map((data) => {
      const buffer = new Iso8583Js(data, ISO_8583_FORMATS).getBufferMessage();
      if (!Buffer.isBuffer(buffer)) throw new Error(`iso_8583 could not pack a bench message: ${buffer.error}`);
      return buffer;
    });
    // Same messages, same bytes: otherwise the comparison would be meaningless.
    ISO87_MESSAGES.forEach((message, i) => {
      if (!Buffer.from(ascii.encode(message)).equals(jsBuffers[i])) throw new Error(`xspos and iso_8583 encode message ${i} differently`);
    });
    const xsposBytes = jsBuffers.map((b) => new Uint8Array(b));
    // Same results: every field's value materialized as a string by both unpacks.
    xsposBytes.forEach((bytes, i) => {
      const theirs = new Iso8583Js(undefined, ISO_8583_FORMATS).getIsoJSON(jsBuffers[i], ISO_8583_UNPACK_CONFIG);
      const difference = unpackDifference(ascii.decode(bytes), theirs);
      if (difference !== null) throw new Error(`xspos and iso_8583 unpack message ${i} differently: ${difference}`);
    });
    const count = ISO87_MESSAGES.length;

    // Every result is kept, so no engine can skip work whose result goes unused.
    const kept: unknown[] = new Array<unknown>(count);
    const [xsposPack, jsPack] = rates(durationMs, count, [
      () => {
        for (let i = 0; i < count; i++) kept[i] = ascii.encode(ISO87_MESSAGES[i]);
      },
      () => {
        for (let i = 0; i < count; i++) kept[i] = new Iso8583Js(jsData[i], ISO_8583_FORMATS).getBufferMessage();
      },
    ]);
    const [xsposUnpack, jsUnpack] = rates(durationMs, count, [
      () => {
        for (let i = 0; i < count; i++) kept[i] = ascii.decode(xsposBytes[i]);
      },
      () => {
        for (let i = 0; i < count; i++)
          kept[i] = new Iso8583Js(undefined, ISO_8583_FORMATS).getIsoJSON(jsBuffers[i], ISO_8583_UNPACK_CONFIG);
      },
    ]);

    const cup = new Iso8583Codec({ dialect: CUP });
    const cupBytes = fromHex(IC_SALE);
    const cupMessage = cup.decode(cupBytes);
    const [cupPack, cupUnpack] = rates(durationMs, 1, [() => (kept[0] = cup.encode(cupMessage)), () => (kept[0] = cup.decode(cupBytes))]);
    if (kept.length !== count) throw new Error("bench results were not kept");
    const xs = await xsMeter();

    const figures = {
      iso87ascii: {
        messages: count,
        xsposPackPerSecond: xsposPack,
        iso8583PackPerSecond: jsPack,
        packRatio: Number((xsposPack / jsPack).toFixed(1)),
        xsposUnpackPerSecond: xsposUnpack,
        iso8583UnpackPerSecond: jsUnpack,
        unpackRatio: Number((xsposUnpack / jsUnpack).toFixed(1)),
      },
      cup: { message: "0200 IC sale (reference §1.4)", bytes: cupBytes.length, packPerSecond: cupPack, unpackPerSecond: cupUnpack },
      xsCupPackUnpack: xs,
    };
    const a = figures.iso87ascii;
    console.log(`iso87ascii pack:   xspos ${a.xsposPackPerSecond} msg/s, iso_8583 ${a.iso8583PackPerSecond} msg/s, ratio ${a.packRatio}x`);
    console.log(
      `iso87ascii unpack: xspos ${a.xsposUnpackPerSecond} msg/s, iso_8583 ${a.iso8583UnpackPerSecond} msg/s, ratio ${a.unpackRatio}x`,
    );
    console.log(`cup (${cupBytes.length}-byte 0200): pack ${cupPack} msg/s, unpack ${cupUnpack} msg/s`);
    console.log(`XS one cup pack+unpack: compute ${xs.compute}, heap slots ${xs.heapSlots}`);
    return figures;
  },
};
