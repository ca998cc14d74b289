/**
 * The host's terminal registry (TID, MID, TMK) and the working keys it hands
 * out at sign-on. F62 layout (docs/cup-dialect.md "Keys"):
 *   60.3 001 (single DES): PIK(8) CV(4) MAK(8) CV(4)                   = 24 bytes
 *   60.3 003 (3DES):       PIK(16) CV(4) MAK(16) CV(4)                 = 40 bytes
 *   60.3 004 (3DES + TDK): PIK(16) CV(4) MAK(16) CV(4) TDK(16) CV(4)   = 60 bytes
 * Keys are encrypted under the TMK (3DES ECB). CV = first 4 bytes of the clear
 * key encrypting 8 zero bytes. The 3DES MAK is sent as K1 K1 so a terminal
 * that uses only its left half (single-DES CUP MAC) and one that loads it as
 * 3DES compute the same MAC.
 */
import { ecbDecrypt, ecbEncrypt } from "../../modules/crypto/block-cipher";
import { Des, TripleDes, type DesTables } from "../../modules/crypto/des";
import { fromHex, toHex, wipe } from "../../modules/base/hex";
import { keyCheckValue } from "../../modules/crypto/keys";
import { decodeWorkingKeys, encodeWorkingKeys } from "../../modules/iso8583/subfields";
import type { Random } from "../../modules/platform/random";

export interface RegisteredTerminal {
  readonly tid: string;
  readonly mid: string;
  /** 16-byte terminal master key (test keys only: the simulator is no HSM). */
  readonly tmk: Uint8Array;
}

export type TerminalRegistry = ReadonlyMap<string, RegisteredTerminal>;

/** Terminals every host knows: the simulator's and the scenario runner's. */
export const DEFAULT_TERMINALS: readonly RegisteredTerminal[] = Object.freeze([
  Object.freeze({ tid: "10000001", mid: "898100012340001", tmk: fromHex("0123456789ABCDEFFEDCBA9876543210") }),
  Object.freeze({ tid: "10000002", mid: "898100012340001", tmk: fromHex("11111111111111112222222222222222") }),
]);

export function registry(terminals: readonly RegisteredTerminal[]): TerminalRegistry {
  return new Map(terminals.map((t) => [t.tid, t]));
}

/** A deterministic test TMK per bench terminal, so client and host agree without sharing files. */
export function benchTerminal(index: number): RegisteredTerminal {
  const tid = `2${String(index).padStart(7, "0")}`;
  const tmk = new Uint8Array(16);
  for (let i = 0; i < 16; i++) tmk[i] = (index * 31 + i * 17 + 5) & 0xff;
  return { tid, mid: "898100012349999", tmk };
}

export type KeyScheme = "001" | "003" | "004";
export const KEY_SCHEMES: readonly string[] = Object.freeze(["001", "003", "004"]);

/** Clear working keys as ciphers, ready for MAC and PIN checks. */
export interface WorkingKeys {
  readonly pik: Des | TripleDes;
  /** Single DES under the MAK's left half: the CUP ECB MAC key. */
  readonly mak: Des;
}

/** One working key: clear as a cipher, and as F62 carries it (under the TMK, with its check value). */
function issueKey(
  tmkCipher: TripleDes,
  clear: Uint8Array,
  tables: DesTables | undefined,
): { cipher: Des | TripleDes; wrapped: Uint8Array; check: Uint8Array } {
  const cipher = clear.length === 8 ? new Des(clear, tables) : new TripleDes(clear, tables);
  return { cipher, wrapped: ecbEncrypt(tmkCipher, clear), check: keyCheckValue(cipher, 4) };
}

/**
 * Makes fresh working keys for `scheme`; returns the F62 bytes and the clear keys as ciphers. `tables`:
 * typed DES tables on a V8 host (modules/crypto/des.ts `desTables`), default the frozen ones.
 */
export function issueWorkingKeys(
  tmk: Uint8Array,
  scheme: KeyScheme,
  random: Random,
  tables?: DesTables,
): { f62: Uint8Array; keys: WorkingKeys } {
  const keyBytes = scheme === "001" ? 8 : 16;
  const tmkCipher = new TripleDes(tmk, tables);
  const clear = new Uint8Array(keyBytes);
  random.fill(clear);
  const pik = issueKey(tmkCipher, clear, tables);
  random.fill(clear);
  if (keyBytes === 16) clear.copyWithin(8, 0, 8);
  const mak = issueKey(tmkCipher, clear, tables);
  const makDes = new Des(clear.subarray(0, 8), tables);
  random.fill(clear);
  const tdk = scheme === "004" ? issueKey(tmkCipher, clear, tables) : undefined;
  wipe(clear);
  tmkCipher.wipe();
  const f62 = encodeWorkingKeys({
    pik: pik.wrapped,
    pikCheck: pik.check,
    mak: mak.wrapped,
    makCheck: mak.check,
    tdk: tdk?.wrapped,
    tdkCheck: tdk?.check,
  });
  return { f62, keys: { pik: pik.cipher, mak: makDes } };
}

/** Recovers the clear keys from stored F62 bytes (after a host restart). */
export function recoverWorkingKeys(tmk: Uint8Array, f62: Uint8Array, tables?: DesTables): WorkingKeys {
  const wrapped = decodeWorkingKeys(toHex(f62));
  const tmkCipher = new TripleDes(tmk, tables);
  const pikClear = ecbDecrypt(tmkCipher, wrapped.pik);
  const makClear = ecbDecrypt(tmkCipher, wrapped.mak);
  const keys = {
    pik: pikClear.length === 8 ? new Des(pikClear, tables) : new TripleDes(pikClear, tables),
    mak: new Des(makClear.subarray(0, 8), tables),
  };
  wipe(pikClear);
  wipe(makClear);
  tmkCipher.wipe();
  return keys;
}
