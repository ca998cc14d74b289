import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fromHex, toHex } from "../../../modules/base/hex";
import { SecretKey } from "../../../modules/crypto/keys";
import { SeededRandom } from "../../../modules/platform/random";
import { FileKeyStore, KeyFileError } from "../../../hosts/sim/file-key-store";

const TMK = "0123456789ABCDEFFEDCBA9876543210";
const PIK = "1111111111111111FEDCBA9876543210";
const MAK = "2222222222222222FEDCBA9876543210";

describe("file key store (simulator)", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-keys-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("keys survive a reload; replacing wipes the old set; the file is private", () => {
    const file = path.join(dir, "keys.json");
    const store = new FileKeyStore({ path: file });
    expect(store.loadMasterKey()).toBeUndefined();
    store.saveMasterKey(new SecretKey("tdes", fromHex(TMK)));
    const first = { pik: new SecretKey("tdes", fromHex(PIK)), mak: new SecretKey("tdes", fromHex(MAK)) };
    store.replaceWorkingKeys(first);
    const second = { pik: new SecretKey("tdes", fromHex(MAK)), mak: new SecretKey("tdes", fromHex(PIK)) };
    store.replaceWorkingKeys(second);
    expect(first.pik.wiped && first.mak.wiped).toBe(true);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    const reloaded = new FileKeyStore({ path: file });
    expect(toHex(reloaded.loadMasterKey()!.exposeBytes())).toBe(TMK);
    expect(toHex(reloaded.loadWorkingKeys()!.pik.exposeBytes())).toBe(MAK);
    expect(reloaded.loadWorkingKeys()!.tdk).toBeUndefined();
    expect(String(reloaded)).not.toContain(TMK);

    reloaded.clear();
    expect(new FileKeyStore({ path: file }).loadMasterKey()).toBeUndefined();
  });

  test("the data key is generated once, persisted before use, kept across reloads and gone after clear()", () => {
    const file = path.join(dir, "keys.json");
    const store = new FileKeyStore({ path: file });
    const key = toHex(store.loadDataKey(new SeededRandom(1)).exposeBytes());
    expect(fs.readFileSync(file, "utf8")).toContain(key);
    const reloaded = new FileKeyStore({ path: file });
    expect(toHex(reloaded.loadDataKey(new SeededRandom(2)).exposeBytes())).toBe(key);
    expect(String(reloaded)).not.toContain(key);
    reloaded.clear();
    expect(toHex(new FileKeyStore({ path: file }).loadDataKey(new SeededRandom(2)).exposeBytes())).not.toBe(key);
    fs.writeFileSync(file, JSON.stringify({ version: 1, dek: { algorithm: "tdes", hex: TMK } }));
    expect(() => new FileKeyStore({ path: file })).toThrow("dek entry is not an sm4 key");
  });

  test("a corrupt file is a KeyFileError that does not show the key", () => {
    const file = path.join(dir, "keys.json");
    fs.writeFileSync(file, JSON.stringify({ version: 1, tmk: { algorithm: "tdes", hex: TMK.slice(0, 30) } }));
    expect(() => new FileKeyStore({ path: file })).toThrow(KeyFileError);
    try {
      new FileKeyStore({ path: file });
    } catch (error) {
      expect((error as Error).message).not.toContain(TMK.slice(0, 30));
    }
    fs.writeFileSync(file, "{not json");
    expect(() => new FileKeyStore({ path: file })).toThrow("not valid JSON");
  });
});
