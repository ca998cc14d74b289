import { fromHex, toHex } from "../../../modules/base/hex";
import {
  CUP,
  Iso8583Codec,
  Iso8583Error,
  buildBalance,
  buildBatchUpload,
  buildEcho,
  buildRefund,
  buildSale,
  buildSettlement,
  buildSignOff,
  buildSignOn,
  buildVoid,
  checkResponse,
  decodeField60,
  decodeField61,
  decodeSettlementTotals,
  decodeTlv,
  decodeWorkingKeys,
  encodeField60,
  encodeTlv,
  encodeWorkingKeys,
  responseTpdu,
  type CardData,
  type IsoMessage,
} from "../../../modules/iso8583";
import { reversal, reversalFields } from "../../../modules/txn/messages";
import { IC_SALE, SALE_ICC } from "./samples";

const terminal = { tpdu: "6000030000", header: "603100311312", tid: "10000159", mid: "880210010210160", readCapability: "6" };
const base = { terminal, stan: "000042", batch: "000001" };
const chip: CardData = {
  pan: "6217973910000725090",
  expiry: "2312",
  entryMode: "051",
  cardSequence: "001",
  icc: SALE_ICC,
  pinBlock: "086BDB118D7AC25E",
  security: { pinFormat: "2", algorithm: "6", trackEncrypted: false },
};
const swipe: CardData = { entryMode: "022", track2: "6217973910000725090D2312" };
const codec = new Iso8583Codec({ dialect: CUP, framed: true });
const roundTrip = (m: IsoMessage) => codec.decode(codec.encode(m));
const fieldNumbers = (m: IsoMessage) => Object.keys(m.fields).map(Number);

