/**
 * No key, PIN or PIN block reaches a log line or an error message: every
 * failure path of the module is driven with known secrets, its error is
 * logged the way the terminal logs errors, and the lines are searched.
 */
import { fromHex, toHex } from "../../../modules/base/hex";
import { Gcm } from "../../../modules/crypto/aead";
import { ecbEncrypt } from "../../../modules/crypto/block-cipher";
import { softwareCiphers } from "../../../modules/crypto/ciphers";
import { keyCheckValue, SecretKey, unwrapWorkingKeys } from "../../../modules/crypto/keys";
import { MemoryKeyStore } from "../../../modules/crypto/key-store";
import { pinBlockFormat0, pinFromBlock } from "../../../modules/crypto/pin-block";
import { Sm4 } from "../../../modules/crypto/sm4";
import { Logger, MemoryLogSink } from "../../../modules/platform/log";

const TMK = "0123456789ABCDEFFEDCBA9876543210";
const PIK = "89ABCDEF01234567FEDCBA9876543210";
const PIN = "4321";
const PAN = "6011000990139424";
const PIN_BLOCK = toHex(pinBlockFormat0(PIN, PAN));

function failures(): unknown[] {
  const errors: unknown[] = [];
  const attempt = (body: () => unknown): void => {
    try {
      body();
      errors.push(new Error("expected a failure"));
    } catch (error) {
      errors.push(error);
    }
  };
  const tmk = new SecretKey("tdes", fromHex(TMK));
  const f62 = new Uint8Array(40);
  f62.set(ecbEncrypt(tmk.createCipher(), fromHex(PIK)), 0);
  f62.set(keyCheckValue(softwareCiphers.create("tdes", fromHex(PIK)), 4), 16);
  f62.set(f62.subarray(0, 20), 20);
  f62[39] ^= 0xff;
  attempt(() => unwrapWorkingKeys(f62, tmk));
  attempt(() => unwrapWorkingKeys(f62.subarray(0, 30), tmk));
  attempt(() => new SecretKey("sm4", fromHex(TMK + "00")));
  attempt(() => pinBlockFormat0(PIN + "x", PAN));
  attempt(() => pinBlockFormat0(PIN, PAN + "x"));
  attempt(() => pinFromBlock(fromHex(PIN_BLOCK), "6212345678901234"));
  attempt(() => new Gcm(new Sm4(fromHex(TMK))).open(new Uint8Array(12), fromHex(PIN_BLOCK + PIN_BLOCK + PIN_BLOCK), new Uint8Array(0)));
  const wiped = new SecretKey("tdes", fromHex(PIK));
  wiped.wipe();
  attempt(() => wiped.createCipher());
  return errors;
}

test("errors, logged with their fields and the key objects, contain no secret", () => {
  const sink = new MemoryLogSink();
  const log = new Logger(sink);
  const store = new MemoryKeyStore();
  const tmk = new SecretKey("tdes", fromHex(TMK));
  store.saveMasterKey(tmk);
  for (const error of failures()) {
    log.error("crypto failure", { error: String(error), detail: JSON.stringify(error), tmk: String(tmk), store: JSON.stringify(store) });
  }
  log.info("sign-on keys", { key: TMK, pinBlock: PIN_BLOCK, pin: PIN, description: `tmk ${String(tmk)}` });
  expect(sink.lines.length).toBe(9);
  const text = sink.lines.join("\n");
  for (const secret of [TMK, PIK, PIN_BLOCK, PAN, `pin=${PIN}`, TMK.slice(0, 16), PIK.slice(0, 16)]) expect(text).not.toContain(secret);
  expect(text).toContain("KeyCheckError");
  expect(text).toContain("[redacted]");
});
