import { Logger, MemoryLogSink, maskPan, redactText } from "../../../modules/platform/log";
import { SeededRandom } from "../../../modules/platform/random";

describe("redacting logger", () => {
  test("masks a PAN to first 6 / last 4", () => {
    expect(maskPan("6225880012345678")).toBe("622588******5678");
    expect(maskPan("4761739001010119")).toBe("476173******0119");
  });

  test("every PAN length 10–19: at most first 6 / last 4, at least 3 digits hidden, shorter than 13 masked whole", () => {
    const digits = "6225880123456789012";
    const expected: Record<number, string> = {
      10: "**********",
      11: "***********",
      12: "************",
      13: "622588***3456",
      14: "622588****4567",
      15: "622588*****5678",
      16: "622588******6789",
      17: "622588*******7890",
      18: "622588********8901",
      19: "622588*********9012",
    };
    const lengths = Object.keys(expected).map(Number);
    expect(lengths).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    for (const length of lengths) {
      const pan = digits.slice(0, length);
      const masked = maskPan(pan);
      expect(masked).toBe(expected[length]);
      expect(masked).toHaveLength(length);
      const shown = masked.replace(/\*/g, "").length;
      expect(shown).toBeLessThanOrEqual(Math.min(10, length - 3));
    }
  });

  test("masks every PAN-length digit run in free text, keeps short numbers", () => {
    expect(redactText("pan 6225880012345678 stan 000123")).toBe("pan 622588******5678 stan 000123");
    expect(redactText("track 6225880012345678D2512")).toBe("track 622588******5678D2512");
  });

  test("sensitive field names never show their values", () => {
    const sink = new MemoryLogSink();
    const log = new Logger(sink);
    log.info("sign-on", {
      tid: "10000159",
      mak: "0123456789ABCDEF",
      pinBlock: "06123456FFFFFFFF",
      workingKey: "AA",
      track2: "6225880012345678D2512",
    });
    const line = sink.lines[0];
    expect(line).toContain("tid=10000159");
    expect(line).not.toContain("0123456789ABCDEF");
    expect(line).not.toContain("06123456FFFFFFFF");
    expect(line).not.toContain("6225880012345678");
    expect(line).toContain("mak=[redacted]");
  });

  test("the memory sink keeps only its last lines", () => {
    const sink = new MemoryLogSink(2);
    const log = new Logger(sink);
    log.info("a");
    log.warn("b");
    log.error("c");
    expect(sink.lines).toEqual(["warn b", "error c"]);
  });
});

describe("SeededRandom", () => {
  test("the same seed gives the same stream; different seeds differ", () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const c = new SeededRandom(43);
    const sa = [a.nextUint32(), a.nextUint32(), a.nextUint32()];
    expect([b.nextUint32(), b.nextUint32(), b.nextUint32()]).toEqual(sa);
    expect([c.nextUint32(), c.nextUint32(), c.nextUint32()]).not.toEqual(sa);
  });

  test("below stays in range", () => {
    const r = new SeededRandom(7);
    for (let i = 0; i < 1000; i++) {
      const v = r.below(10);
      expect(v >= 0 && v < 10).toBe(true);
    }
  });
});