describe("builders", () => {
  test("0800 sign-on reproduces the public sample's fields", () => {
    const m = buildSignOn({ ...base, stan: "000001", netCode: "003", operator: "01 " });
    expect(m.mti).toBe("0800");
    expect(m.fields).toEqual({ 11: "000001", 41: "10000159", 42: "880210010210160", 60: "00000001003", 63: "01 " });
    expect(roundTrip(m)).toStrictEqual(m);
  });

  test("0820 sign-off and echo differ in 60.3", () => {
    expect(decodeField60(buildSignOff(base).fields[60]!).netCode).toBe("002");
    expect(decodeField60(buildEcho(base).fields[60]!).netCode).toBe("301");
    expect(buildEcho(base).mti).toBe("0820");
  });

  test("0200 chip sale carries the sample's field set, F64 placeholder, and encodes", () => {
    const m = buildSale({ ...base, amount: 5588, card: chip });
    expect(fieldNumbers(m)).toEqual([2, 3, 4, 11, 14, 22, 23, 25, 26, 41, 42, 49, 52, 53, 55, 60, 64]);
    expect(m.fields).toMatchObject({
      3: "000000",
      4: "000000005588",
      26: "06",
      53: "2600000000000000",
      60: "2200000100060",
      64: "0000000000000000",
    });
    expect(roundTrip(m)).toStrictEqual(m);
  });

  test("0200 swiped sale sends track 2 and no F2", () => {
    const m = buildSale({ ...base, amount: 100, card: swipe });
    expect(m.fields[2]).toBeUndefined();
    expect(m.fields[35]).toBe("6217973910000725090D2312");
  });

  test("void, balance and refund", () => {
    const original = { batch: "000001", stan: "000023", rrn: "123456789012", authCode: "A1B2C3", date: "1115" };
    const v = buildVoid({ ...base, amount: 5588, card: swipe, original });
    expect(v.fields).toMatchObject({ 3: "200000", 37: "123456789012", 38: "A1B2C3" });
    expect(decodeField61(v.fields[61]!)).toEqual({ batch: "000001", stan: "000023" });
    expect(decodeField60(v.fields[60]!).type).toBe("23");
    const b = buildBalance({ ...base, card: swipe });
    expect([b.fields[3], b.fields[4], decodeField60(b.fields[60]!).type]).toEqual(["310000", undefined, "01"]);
    const r = buildRefund({ ...base, amount: 100, card: swipe, original });
    expect(r.mti).toBe("0220");
    expect(decodeField61(r.fields[61]!)).toEqual({ batch: "000001", stan: "000023", date: "1115" });
    for (const m of [v, b, r]) expect(roundTrip(m)).toStrictEqual(m);
  });

  test("0400 reversal (the firmware's one builder): original STAN, F39 reason, no track/PIN/F53, no F2 on a swipe, reduced F55", () => {
    const sale = buildSale({ ...base, amount: 5588, card: { ...chip, track2: "6217973910000725090D2312" } });
    const r = { ...reversal({ fields: reversalFields(sale) }, "98"), tpdu: sale.tpdu, header: sale.header };
    expect(r.mti).toBe("0400");
    expect(r.fields[11]).toBe("000042");
    expect(r.fields[39]).toBe("98");
    for (const n of [2, 26, 35, 36, 52, 53]) expect(r.fields[n]).toBeUndefined();
    expect(decodeTlv(fromHex(r.fields[55]!)).map((i) => i.tag)).toEqual([0x95, 0x9f1e, 0x9f10, 0x9f36]);
    expect(r.fields[64]).toBe("0000000000000000");
    // The rest of the original, unchanged (§2.4): the host finds and reverses the amount of this STAN in this batch.
    expect(r.fields[4]).toBe("000000005588");
    for (const n of [3, 4, 14, 22, 25, 41, 42, 49, 60]) {
      expect(sale.fields[n]).toBeDefined();
      expect([n, r.fields[n]]).toEqual([n, sale.fields[n]]);
    }
    const chipSale = buildSale({ ...base, amount: 5588, card: chip });
    expect(reversal({ fields: reversalFields(chipSale) }, "06").fields[2]).toBe(chipSale.fields[2]);
    expect(roundTrip(r)).toStrictEqual(r);
  });

  test("0500 settlement totals and 0320 batch upload", () => {
    const totals = {
      domestic: { debitAmount: 123456, debitCount: 7, creditAmount: 100, creditCount: 1, result: "0" },
      foreign: { debitAmount: 0, debitCount: 0, creditAmount: 0, creditCount: 0, result: "0" },
    };
    const s = buildSettlement({ ...base, totals, operator: "01 " });
    expect(s.fields[48]).toBe("000000123456" + "007" + "000000000100" + "001" + "0" + "0".repeat(31));
    expect(decodeSettlementTotals(s.fields[48]!)).toEqual(totals);
    expect(decodeField60(s.fields[60]!).netCode).toBe("201");
    const u = buildBatchUpload({ ...base, netCode: "203", card: chip, amount: 5588 });
    expect(u.mti).toBe("0320");
    expect(u.fields[52]).toBeUndefined();
    for (const m of [s, u, buildBatchUpload({ ...base, netCode: "207", records: "00" })]) expect(roundTrip(m)).toStrictEqual(m);
  });
});

describe("response check", () => {
  // The sale is built inside each test, not when the file loads: code run outside a test is Stryker's "static"
  // coverage, and every codec mutant it reaches would rerun all the room's suites with a reload.
  const check = (changes: Record<number, string | undefined>, mti = "0210") => {
    const request = codec.decode(codec.encode(buildSale({ ...base, amount: 5588, card: chip })));
    return checkResponse(request, { mti, fields: { ...request.fields, 39: "00", ...changes } });
  };

  test("a matching response passes", () => expect(check({})).toBeNull());
  test("MTI must be request + 10", () => expect(check({}, "0230")).toEqual({ field: 0, reason: "mti" }));
  test("F11 must be echoed", () => expect(check({ 11: "000043" })).toEqual({ field: 11, reason: "mismatch" }));
  test("F41 must be present", () => expect(check({ 41: undefined })).toEqual({ field: 41, reason: "missing" }));
  test("F4 may differ on partial approval only", () => {
    expect(check({ 4: "000000000001" })).toEqual({ field: 4, reason: "mismatch" });
    expect(check({ 4: "000000000001", 39: "10" })).toBeNull();
  });
  test("F42 may be omitted but not changed", () => {
    expect(check({ 42: undefined })).toBeNull();
    expect(check({ 42: "880210010210161" })).toEqual({ field: 42, reason: "mismatch" });
  });
  test("F39 must be present", () => expect(check({ 39: undefined })).toEqual({ field: 39, reason: "missing" }));
  test("the response TPDU swaps destination and source", () => expect(responseTpdu("6000030001")).toBe("6000010003"));
});

