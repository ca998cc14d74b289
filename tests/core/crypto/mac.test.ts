/** MACs against reference §3.6 (BouncyCastle FIPS 113 / ISO 9797 tests, pyemv, C-mac). */
import { fromAscii, fromHex, toAscii, toHex } from "../../../modules/base/hex";
import { CryptoInputError } from "../../../modules/crypto/errors";
import { Des, TripleDes } from "../../../modules/crypto/des";
import { cbcMac, cupEcbMac, MAC_DATA_BYTES_MAX, macEqual, retailMac } from "../../../modules/crypto/mac";
import { Sm4 } from "../../../modules/crypto/sm4";

function retail(keyHex: string, data: Uint8Array, padding: 1 | 2 = 1): string {
  const key = fromHex(keyHex);
  return toHex(retailMac(new Des(key.subarray(0, 8)), new TripleDes(key), data, padding));
}

describe("ANSI X9.9 (DES CBC-MAC)", () => {
  test("FIPS 113 vector: '7654321 Now is the time for ' -> F1D30F68 (left 32 bits)", () => {
    const mac = cbcMac(new Des(fromHex("0123456789abcdef")), fromHex("37363534333231204e6f77206973207468652074696d6520666f7220"));
    expect(toHex(mac).slice(0, 8)).toBe("F1D30F68");
    expect(mac).toHaveLength(8);
  });

  test("zero padding: data and data + zero bytes up to the block give the same MAC; empty data MACs one zero block", () => {
    const des = new Des(fromHex("0123456789abcdef"));
    expect(cbcMac(des, fromHex("0102030405"))).toEqual(cbcMac(des, fromHex("0102030405000000")));
    expect(toHex(cbcMac(des, new Uint8Array(0)))).toBe("D5D44FF720683D0D");
  });

  test("padding method 2 always adds a block", () => {
    const des = new Des(fromHex("0123456789abcdef"));
    expect(cbcMac(des, fromHex("0102030405060708"), 2)).toEqual(cbcMac(des, fromHex("01020304050607088000000000000000"), 1));
  });
});

describe("ANSI X9.19 / ISO 9797-1 algorithm 3 (retail MAC)", () => {
  test("BouncyCastle: 'Hello World !!!!' -> F09B856213BAB83B", () => {
    expect(retail("7CA110454A1A6E570131D9619DC1376E", fromAscii("Hello World !!!!"))).toBe("F09B856213BAB83B");
  });

  test("pyemv: padding method 1, 'hello world' -> 78DA3D3DEB48FD4D", () => {
    expect(retail("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB", fromAscii("hello world"))).toBe("78DA3D3DEB48FD4D");
  });

  test("padding method 2 equals method 1 over the explicitly padded data", () => {
    const key = "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB";
    expect(retail(key, fromAscii("hello world"), 2)).toBe(retail(key, fromHex(toHex(fromAscii("hello world")) + "8000000000")));
    expect(retail(key, fromAscii("hello world"), 2)).not.toBe(retail(key, fromAscii("hello world"), 1));
  });

  test("with K1 = K2 the retail MAC is the plain DES CBC-MAC", () => {
    const data = fromAscii("Hello World !!!!");
    expect(retail("0123456789ABCDEF0123456789ABCDEF", data)).toBe(toHex(cbcMac(new Des(fromHex("0123456789ABCDEF")), data)));
  });
});

describe("UnionPay ECB MAC (F64)", () => {
  test("C-mac example: key 5CBE7E38A146FD5C, data 010203 -> ASCII F11F2C27", () => {
    const mac = cupEcbMac(new Des(fromHex("5CBE7E38A146FD5C")), fromHex("010203"));
    expect(toAscii(mac)).toBe("F11F2C27");
    expect(toHex(mac)).toBe("4631314632433237");
  });

  test("a 16-byte MAK with K1 = K2 gives the single-DES result", () => {
    const mac = cupEcbMac(new TripleDes(fromHex("5CBE7E38A146FD5C5CBE7E38A146FD5C")), fromHex("010203"));
    expect(toAscii(mac)).toBe("F11F2C27");
  });

  test("one changed bit changes the MAC; the result is always 8 upper-case hex characters", () => {
    const des = new Des(fromHex("5CBE7E38A146FD5C"));
    const a = cupEcbMac(des, fromHex("0200302004C030C09811"));
    const b = cupEcbMac(des, fromHex("0200302004C030C09810"));
    expect(macEqual(a, b)).toBe(false);
    expect(toAscii(a)).toMatch(/^[0-9A-F]{8}$/);
  });

  test("the SM4 variant runs on 16-byte blocks and gives 8 ASCII hex characters", () => {
    const mac = cupEcbMac(new Sm4(fromHex("0123456789ABCDEFFEDCBA9876543210")), fromHex("010203"));
    expect(toAscii(mac)).toMatch(/^[0-9A-F]{8}$/);
  });
});

describe("MAC limits", () => {
  test("data over the limit is refused with a typed error", () => {
    expect(() => cbcMac(new Des(new Uint8Array(8)), new Uint8Array(MAC_DATA_BYTES_MAX + 1))).toThrow(CryptoInputError);
  });

  test("macEqual compares length and content", () => {
    expect(macEqual(fromHex("0102"), fromHex("0102"))).toBe(true);
    expect(macEqual(fromHex("0102"), fromHex("0103"))).toBe(false);
    expect(macEqual(fromHex("0102"), fromHex("010200"))).toBe(false);
  });
});

describe("MAC limits and preconditions", () => {
  const des = new Des(fromHex("0123456789ABCDEF"));
  const tdes = new TripleDes(fromHex("0123456789ABCDEFFEDCBA9876543210"));

  test("exactly MAC_DATA_BYTES_MAX bytes are MAC'd; one more is refused with both sizes named", () => {
    expect(cupEcbMac(des, new Uint8Array(MAC_DATA_BYTES_MAX))).toHaveLength(8);
    expect(() => cupEcbMac(des, new Uint8Array(MAC_DATA_BYTES_MAX + 1))).toThrow(
      new CryptoInputError("data", `MAC data is ${MAC_DATA_BYTES_MAX + 1} bytes, more than ${MAC_DATA_BYTES_MAX}`),
    );
  });

  test("an out buffer of the wrong size, or a cipher outside the DES family for the retail MAC, is a caller's bug", () => {
    const data = fromAscii("12345678");
    expect(() => cbcMac(des, data, 1, new Uint8Array(16))).toThrow("cbcMac: out must be one block");
    expect(() => cupEcbMac(des, data, new Uint8Array(4))).toThrow("cupEcbMac: out must be 8 bytes");
    const sm4 = new Sm4(fromHex("0123456789ABCDEFFEDCBA9876543210"));
    const retailBug = "retailMac: DES-family ciphers and an 8-byte out";
    expect(() => retailMac(sm4, tdes, data)).toThrow(retailBug);
    expect(() => retailMac(des, sm4, data)).toThrow(retailBug);
    expect(() => retailMac(des, tdes, data, 1, new Uint8Array(16))).toThrow(retailBug);
    expect(retailMac(des, tdes, data)).toHaveLength(8);
  });
});
