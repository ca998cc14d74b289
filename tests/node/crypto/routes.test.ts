/** Every cipher route passes the same vectors: pure TypeScript and the simulator's node:crypto route. */
import crypto from "node:crypto";
import { fromAscii, fromHex, toHex } from "../../../modules/base/hex";
import { ecbDecrypt, ecbEncrypt, type CipherProvider } from "../../../modules/crypto/block-cipher";
import { softwareCiphers } from "../../../modules/crypto/ciphers";
import { CryptoInputError } from "../../../modules/crypto/errors";
import { keyCheckValue, SecretKey, unwrapWorkingKeys } from "../../../modules/crypto/keys";
import { cupEcbMac, retailMac } from "../../../modules/crypto/mac";
import { nodeCiphers } from "../../../hosts/sim/node-block-cipher";

const ROUTES: readonly (readonly [string, CipherProvider])[] = [
  ["typescript", softwareCiphers],
  ["node:crypto", nodeCiphers],
];

describe.each(ROUTES)("route %s", (_name, provider) => {
  test("3DES 2-key and 3-key known answers", () => {
    expect(toHex(ecbEncrypt(provider.create("tdes", fromHex("0123456789ABCDEFFEDCBA9876543210")), new Uint8Array(8)))).toBe(
      "08D7B4FB629D0885",
    );
    const tdes = provider.create("tdes", fromHex("0123456789ABCDEF23456789ABCDEF01456789ABCDEF0123"));
    const encrypted = ecbEncrypt(tdes, fromAscii("The qufck brown fox jump"));
    expect(toHex(encrypted)).toBe("A826FD8CE53B855FCCE21C8112256FE668D5C05DD9B6B900");
    expect(ecbDecrypt(tdes, encrypted)).toEqual(fromAscii("The qufck brown fox jump"));
  });

  test("SM4 known answer and DES KCV", () => {
    const key = fromHex("0123456789ABCDEFFEDCBA9876543210");
    expect(toHex(ecbEncrypt(provider.create("sm4", key), key))).toBe("681EDF34D206965E86B3E94F536E4246");
    expect(toHex(keyCheckValue(provider.create("des", fromHex("0123456789ABCDEF"))))).toBe("D5D44F");
  });

  test("MACs and the F62 unwrap give the same answers", () => {
    const k = fromHex("7CA110454A1A6E570131D9619DC1376E");
    expect(toHex(retailMac(provider.create("des", k.subarray(0, 8)), provider.create("tdes", k), fromAscii("Hello World !!!!")))).toBe(
      "F09B856213BAB83B",
    );
    expect(toHex(cupEcbMac(provider.create("tdes", fromHex("5CBE7E38A146FD5C5CBE7E38A146FD5C")), fromHex("010203")))).toBe(
      "4631314632433237",
    );
    const tmk = new SecretKey("tdes", fromHex("0123456789ABCDEFFEDCBA9876543210"));
    const pik = fromHex("1111111111111111FEDCBA9876543210");
    const f62 = new Uint8Array(40);
    f62.set(ecbEncrypt(softwareCiphers.create("tdes", tmk.exposeBytes()), pik), 0);
    f62.set(keyCheckValue(softwareCiphers.create("tdes", pik), 4), 16);
    f62.set(f62.subarray(0, 20), 20);
    expect(toHex(unwrapWorkingKeys(f62, tmk, provider).mak.exposeBytes())).toBe(toHex(pik));
  });

  test("rejects bad key lengths with the typed error", () => {
    expect(() => provider.create("tdes", new Uint8Array(8))).toThrow(CryptoInputError);
  });
});

test("the TypeScript route agrees with OpenSSL on random keys and blocks", () => {
  for (let i = 0; i < 100; i++) {
    for (const [algorithm, keyBytes, blockBytes] of [
      ["tdes", 16, 8],
      ["tdes", 24, 8],
      ["sm4", 16, 16],
    ] as const) {
      const key = new Uint8Array(crypto.randomBytes(keyBytes));
      const block = new Uint8Array(crypto.randomBytes(blockBytes * 2));
      expect(toHex(ecbEncrypt(softwareCiphers.create(algorithm, key), block))).toBe(
        toHex(ecbEncrypt(nodeCiphers.create(algorithm, key), block)),
      );
    }
  }
});
