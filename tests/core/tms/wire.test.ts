// The TMS payload codec and client (docs/tms.md), in Node and in XS: valid answers decode, malformed ones are TmsErrors.
import { TmsClient } from "../../../modules/tms/client";
import { TmsError } from "../../../modules/tms/errors";
import { decodeManifestAnswer, encodeManifestAnswer, manifestBytes, parseVersion } from "../../../modules/tms/manifest";
import { MAX_IMAGE_CHUNK_BYTES, type ImageManifest } from "../../../modules/tms/source";
import {
  decodeChunkAnswer,
  decodeChunkRequest,
  decodeParameterReport,
  encodeChunkAnswer,
  encodeChunkRequest,
  encodeParameterReport,
  TMS_NET_CODES,
  type TmsAnswer,
  type TmsExchange,
  type TmsNetCode,
} from "../../../modules/tms/wire";
import { decodeUtf8, encodeUtf8 } from "../../../modules/base/utf8";
import { decodeParameterBlock, ParameterError } from "../../../modules/terminal/parameters";
import { fc } from "../iso8583/fast-check";

const SHA = Uint8Array.from({ length: 32 }, (_, i) => i);
const SIG = Uint8Array.from({ length: 64 }, (_, i) => 255 - i);
const MANIFEST: ImageManifest = { version: "1.2.3", sizeBytes: 1200, sha256: SHA, signature: SIG };

function reasonOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof TmsError) return error.reason;
    throw error;
  }
  return "none";
}

describe("manifest", () => {
  test('canonical bytes: "xspos-image-1" 00 version 00 size (u32 BE) sha256', () => {
    const bytes = manifestBytes(MANIFEST);
    const text = "xspos-image-1\u00001.2.3\u0000";
    expect(bytes.length).toBe(text.length + 4 + 32);
    expect(Array.from(bytes.subarray(0, text.length))).toEqual(Array.from(text, (c) => c.charCodeAt(0)));
    expect(Array.from(bytes.subarray(text.length, text.length + 4))).toEqual([0, 0, 0x04, 0xb0]);
    expect(Array.from(bytes.subarray(text.length + 4))).toEqual(Array.from(SHA));
  });

  test("an answer is manifest || signature and decodes to the same manifest", () => {
    for (const version of ["1.2.3", "0.0.0", "65535.65535.65535"]) {
      const f62 = encodeManifestAnswer({ ...MANIFEST, version });
      expect(f62.length).toBe(51 + version.length + 64);
      const back = decodeManifestAnswer(f62);
      expect(back.version).toBe(version);
      expect(back.sizeBytes).toBe(1200);
      expect(Array.from(back.sha256)).toEqual(Array.from(SHA));
      expect(Array.from(back.signature)).toEqual(Array.from(SIG));
    }
  });

  test("malformed answers: short, long, another prefix, separators, a bad version, size 0 or too big", () => {
    const good = encodeManifestAnswer(MANIFEST); // version at 14..18, separators at 13 and 19, size at 20
    expect(reasonOf(() => decodeManifestAnswer(good.subarray(0, good.length - 1)))).toBe("malformed");
    expect(reasonOf(() => decodeManifestAnswer(new Uint8Array(200)))).toBe("malformed");
    const spoil = (at: number, value: number) => {
      const copy = good.slice();
      copy[at] = value;
      return copy;
    };
    expect(reasonOf(() => decodeManifestAnswer(spoil(0, 0x58)))).toBe("malformed");
    expect(reasonOf(() => decodeManifestAnswer(spoil(13, 0x20)))).toBe("malformed");
    expect(reasonOf(() => decodeManifestAnswer(spoil(19, 0x20)))).toBe("malformed");
    expect(reasonOf(() => decodeManifestAnswer(spoil(14, 0x41)))).toBe("malformed"); // "A.2.3"
    expect(reasonOf(() => decodeManifestAnswer(spoil(15, 0x31)))).toBe("malformed"); // "112.3": two parts
    expect(decodeManifestAnswer(spoil(14, 0x30)).version).toBe("0.2.3");
    const zero = good.slice();
    zero.fill(0, 20, 24);
    expect(reasonOf(() => decodeManifestAnswer(zero))).toBe("malformed");
    expect(reasonOf(() => decodeManifestAnswer(spoil(20, 0x01)))).toBe("malformed"); // 16 MiB + 1200
  });

  test("versions: major.minor.patch each 0..65535, no leading zeros; compared part by part", () => {
    expect(parseVersion("1.10.0")).toEqual([1, 10, 0]);
    for (const bad of ["1.2", "1.2.3.4", "01.2.3", "1.2.65536", "v1.2.3", "", "1.2.-3"]) expect(parseVersion(bad)).toBeUndefined();
    expect(reasonOf(() => manifestBytes({ ...MANIFEST, version: "1.2" }))).toBe("badRequest");
    expect(reasonOf(() => manifestBytes({ ...MANIFEST, sha256: new Uint8Array(31) }))).toBe("badRequest");
  });
});

