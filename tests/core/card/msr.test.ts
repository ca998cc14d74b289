import { decodeMsr, bitsFromText, MsrError, type MsrTrack } from "../../../modules/card/msr";
import { MsrCapture } from "../../../modules/card/msr-capture";
import { encodeTrack, MsrReaderEmulator } from "../../../modules/emulators/msr-reader";
import { luhnValid, maskPan } from "../../../modules/crypto/pan";

// CyberSource PIN-debit track 2 (public test data), and the computed vector of
// this file: 39 characters + LRC '5' = 200 bits (docs/card-readers.md).
const TRACK2_TEXT = ";4111111111111111=26121019761186800000?";
const TRACK2_BITS =
  "11010001001000010000100001000010000100001000010000100001000010000100001000010000100001011001000011011000001000100000000110000100111110001101100001000000010011010001000001000010000100001000011111110101";
// CyberSource track 1 (format B); LRC '!' (0x01).
const TRACK1_TEXT = "%B4111111111111111^SMITH/ JOHN ^2412101976110000868000000?";
const ZEROS = "0".repeat(20);

function reversed(text: string): string {
  return text.split("").reverse().join("");
}

function decodeText(text: string): MsrTrack {
  return decodeMsr(bitsFromText(text), text.length);
}

function failure(run: () => unknown): MsrError {
  try {
    run();
  } catch (error) {
    if (error instanceof MsrError) return error;
    throw error;
  }
  throw new Error("expected an MsrError");
}

describe("golden track 2 vector", () => {
  test("the encoder reproduces the reference's fragments", () => {
    expect(TRACK2_BITS).toHaveLength(200);
    expect(TRACK2_BITS.slice(0, 25)).toBe("1101000100100001000010000");
    expect(TRACK2_BITS.slice(-5)).toBe("10101");
    expect(TRACK2_BITS.slice(-10, -5)).toBe("11111");
    expect(Array.from(encodeTrack(TRACK2_TEXT, 0, 0)).join("")).toBe(TRACK2_BITS);
  });

  test("decodes forward with clocking zeros", () => {
    const track = decodeText(ZEROS + TRACK2_BITS + ZEROS);
    expect(track).toMatchObject({ track: 2, pan: "4111111111111111", expiry: "2612", serviceCode: "101", direction: "forward", name: "" });
    let data = "";
    for (const c of track.data) data += String.fromCharCode(c);
    expect(data).toBe("4111111111111111=26121019761186800000");
    track.wipe();
    expect(track.data.every((b) => b === 0)).toBe(true);
  });

  test("decodes reversed", () => {
    expect(decodeText(reversed(ZEROS + TRACK2_BITS + ZEROS))).toMatchObject({ track: 2, pan: "4111111111111111", direction: "reverse" });
  });

  test.each([
    ["forward", false],
    ["reverse", true],
  ])("every single-bit corruption inside the characters is rejected (%s)", (_name, reverse) => {
    for (let bit = 0; bit < TRACK2_BITS.length; bit++) {
      const flipped = TRACK2_BITS.slice(0, bit) + (TRACK2_BITS[bit] === "1" ? "0" : "1") + TRACK2_BITS.slice(bit + 1);
      const stream = ZEROS + flipped + ZEROS;
      const error = failure(() => decodeText(reverse ? reversed(stream) : stream));
      const character = Math.floor(bit / 5);
      // Losing b0 of ';' leaves 1010 + '4''s 001 = '%', a track 1 start sentinel: rejected on the next character's parity.
      if (bit === 0) expect([error.reason, error.character]).toEqual(["parity", 2]);
      else if (character === 0) expect(error.reason).toBe("noStartSentinel");
      else {
        expect(error.reason).toBe("parity");
        expect(error.character).toBe(character);
        expect(error.message).toBe(`parity error at character ${character}`);
      }
    }
  });
});

describe("golden track 1 vector", () => {
  const bits = Array.from(encodeTrack(TRACK1_TEXT, 0, 0)).join("");

  test("LRC is '!' and the start sentinel is 1010001", () => {
    expect(bits.slice(0, 7)).toBe("1010001");
    expect(bits.slice(-7)).toBe("1000000");
  });

  test("decodes forward and reversed, with the name", () => {
    const expected = { track: 1, pan: "4111111111111111", expiry: "2412", serviceCode: "101", name: "SMITH/ JOHN" };
    expect(decodeText(ZEROS + bits + ZEROS)).toMatchObject({ ...expected, direction: "forward" });
    expect(decodeText(reversed(ZEROS + bits + ZEROS))).toMatchObject({ ...expected, direction: "reverse" });
  });

  test.each([
    ["forward", false],
    ["reverse", true],
  ])("every single-bit corruption inside the characters is rejected (%s)", (_name, reverse) => {
    for (let bit = 0; bit < bits.length; bit++) {
      const flipped = bits.slice(0, bit) + (bits[bit] === "1" ? "0" : "1") + bits.slice(bit + 1);
      const stream = ZEROS + flipped + ZEROS;
      const error = failure(() => decodeText(reverse ? reversed(stream) : stream));
      const character = Math.floor(bit / 7);
      if (character === 0) expect(error.reason).toBe("noStartSentinel");
      else expect([error.reason, error.character]).toEqual(["parity", character]);
    }
  });
});

