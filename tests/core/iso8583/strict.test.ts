/**
 * Issue 15 item 7: over-long sub-fields are refused, never cut; decode and
 * encode agree on what a BER-TLV tag is; every refusal is an Iso8583Error that
 * names the field and the real problem. And the F54 balance amounts (issue 16).
 */
import { fromAscii, fromHex, toHex } from "../../../modules/base/hex";
import {
  CUP,
  Iso8583Codec,
  Iso8583Error,
  decodeField54,
  decodeField60,
  decodeField61,
  decodeSecurityControl,
  decodeTlv,
  encodeField54,
  encodeSettlementTotals,
  encodeTlv,
  isTlvTag,
  type CurrencyTotals,
} from "../../../modules/iso8583";

function refusal(run: () => unknown): Iso8583Error {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(Iso8583Error);
  return caught as Iso8583Error;
}

describe("F60 is refused past 60.7, not cut", () => {
  test("17 digits decode whole; 18 digits are lengthOverMaximum at digit 17", () => {
    expect(decodeField60("22000001000500012")).toEqual({
      type: "22",
      batch: "000001",
      netCode: "000",
      readCapability: "5",
      icCondition: "0",
      partialApproval: "0",
      accountType: "012",
    });
    const error = refusal(() => decodeField60("220000010005000123"));
    expect([error.field, error.offset, error.reason]).toEqual([60, 17, "lengthOverMaximum"]);
    expect(error.message).toContain("18 digits");
  });
});

describe("F61 and F53 are refused where digits would be dropped", () => {
  test("F61: 12 or 16 digits decode; 17 and more are lengthOverMaximum", () => {
    expect(decodeField61("000001000002")).toEqual({ batch: "000001", stan: "000002" });
    expect(decodeField61("0000010000021125")).toEqual({ batch: "000001", stan: "000002", date: "1125" });
    const error = refusal(() => decodeField61("00000100000211250"));
    expect([error.field, error.offset, error.reason]).toEqual([61, 16, "lengthOverMaximum"]);
    expect(refusal(() => decodeField61("0000010000021")).reason).toBe("wrongLength");
  });

  test("F53: reserved 53.4 digits must be 0", () => {
    expect(decodeSecurityControl("2600000000000000")).toEqual({ pinFormat: "2", algorithm: "6", trackEncrypted: false });
    const error = refusal(() => decodeSecurityControl("2600000000000010"));
    expect([error.field, error.offset]).toEqual([53, 14]);
  });
});

describe("F48 totals that do not fit are typed errors naming the part", () => {
  const fits: CurrencyTotals = { debitAmount: 999_999_999_999, debitCount: 999, creditAmount: 0, creditCount: 0, result: "0" };
  test("the largest totals encode", () => {
    expect(encodeSettlementTotals({ domestic: fits, foreign: fits })).toHaveLength(62);
  });
  test.each([
    ["debit count", { ...fits, debitCount: 1000 }, 12],
    ["debit amount", { ...fits, debitAmount: 1_000_000_000_000 }, 0],
    ["credit count", { ...fits, creditCount: 1000 }, 27],
    ["credit amount", { ...fits, creditAmount: -1 }, 15],
  ])("%s", (what, totals, offset) => {
    const error = refusal(() => encodeSettlementTotals({ domestic: fits, foreign: totals }));
    expect(error.field).toBe(48);
    expect(error.offset).toBe(31 + offset);
    expect(error.message).toContain(what);
  });
});