describe("chunks", () => {
  test("a request is 12 bytes and decodes back", () => {
    const f62 = encodeChunkRequest({ version: "1.1.0", offsetBytes: 70_000, lengthBytes: 508 });
    expect(Array.from(f62)).toEqual([0, 1, 0, 1, 0, 0, 0, 1, 0x11, 0x70, 0x01, 0xfc]);
    expect(decodeChunkRequest(f62)).toEqual({ version: "1.1.0", offsetBytes: 70_000, lengthBytes: 508 });
    expect(reasonOf(() => decodeChunkRequest(f62.subarray(0, 11)))).toBe("malformed");
    expect(reasonOf(() => decodeChunkRequest(undefined))).toBe("malformed");
    expect(reasonOf(() => decodeChunkRequest(Uint8Array.of(0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0x02, 0)))).toBe("malformed");
    expect(reasonOf(() => encodeChunkRequest({ version: "1.1.0", offsetBytes: 0, lengthBytes: MAX_IMAGE_CHUNK_BYTES + 1 }))).toBe(
      "badRequest",
    );
  });

  test("an answer must carry the asked offset and exactly the bytes left of the image", () => {
    const data = Uint8Array.from({ length: 200 }, (_, i) => i);
    const f62 = encodeChunkAnswer(1000, data);
    expect(Array.from(decodeChunkAnswer(f62, 1000, 508, 1200))).toEqual(Array.from(data)); // the image's end
    expect(reasonOf(() => decodeChunkAnswer(f62, 1000, 100, 1200))).toBe("malformed"); // more than asked
    expect(reasonOf(() => decodeChunkAnswer(f62, 1000, 508, 1300))).toBe("malformed"); // fewer than due
    expect(reasonOf(() => decodeChunkAnswer(encodeChunkAnswer(999, data), 1000, 508, 1200))).toBe("mismatch");
    expect(reasonOf(() => decodeChunkAnswer(Uint8Array.of(0, 0, 3), 1000, 508, 1200))).toBe("malformed");
    expect(reasonOf(() => decodeChunkAnswer(f62, 1200, 508, 1200))).toBe("badRequest");
  });
});

describe("parameter report", () => {
  test("status, CRC-32 and an ASCII reason; bad reports are malformed", () => {
    const f62 = encodeParameterReport({ applied: false, blockCrc32: 0xdeadbeef, reason: "amountMaxMinor: 超限" });
    expect(decodeParameterReport(f62)).toEqual({ applied: false, blockCrc32: 0xdeadbeef, reason: "amountMaxMinor: ??" });
    expect(decodeParameterReport(encodeParameterReport({ applied: true, blockCrc32: 1 }))).toEqual({ applied: true, blockCrc32: 1 });
    expect(encodeParameterReport({ applied: false, blockCrc32: 0, reason: "x".repeat(500) }).length).toBe(101);
    expect(reasonOf(() => decodeParameterReport(Uint8Array.of(2, 0, 0, 0, 0)))).toBe("malformed");
    expect(reasonOf(() => decodeParameterReport(Uint8Array.of(0, 0, 0, 0)))).toBe("malformed");
    expect(reasonOf(() => decodeParameterReport(Uint8Array.of(0, 0, 0, 0, 0, 0x0a)))).toBe("malformed");
  });
});

/** A scripted exchange: each request gets the next answer. */
function scripted(answers: (TmsAnswer | TmsError)[]): TmsExchange & { sent: { netCode: TmsNetCode; payload?: Uint8Array }[] } {
  const sent: { netCode: TmsNetCode; payload?: Uint8Array }[] = [];
  return {
    sent,
    tmsExchange(netCode, payload, done) {
      sent.push({ netCode, ...(payload !== undefined ? { payload } : {}) });
      done(answers.shift()!);
    },
  };
}

function collect<T>(start: (done: (result: T | TmsError) => void) => void): T | TmsError {
  let out: T | TmsError | undefined;
  start((result) => (out = result));
  return out!;
}