describe("named failures", () => {
  test("LRC mismatch when a column is wrong but every parity holds", () => {
    // Swap the LRC for another odd-parity character: '4' (00100) instead of '5'.
    const bad = TRACK2_BITS.slice(0, -5) + "00100";
    expect(failure(() => decodeText(ZEROS + bad + ZEROS))).toMatchObject({ reason: "lrc", character: 39 });
  });

  test("Luhn", () => {
    const error = failure(() => decodeMsr(encodeTrack(";4111111111111112=26121019761186800000?"), 248));
    expect(error).toMatchObject({ reason: "luhn", message: "PAN fails the Luhn check" });
  });

  test("no start sentinel in silence or noise", () => {
    expect(failure(() => decodeText(ZEROS)).reason).toBe("noStartSentinel");
    expect(failure(() => decodeText("0001110010")).reason).toBe("noStartSentinel");
  });

  test("a half swipe ends before the end sentinel", () => {
    expect(failure(() => decodeText(ZEROS + TRACK2_BITS.slice(0, 100))).reason).toBe("noEndSentinel");
    expect(failure(() => decodeText(ZEROS + TRACK2_BITS.slice(0, 195))).reason).toBe("noLrc");
  });

  test("format errors", () => {
    const noSeparator = encodeTrack(";41111111111111112612101?");
    expect(failure(() => decodeMsr(noSeparator, noSeparator.length))).toMatchObject({ reason: "format" });
    const shortPan = encodeTrack(";4111=2612101?");
    expect(failure(() => decodeMsr(shortPan, shortPan.length)).message).toBe("PAN is not 12 to 19 digits");
  });

  test("bit text validation", () => {
    expect(() => bitsFromText("0102")).toThrow(MsrError);
    expect(() => bitsFromText("1".repeat(2000))).toThrow("more than 1024 bits");
  });
});

describe("emulated TTL reader through Digital pins", () => {
  const pins = { cls: 4, strobe: 5, data: 6 };

  function capture(): { reader: MsrReaderEmulator; swipes: string[]; results: (MsrTrack | MsrError)[] } {
    const reader = new MsrReaderEmulator(pins);
    const swipes: string[] = [];
    const results: (MsrTrack | MsrError)[] = [];
    new MsrCapture({
      open: reader.open,
      pins,
      onSwipe: (bits, count) => {
        swipes.push(Array.from(bits.subarray(0, count)).join(""));
        try {
          results.push(decodeMsr(bits, count));
        } catch (error) {
          if (!(error instanceof MsrError)) throw error;
          results.push(error);
        }
      },
    });
    return { reader, swipes, results };
  }

  test("a clean swipe yields the encoded bits and the track", () => {
    const { reader, swipes, results } = capture();
    reader.swipe(TRACK2_TEXT);
    expect(swipes[0]).toBe(Array.from(encodeTrack(TRACK2_TEXT)).join(""));
    expect(results[0]).toMatchObject({ pan: "4111111111111111", direction: "forward" });
  });

  test("a reverse swipe decodes as reverse", () => {
    const { reader, results } = capture();
    reader.swipe(TRACK2_TEXT, { reverse: true });
    expect(results[0]).toMatchObject({ pan: "4111111111111111", direction: "reverse" });
  });

  test("noise is rejected with its reason", () => {
    const { reader, results } = capture();
    reader.swipe(TRACK2_TEXT, { flipBits: [24 + 5 * 7 + 2] });
    reader.swipe(TRACK2_TEXT, { dropStrobes: [24 + 5 * 3] });
    reader.swipe(TRACK2_TEXT, { fraction: 0.5 });
    expect(results.map((r) => (r instanceof MsrError ? r.reason : "ok"))).toEqual(["parity", "parity", "noEndSentinel"]);
    expect((results[0] as MsrError).character).toBe(7);
  });

  test("the capture wipes its buffer after each swipe", () => {
    const reader = new MsrReaderEmulator(pins);
    let kept: Uint8Array | undefined;
    new MsrCapture({ open: reader.open, pins, onSwipe: (bits) => (kept = bits) });
    reader.swipe(TRACK2_TEXT);
    expect(kept!.every((b) => b === 0)).toBe(true);
  });
});

describe("luhn", () => {
  test("valid and invalid PANs, masking", () => {
    expect(luhnValid("4111111111111111")).toBe(true);
    expect(luhnValid("4111111111111112")).toBe(false);
    expect(luhnValid("41111111111")).toBe(false);
    expect(luhnValid("41111111111a1111")).toBe(false);
    expect(maskPan("6212345678901234567")).toBe("621234*********4567");
  });
});
