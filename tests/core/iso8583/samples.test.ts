import { fromAscii, fromHex, toHex } from "../../../modules/base/hex";
import { CUP, Iso8583Codec, checkResponse, decodeField60, decodeSecurityControl, decodeTlv, findTlv } from "../../../modules/iso8583";
import { IC_SALE, IC_SALE_RESPONSE_FRAMED, SALE_ICC, SIGN_ON_FRAMED } from "./samples";

const framed = new Iso8583Codec({ dialect: CUP, framed: true });
const unframed = new Iso8583Codec({ dialect: CUP });

describe("public CUP samples (reference §1.4)", () => {
  test("0800 sign-on decodes to the documented fields", () => {
    const m = framed.decode(fromHex(SIGN_ON_FRAMED));
    expect(m).toStrictEqual({
      tpdu: "6000030000",
      header: "603100311312",
      mti: "0800",
      fields: {
        11: "000001",
        41: "10000159",
        42: "880210010210160",
        60: "00000001003",
        62: toHex(fromAscii("Sequence No163150SXX-4C304119")),
        63: "01 ",
      },
    });
    expect(decodeField60(m.fields[60]!)).toEqual({ type: "00", batch: "000001", netCode: "003" });
  });

  test("0800 sign-on re-encodes to the same bytes, length prefix included", () => {
    const m = framed.decode(fromHex(SIGN_ON_FRAMED));
    expect(toHex(framed.encode(m))).toBe(SIGN_ON_FRAMED);
    expect(SIGN_ON_FRAMED.slice(0, 4)).toBe("005B");
  });

  test("0200 IC sale decodes to the documented fields", () => {
    const m = unframed.decode(fromHex(IC_SALE));
    expect(m.tpdu).toBe("6000030000");
    expect(m.header).toBe("60310031FFF1");
    expect(m.mti).toBe("0200");
    expect(Object.keys(m.fields).map(Number)).toEqual([2, 3, 4, 11, 14, 22, 23, 25, 26, 41, 42, 49, 52, 53, 55, 59, 60, 64]);
    expect(m.fields).toMatchObject({
      2: "6217973910000725090",
      3: "000000",
      4: "000000005588",
      11: "000023",
      14: "2312",
      22: "051",
      23: "001",
      25: "00",
      26: "06",
      41: "29800013",
      42: "848290441116000",
      49: "156",
      52: "086BDB118D7AC25E",
      53: "2600000000000000",
      55: SALE_ICC,
      60: "2200000000060",
      64: "4643423245374432",
    });
    expect(decodeSecurityControl(m.fields[53]!)).toEqual({ pinFormat: "2", algorithm: "6", trackEncrypted: false });
    expect(decodeField60(m.fields[60]!)).toEqual({ type: "22", batch: "000000", netCode: "000", readCapability: "6", icCondition: "0" });
  });

  test("0200 IC sale F55 is 145 bytes of 20 TLVs", () => {
    const items = decodeTlv(fromHex(unframed.decode(fromHex(IC_SALE)).fields[55]!));
    expect(fromHex(SALE_ICC).length).toBe(145);
    expect(items.map((i) => i.tag)).toEqual([
      0x9f26, 0x9f27, 0x9f10, 0x9f37, 0x9f36, 0x95, 0x9a, 0x9c, 0x9f02, 0x5f2a, 0x82, 0x9f1a, 0x9f03, 0x9f33, 0x9f34, 0x9f35, 0x9f1e, 0x84,
      0x9f09, 0x9f41,
    ]);
    expect(toHex(findTlv(items, 0x9f02)!)).toBe("000000005588");
  });

  test("0200 IC sale re-encodes to the same bytes", () => {
    expect(toHex(unframed.encode(unframed.decode(fromHex(IC_SALE))))).toBe(IC_SALE);
  });

  test("the MAC input of the 0200 runs from the MTI to the byte before F64", () => {
    const bytes = fromHex(IC_SALE);
    const input = unframed.macInput(bytes);
    expect(toHex(input.subarray(0, 2))).toBe("0200");
    expect(input.length).toBe(bytes.length - 11 - 8);
    expect(toHex(unframed.macField(bytes))).toBe("4643423245374432");
  });

  test("0210 response decodes (F39 A0, LEN 010C matches) and answers the request", () => {
    const response = framed.decode(fromHex(IC_SALE_RESPONSE_FRAMED));
    expect(response.mti).toBe("0210");
    expect(response.fields).toMatchObject({ 12: "165419", 13: "1115", 39: "A0", 11: "000023" });
    expect(toHex(framed.encode(response))).toBe(IC_SALE_RESPONSE_FRAMED);
    expect(checkResponse(unframed.decode(fromHex(IC_SALE)), response)).toBeNull();
  });
});