describe("TmsClient", () => {
  test("parameters: 00 with F62 is the block, 25 is none, other codes and an empty F62 are typed errors", () => {
    const exchange = scripted([
      { f39: "00", f62: Uint8Array.of(1, 2) },
      { f39: "25" },
      { f39: "96" },
      { f39: "00" },
      new TmsError("unreachable", "timeout"),
    ]);
    const client = new TmsClient({ exchange });
    expect(Array.from(collect<Uint8Array | undefined>((d) => client.requestParameters(d)) as Uint8Array)).toEqual([1, 2]);
    expect(collect<unknown>((d) => client.requestParameters(d))).toBeUndefined();
    expect((collect<unknown>((d) => client.requestParameters(d)) as TmsError).reason).toBe("declined");
    expect((collect<unknown>((d) => client.requestParameters(d)) as TmsError).reason).toBe("malformed");
    expect((collect<unknown>((d) => client.requestParameters(d)) as TmsError).reason).toBe("unreachable");
    expect(exchange.sent.map((s) => s.netCode)).toEqual(Array(5).fill(TMS_NET_CODES.parameters));
  });

  test("a chunk names the manifest's version and is checked against its size; none before a manifest", () => {
    const data = new Uint8Array(508).fill(7);
    const exchange = scripted([
      { f39: "00", f62: encodeManifestAnswer(MANIFEST) },
      { f39: "00", f62: encodeChunkAnswer(508, data) },
      { f39: "25" },
      { f39: "00", f62: encodeChunkAnswer(0, data.subarray(0, 10)) },
    ]);
    const client = new TmsClient({ exchange });
    expect((collect<unknown>((d) => client.requestChunk(0, 508, d)) as TmsError).reason).toBe("badRequest");
    expect((collect<ImageManifest | undefined>((d) => client.requestManifest(d)) as ImageManifest).version).toBe("1.2.3");
    expect((collect<Uint8Array>((d) => client.requestChunk(508, 508, d)) as Uint8Array).length).toBe(508);
    expect(decodeChunkRequest(exchange.sent[1].payload)).toEqual({ version: "1.2.3", offsetBytes: 508, lengthBytes: 508 });
    expect((collect<unknown>((d) => client.requestChunk(1016, 508, d)) as TmsError).reason).toBe("imageWithdrawn");
    expect((collect<unknown>((d) => client.requestChunk(0, 508, d)) as TmsError).reason).toBe("malformed");
    expect((collect<unknown>((d) => client.requestChunk(1200, 1, d)) as TmsError).reason).toBe("badRequest");
    expect(exchange.sent.length).toBe(4);
  });
});

describe("utf8", () => {
  test("round trip of ASCII, CJK and astral text; malformed bytes are RangeErrors", () => {
    for (const text of ["", "hotline 95516", "客服热线 95516", "é𝄞"]) expect(decodeUtf8(encodeUtf8(text))).toBe(text);
    expect(Array.from(encodeUtf8("客"))).toEqual([0xe5, 0xae, 0xa2]);
    for (const bad of [[0xc0, 0x80], [0xe5, 0xae], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80], [0xff]])
      expect(() => decodeUtf8(Uint8Array.from(bad))).toThrow(RangeError);
    expect(() => encodeUtf8("\ud800")).toThrow(RangeError);
  });
});

describe("any bytes", () => {
  /** Runs `decode`; anything thrown must be one of `typed` (never an assertion or a TypeError). */
  const onlyTyped = (decode: () => unknown, ...typed: (abstract new (...args: never[]) => Error)[]) => {
    try {
      decode();
    } catch (error) {
      if (!typed.some((t) => error instanceof t)) throw error;
    }
  };

  test("every TMS answer decoder and the parameter block give a value or their typed error", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 160 }), fc.integer({ min: 0, max: 5000 }), (bytes, offset) => {
        onlyTyped(() => decodeManifestAnswer(bytes), TmsError);
        onlyTyped(() => decodeChunkAnswer(bytes, offset, 508, 4096), TmsError);
        onlyTyped(() => decodeChunkRequest(bytes), TmsError);
        onlyTyped(() => decodeParameterReport(bytes), TmsError);
        onlyTyped(() => decodeParameterBlock(bytes), ParameterError);
        onlyTyped(() => decodeUtf8(bytes), RangeError);
      }),
      { numRuns: 300, seed: 19 },
    );
  });
});
