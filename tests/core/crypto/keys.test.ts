/** Key check values (reference §3.6), the F62 working-key unwrap, opaque keys and the key store. */
import { fromHex, toHex } from "../../../modules/base/hex";
import { ecbEncrypt } from "../../../modules/crypto/block-cipher";
import { softwareCiphers } from "../../../modules/crypto/ciphers";
import { CryptoInputError, KeyCheckError } from "../../../modules/crypto/errors";
import { MemoryKeyStore } from "../../../modules/crypto/key-store";
import { keyCheckValue, SecretKey, unwrapWorkingKeys } from "../../../modules/crypto/keys";
import { Logger, MemoryLogSink } from "../../../modules/platform/log";
import { SeededRandom } from "../../../modules/platform/random";

const TMK = "0123456789ABCDEFFEDCBA9876543210";
const PIK = "1111111111111111FEDCBA9876543210";
const MAK = "2222222222222222FEDCBA9876543210";
const TDK = "3333333333333333FEDCBA9876543210";

function kcvHex(algorithm: "des" | "tdes" | "sm4", keyHex: string, bytes: 3 | 4 = 3): string {
  return toHex(keyCheckValue(softwareCiphers.create(algorithm, fromHex(keyHex)), bytes));
}

/** What the host sends in F62: each key encrypted under the TMK, followed by its 4-byte check value. */
function f62For(
  tmkAlgorithm: "des" | "tdes" | "sm4",
  tmkHex: string,
  keyAlgorithm: "des" | "tdes" | "sm4",
  keys: readonly string[],
): Uint8Array {
  const tmk = softwareCiphers.create(tmkAlgorithm, fromHex(tmkHex));
  let hex = "";
  for (const key of keys) hex += toHex(ecbEncrypt(tmk, fromHex(key))) + kcvHex(keyAlgorithm, key, 4);
  return fromHex(hex);
}

describe("key check values", () => {
  test("3DES 0123456789ABCDEFFEDCBA9876543210 -> 08D7B4 (4-byte UnionPay form 08D7B4FB)", () => {
    expect(kcvHex("tdes", TMK)).toBe("08D7B4");
    expect(kcvHex("tdes", TMK, 4)).toBe("08D7B4FB");
  });

  test("DES 0123456789ABCDEF -> D5D44F", () => {
    expect(kcvHex("des", "0123456789ABCDEF")).toBe("D5D44F");
  });

  test("SM4: first bytes of the encrypted 16-byte zero block", () => {
    const full = toHex(ecbEncrypt(softwareCiphers.create("sm4", fromHex(TMK)), new Uint8Array(16)));
    expect(kcvHex("sm4", TMK, 4)).toBe(full.slice(0, 8));
  });

  test("only 3 or 4 bytes", () => {
    expect(() => keyCheckValue(softwareCiphers.create("des", new Uint8Array(8)), 5 as 3)).toThrow(CryptoInputError);
  });
});

