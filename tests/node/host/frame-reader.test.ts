/** tools/host/decision.ts FrameReader: length-prefixed messages out of a byte stream cut anywhere. */
import { frame, FrameReader, MESSAGE_BYTES_MAX } from "../../../tools/host/decision";

const messages = [Uint8Array.of(1), Uint8Array.from({ length: 300 }, (_, i) => i & 0xff), Uint8Array.of(7, 8, 9)];
const stream = Uint8Array.from(messages.flatMap((m) => [...frame(m)]));

describe("FrameReader", () => {
  test.each([1, 2, 3, 7, 301, stream.length])("the stream in pieces of %d bytes gives the same messages", (piece) => {
    const reader = new FrameReader();
    const got: Uint8Array[] = [];
    for (let at = 0; at < stream.length; at += piece) {
      expect(reader.push(stream.subarray(at, at + piece), (m) => got.push(m))).toBeUndefined();
      if (at + piece < stream.length) expect(reader.buffered).toBeGreaterThanOrEqual(0);
    }
    expect(got).toEqual(messages);
    expect(reader.buffered).toBe(0);
  });

  test("bytes of a frame so far are counted; a message is its own copy", () => {
    const reader = new FrameReader();
    const got: Uint8Array[] = [];
    const framed = frame(messages[1]);
    reader.push(framed.subarray(0, 1), (m) => got.push(m));
    expect(reader.buffered).toBe(1);
    reader.push(framed.subarray(1, 10), (m) => got.push(m));
    expect(reader.buffered).toBe(10);
    reader.push(framed.subarray(10), (m) => got.push(m));
    framed.fill(0);
    expect(got[0]).toEqual(messages[1]);
  });

  test.each([0, MESSAGE_BYTES_MAX + 1])("a declared length of %d is an error, and stays one", (length) => {
    const reader = new FrameReader();
    const error = `frame length ${length} is outside 1..${MESSAGE_BYTES_MAX}`;
    expect(reader.push(Uint8Array.of(length >> 8, length & 0xff, 1, 2), () => undefined)).toBe(error);
    expect(reader.push(Uint8Array.of(0, 1, 5), () => undefined)).toBe(error);
  });
});
