/**
 * The iso87ascii dialect against npm iso_8583 on the bench messages: the same
 * bytes both ways, so the bench compares like with like.
 */
import { ISO87_ASCII, Iso8583Codec } from "../../../modules/iso8583";
import {
  ISO87_MESSAGES,
  ISO_8583_FORMATS,
  ISO_8583_UNPACK_CONFIG,
  loadIso8583Js,
  toIso8583Js,
  unpackDifference,
} from "../../../tools/bench/codec";

const Iso8583Js = loadIso8583Js();
const codec = new Iso8583Codec({ dialect: ISO87_ASCII, framed: true });

describe("iso87ascii and npm iso_8583", () => {
  test.each(ISO87_MESSAGES.map((m) => [m.mti, m] as const))("%s: iso_8583 packs the same bytes as xspos", (_mti, message) => {
    const theirs = new Iso8583Js(toIso8583Js(message), ISO_8583_FORMATS).getBufferMessage();
    expect(Buffer.isBuffer(theirs)).toBe(true);
    expect(Buffer.from(codec.encode(message)).toString("hex")).toBe((theirs as Buffer).toString("hex"));
  });

  test.each(ISO87_MESSAGES.map((m) => [m.mti, m] as const))("%s: each unpacks the other's bytes to the same fields", (_mti, message) => {
    const bytes = Buffer.from(codec.encode(message));
    const theirs = new Iso8583Js(undefined, ISO_8583_FORMATS).getIsoJSON(bytes, ISO_8583_UNPACK_CONFIG) as Record<string, string>;
    const expected = toIso8583Js(message);
    // iso_8583 gives b fields in lowercase hex.
    expect({ ...theirs, 52: theirs[52]?.toUpperCase() }).toEqual({ ...expected, 52: expected[52] });
    expect(codec.decode(new Uint8Array(bytes))).toEqual(message);
  });

  test("the bench's unpack check: equal on every bench message, and it notices a changed or missing field", () => {
    for (const message of ISO87_MESSAGES) {
      const bytes = Buffer.from(codec.encode(message));
      const theirs = new Iso8583Js(undefined, ISO_8583_FORMATS).getIsoJSON(bytes, ISO_8583_UNPACK_CONFIG);
      const ours = codec.decode(new Uint8Array(bytes));
      expect(unpackDifference(ours, theirs)).toBeNull();
      expect(unpackDifference({ ...ours, fields: { ...ours.fields, 11: "999999" } }, theirs)).toBe("field 11");
      expect(unpackDifference({ ...ours, fields: { ...ours.fields, 11: undefined } }, theirs)).toMatch(/^fields /);
    }
    expect(unpackDifference(ISO87_MESSAGES[0], { error: "bad" })).toBe("iso_8583: bad");
  });

  test("a message without fields above 64: iso_8583's empty secondary bitmap is kept on re-encode", () => {
    const theirs = new Iso8583Js({ 0: "0800", 11: "000001" }, ISO_8583_FORMATS).getBufferMessage() as Buffer;
    const message = codec.decode(new Uint8Array(theirs));
    expect(message).toEqual({ mti: "0800", fields: { 11: "000001" }, secondaryBitmap: true });
    expect(Buffer.from(codec.encode(message)).equals(theirs)).toBe(true);
  });
});