describe("working keys from F62", () => {
  const tmk = new SecretKey("tdes", fromHex(TMK));

  test("3DES layout with TDK (60 bytes): every key decrypted and checked", () => {
    const keys = unwrapWorkingKeys(f62For("tdes", TMK, "tdes", [PIK, MAK, TDK]), tmk);
    expect(toHex(keys.pik.exposeBytes())).toBe(PIK);
    expect(toHex(keys.mak.exposeBytes())).toBe(MAK);
    expect(toHex(keys.tdk!.exposeBytes())).toBe(TDK);
    expect(keys.pik.algorithm).toBe("tdes");
  });

  test("3DES layout without TDK (40 bytes)", () => {
    const keys = unwrapWorkingKeys(f62For("tdes", TMK, "tdes", [PIK, MAK]), tmk);
    expect(keys.tdk).toBeUndefined();
    expect(toHex(keys.mak.exposeBytes())).toBe(MAK);
  });

  test("single-DES layout (24 bytes) under a DES TMK", () => {
    const desTmk = new SecretKey("des", fromHex("0123456789ABCDEF"));
    const keys = unwrapWorkingKeys(f62For("des", "0123456789ABCDEF", "des", ["1111111111111111", "2222222222222222"]), desTmk);
    expect(keys.pik.algorithm).toBe("des");
    expect(toHex(keys.mak.exposeBytes())).toBe("2222222222222222");
  });

  test("SM4 layout under an SM4 TMK", () => {
    const sm4Tmk = new SecretKey("sm4", fromHex(TMK));
    const keys = unwrapWorkingKeys(f62For("sm4", TMK, "sm4", [PIK, MAK, TDK]), sm4Tmk);
    expect(keys.pik.algorithm).toBe("sm4");
    expect(toHex(keys.tdk!.exposeBytes())).toBe(TDK);
  });

  test("a wrong check value rejects the key with a KeyCheckError naming it, without key material", () => {
    const f62 = f62For("tdes", TMK, "tdes", [PIK, MAK, TDK]);
    f62[20 + 16] ^= 1; // MAK check value
    let caught: unknown;
    try {
      unwrapWorkingKeys(f62, tmk);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(KeyCheckError);
    expect((caught as KeyCheckError).keyName).toBe("MAK");
    const message = (caught as Error).message;
    for (const secret of [TMK, PIK, MAK, TDK, toHex(f62)]) expect(message).not.toContain(secret);
  });

  test("a wrong TMK fails the PIK check first", () => {
    const wrongTmk = new SecretKey("tdes", fromHex("FEDCBA98765432100123456789ABCDEF"));
    expect(() => unwrapWorkingKeys(f62For("tdes", TMK, "tdes", [PIK, MAK]), wrongTmk)).toThrow(new KeyCheckError("PIK").message);
  });

  test("a malformed F62 length is a typed input error", () => {
    expect(() => unwrapWorkingKeys(new Uint8Array(39), tmk)).toThrow(CryptoInputError);
    expect(() => unwrapWorkingKeys(new Uint8Array(24), new SecretKey("sm4", fromHex(TMK)))).toThrow(CryptoInputError);
  });
});

describe("opaque keys", () => {
  test("toString, JSON and log lines never show the bytes", () => {
    const key = new SecretKey("tdes", fromHex(TMK));
    expect(String(key)).toBe("SecretKey(tdes, 16 bytes, [redacted])");
    expect(JSON.stringify({ key })).not.toContain("0123");
    const sink = new MemoryLogSink();
    new Logger(sink).info("keys loaded", { tmk: String(key), kcv: kcvHex("tdes", TMK) });
    expect(sink.lines.join("\n")).not.toContain(TMK);
  });

  test("the key copies its input; wipe zeroes it and blocks further use", () => {
    const bytes = fromHex(TMK);
    const key = new SecretKey("tdes", bytes);
    bytes.fill(0);
    expect(toHex(key.exposeBytes())).toBe(TMK);
    const buffer = key.exposeBytes();
    key.wipe();
    expect(key.wiped).toBe(true);
    expect(buffer.every((b) => b === 0)).toBe(true);
    expect(() => key.createCipher()).toThrow(CryptoInputError);
  });

  test("a key of the wrong length for its algorithm is refused", () => {
    expect(() => new SecretKey("sm4", new Uint8Array(8))).toThrow(CryptoInputError);
  });
});

describe("memory key store", () => {
  test("replacing working keys wipes the old set; saving a TMK wipes the old TMK", () => {
    const store = new MemoryKeyStore();
    expect(store.loadWorkingKeys()).toBeUndefined();
    const tmk = new SecretKey("tdes", fromHex(TMK));
    store.saveMasterKey(tmk);
    const first = unwrapWorkingKeys(f62For("tdes", TMK, "tdes", [PIK, MAK]), tmk);
    store.replaceWorkingKeys(first);
    expect(store.loadWorkingKeys()).toBe(first);
    const second = unwrapWorkingKeys(f62For("tdes", TMK, "tdes", [MAK, PIK]), tmk);
    store.replaceWorkingKeys(second);
    expect(first.pik.wiped && first.mak.wiped).toBe(true);
    expect(second.pik.wiped).toBe(false);
    store.saveMasterKey(new SecretKey("tdes", fromHex(PIK)));
    expect(tmk.wiped).toBe(true);
    store.clear();
    expect(second.mak.wiped).toBe(true);
    expect(store.loadMasterKey()).toBeUndefined();
    expect(JSON.stringify(store)).not.toContain("1111");
  });

  test("the data key is drawn once from Random and kept; clear() wipes it and the next one is new", () => {
    const store = new MemoryKeyStore();
    expect(store.storedDataKey()).toBeUndefined();
    const first = store.loadDataKey(new SeededRandom(1));
    expect(first.algorithm).toBe("sm4");
    expect(first.lengthBytes).toBe(16);
    expect(store.loadDataKey(new SeededRandom(2))).toBe(first);
    const bytes = toHex(first.exposeBytes());
    store.clear();
    expect(first.wiped).toBe(true);
    expect(store.storedDataKey()).toBeUndefined();
    expect(toHex(store.loadDataKey(new SeededRandom(2)).exposeBytes())).not.toBe(bytes);
  });

  test("saveDataKey wipes the key it replaces and refuses a key that is not SM4", () => {
    const store = new MemoryKeyStore();
    const old = store.loadDataKey(new SeededRandom(3));
    const restored = new SecretKey("sm4", fromHex(TMK));
    store.saveDataKey(restored);
    expect(old.wiped).toBe(true);
    expect(store.loadDataKey(new SeededRandom(3))).toBe(restored);
    expect(() => store.saveDataKey(new SecretKey("tdes", fromHex(TMK)))).toThrow(CryptoInputError);
    expect(store.loadDataKey(new SeededRandom(3))).toBe(restored);
  });
});

describe("keys refuse bad input by name, and leave no clear key behind", () => {
  test("a wiped key, a check value of 5 bytes, an F62 of 30 bytes and an SM4 TMK with single-length keys are refused word for word", () => {
    const key = new SecretKey("tdes", fromHex(TMK));
    key.wipe();
    expect(() => key.exposeBytes()).toThrow(new CryptoInputError("key", "tdes key was wiped and cannot be used"));
    const cipher = softwareCiphers.create("tdes", fromHex(TMK));
    expect(() => keyCheckValue(cipher, 5 as 3)).toThrow("check value length must be 3 or 4 bytes, got 5");
    const tmk = new SecretKey("tdes", fromHex(TMK));
    expect(() => unwrapWorkingKeys(new Uint8Array(30), tmk)).toThrow(
      "F62 must be 24, 40 or 60 bytes (PIK, MAK[, TDK] with 4-byte check values), got 30",
    );
    const sm4Tmk = new SecretKey("sm4", fromHex(TMK));
    expect(() => unwrapWorkingKeys(new Uint8Array(24), sm4Tmk)).toThrow(
      new CryptoInputError("f62", "an SM4 TMK needs 16-byte working keys (F62 of 40 or 60 bytes)"),
    );
  });

  test("the buffer each working key was decrypted into is zero afterwards, on success and on a check value mismatch", () => {
    const outputs: Uint8Array[] = [];
    const recording = {
      create: (algorithm: "des" | "tdes" | "sm4", key: Uint8Array) => {
        const cipher = softwareCiphers.create(algorithm, key);
        return {
          blockBytes: cipher.blockBytes,
          encryptBlock: cipher.encryptBlock.bind(cipher),
          decryptBlock: (src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number) => {
            outputs.push(dst);
            cipher.decryptBlock(src, srcOffset, dst, dstOffset);
          },
        };
      },
    };
    const f62 = f62For("tdes", TMK, "tdes", [PIK, MAK]);
    const keys = unwrapWorkingKeys(f62, new SecretKey("tdes", fromHex(TMK)), recording);
    expect(toHex(keys.mak.exposeBytes())).toBe(MAK);
    expect(outputs.length).toBeGreaterThan(0);
    for (const out of outputs) expect(toHex(out)).toBe("00".repeat(out.length));
    outputs.length = 0;
    f62[f62.length - 1] ^= 1;
    expect(() => unwrapWorkingKeys(f62, new SecretKey("tdes", fromHex(TMK)), recording)).toThrow(KeyCheckError);
    expect(outputs.length).toBeGreaterThan(0);
    for (const out of outputs) expect(toHex(out)).toBe("00".repeat(out.length));
  });

  test("the store keeps a key saved twice usable, wipes the one it replaces, refuses a DES data key and prints nothing", () => {
    const store = new MemoryKeyStore();
    const tmk = new SecretKey("tdes", fromHex(TMK));
    store.saveMasterKey(tmk);
    store.saveMasterKey(tmk);
    expect(tmk.wiped).toBe(false);
    const working = unwrapWorkingKeys(f62For("tdes", TMK, "tdes", [PIK, MAK]), tmk);
    store.replaceWorkingKeys(working);
    store.replaceWorkingKeys(working);
    expect(working.mak.wiped).toBe(false);
    const data = new SecretKey("sm4", fromHex(TMK));
    store.saveDataKey(data);
    store.saveDataKey(data);
    expect(data.wiped).toBe(false);
    const next = new SecretKey("sm4", fromHex(PIK));
    store.saveDataKey(next);
    expect(data.wiped).toBe(true);
    expect(() => store.saveDataKey(new SecretKey("des", fromHex(TMK.slice(0, 16))))).toThrow(
      new CryptoInputError("key", "the data key must be an sm4 key, got des"),
    );
    expect(String(store)).toBe("MemoryKeyStore([redacted])");
    expect(JSON.stringify({ store })).toBe('{"store":"MemoryKeyStore([redacted])"}');
  });
});