describe("sub-fields", () => {
  test("F60 sub-fields are positional", () => {
    expect(encodeField60({ type: "22", batch: "000001", netCode: "000", readCapability: "5" })).toBe("220000010005");
    expect(() => encodeField60({ type: "22", batch: "000001", readCapability: "5" })).toThrow(Iso8583Error);
    expect(() => encodeField60({ type: "2", batch: "000001" })).toThrow(Iso8583Error);
    expect(() => decodeField60("2200")).toThrow(Iso8583Error);
    expect(() => decodeField60("2200000100")).toThrow(Iso8583Error);
  });

  test("F62 working keys: single, double and with TDK; wrong sizes refused", () => {
    const single = decodeWorkingKeys("11".repeat(8) + "AAAAAAAA" + "22".repeat(8) + "BBBBBBBB");
    expect([toHex(single.pik), toHex(single.pikCheck), toHex(single.mak), toHex(single.makCheck)]).toEqual([
      "11".repeat(8),
      "AAAAAAAA",
      "22".repeat(8),
      "BBBBBBBB",
    ]);
    const tripleHex = "11".repeat(16) + "AAAAAAAA" + "22".repeat(16) + "BBBBBBBB" + "33".repeat(16) + "CCCCCCCC";
    const triple = decodeWorkingKeys(tripleHex);
    expect(toHex(triple.tdk!)).toBe("33".repeat(16));
    expect(toHex(encodeWorkingKeys(triple))).toBe(tripleHex);
    expect(decodeWorkingKeys(tripleHex.slice(0, 80)).tdk).toBeUndefined();
    expect(() => decodeWorkingKeys("11".repeat(30))).toThrow(Iso8583Error);
    expect(() => decodeWorkingKeys("1G")).toThrow(Iso8583Error);
  });

  test("F48 totals refuse a wrong length", () => expect(() => decodeSettlementTotals("0".repeat(61))).toThrow(Iso8583Error));
});

describe("BER-TLV (F55)", () => {
  test("long-form lengths and 3-byte tags round-trip", () => {
    const items = [
      { tag: 0x9f26, value: new Uint8Array(8).fill(1) },
      { tag: 0xdf8101, value: new Uint8Array(200).fill(2) },
      { tag: 0x71, value: new Uint8Array(300).fill(3) },
    ];
    const bytes = encodeTlv(items);
    expect(toHex(bytes.subarray(11, 16))).toBe("DF810181C8");
    expect(decodeTlv(bytes)).toEqual(items);
  });

  test.each([
    ["truncated value", "9F260801", "truncated"],
    ["truncated tag", "9F", "truncated"],
    ["missing length", "95", "truncated"],
    ["tag longer than 3 bytes", "DF818181", "badTlv"],
    ["indefinite length form", "9580", "badTlv"],
  ])("%s", (_name, hex, reason) => {
    let error: unknown;
    try {
      decodeTlv(fromHex(hex));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Iso8583Error);
    expect((error as Iso8583Error).field).toBe(55);
    expect((error as Iso8583Error).reason).toBe(reason);
  });

  test("the sample F55 re-encodes to the same bytes", () => {
    const icc = new Iso8583Codec({ dialect: CUP }).decode(fromHex(IC_SALE)).fields[55]!;
    expect(toHex(encodeTlv(decodeTlv(fromHex(icc))))).toBe(icc);
  });
});