describe("BER-TLV: one rule for a tag, both ways", () => {
  test.each([
    ["tag 00 (padding)", "000101"],
    ["tag FF (padding)", "FF0101"],
    ["length 81 form for a short value", "95810101"],
    ["length 82 form for a value under 256 bytes", "9582000101"],
  ])("decode refuses %s", (_name, hex) => {
    const error = refusal(() => decodeTlv(fromHex(hex)));
    expect([error.field, error.reason]).toEqual([55, "badTlv"]);
  });

  test.each([
    ["0", 0],
    ["a lone multi-byte lead 9F", 0x9f],
    ["9F81 (the last byte says more follows)", 0x9f81],
    ["5F with a single byte after it whose bit 8 is set", 0x5f80],
    ["a 2-byte tag whose lead says it stands alone", 0x9501],
    ["FF lead", 0xff01],
    ["over 3 bytes", 0x1000000],
    ["not an integer", 1.5],
  ])("encode refuses %s with an Iso8583Error, not an assertion", (_name, tag) => {
    expect(isTlvTag(tag)).toBe(false);
    const error = refusal(() => encodeTlv([{ tag, value: new Uint8Array(1) }]));
    expect([error.field, error.reason]).toEqual([55, "badTlv"]);
  });

  test("every tag decode accepts, encode accepts, and the bytes come back the same", () => {
    for (const hex of ["9501AA", "9F2601AA", "DF810101AA", "5F2A020156", "8A023030", "9F0000", "71820100" + "00".repeat(256)]) {
      const items = decodeTlv(fromHex(hex));
      for (const item of items) expect(isTlvTag(item.tag)).toBe(true);
      expect(toHex(encodeTlv(items))).toBe(hex);
    }
  });

  test("card data may pad between objects (EMV Book 3 Annex B): skipPadding reads past 00 and FF; F55 still refuses them", () => {
    const padded = fromHex("00009501AA00FF5F2A0201560000");
    expect(decodeTlv(padded, { skipPadding: true }).map((i) => [i.tag, toHex(i.value)])).toEqual([
      [0x95, "AA"],
      [0x5f2a, "0156"],
    ]);
    expect(refusal(() => decodeTlv(padded)).reason).toBe("badTlv");
  });

  test("a value over 65535 bytes is a typed error", () => {
    const error = refusal(() => encodeTlv([{ tag: 0x71, value: new Uint8Array(0x10000) }]));
    expect(error.message).toContain("65536 bytes");
  });
});

describe("F54 balance amounts", () => {
  const available = "0002156C000000101100";

  test("decodes account type, amount type, currency, sign and amount", () => {
    expect(decodeField54(available)).toEqual([{ accountType: "00", amountType: "02", currency: "156", sign: "C", amount: 101100 }]);
    expect(decodeField54(available + "1001156D000000000050")[1]).toEqual({
      accountType: "10",
      amountType: "01",
      currency: "156",
      sign: "D",
      amount: 50,
    });
  });

  test("encode is the inverse", () => {
    expect(encodeField54(decodeField54(available))).toBe(available);
  });

  test.each([
    ["empty", "", 0, "wrongLength"],
    ["not whole amounts", available.slice(0, 19), 0, "wrongLength"],
    ["more than six amounts", available.repeat(7), 120, "lengthOverMaximum"],
    ["a letter in the account type", "0A02156C000000101100", 1, "nonDigit"],
    ["a letter in the currency", "00021X6C000000101100", 5, "nonDigit"],
    ["a sign other than C or D", "0002156X000000101100", 7, "nonText"],
    ["a space in the amount", "0002156C00000010110 ", 19, "nonDigit"],
  ])("refuses %s", (_name, value, offset, reason) => {
    const error = refusal(() => decodeField54(value));
    expect([error.field, error.offset, error.reason]).toEqual([54, offset, reason]);
  });

  test("encode refuses amounts that do not fit and bad signs", () => {
    const item = { accountType: "00", amountType: "02", currency: "156", sign: "C" as const, amount: 1 };
    expect(refusal(() => encodeField54([{ ...item, amount: 10 ** 12 }])).reason).toBe("lengthOverMaximum");
    expect(refusal(() => encodeField54([{ ...item, sign: "X" as "C" }])).reason).toBe("nonText");
    expect(refusal(() => encodeField54([])).reason).toBe("wrongLength");
  });

  test("the CUP codec carries F54 as LLLVAR text", () => {
    const codec = new Iso8583Codec({ dialect: CUP, header: false });
    const bytes = codec.encode({ mti: "0210", fields: { 11: "000001", 39: "00", 54: available } }).slice();
    expect(toHex(bytes)).toContain("0020" + toHex(fromAscii(available)));
    expect(codec.decode(bytes).fields[54]).toBe(available);
  });
});
