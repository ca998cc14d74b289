/**
 * `xspos mac --alg cup-ecb|x99|x919|sm4-ecb --key HEX --data HEX [--padding 1|2]`
 * (docs/contracts.md): prints the MAC as upper-case hex. Errors never show
 * the key. Also exports the option helpers the pinblock and kcv commands use.
 */
import { fromHex, toHex } from "../../../modules/base/hex";
import { softwareCiphers, desFamilyFor } from "../../../modules/crypto/ciphers";
import { CryptoInputError } from "../../../modules/crypto/errors";
import { cbcMac, cupEcbMac, retailMac, type MacPadding } from "../../../modules/crypto/mac";
import { parseOptions, UsageError, type Command } from "../command";

type OptionSpec = Parameters<typeof parseOptions>[1];

/**
 * parseOptions whose errors cannot leak a secret: node's parseArgs quotes the
 * offending argument (which may be a key, a PIN or a PAN), so quoted text is
 * replaced before the message reaches stderr.
 */
export function parseSecretOptions<T extends OptionSpec>(args: readonly string[], options: T): ReturnType<typeof parseOptions<T>> {
  try {
    return parseOptions(args, options, false);
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/'[^']*'|"[^"]*"/g, "[argument]"));
  }
}

/** The value of a required option, or a UsageError naming it. */
export function required(value: string | undefined, name: string): string {
  if (value === undefined || value === "") throw new UsageError(`--${name} is required`);
  return value;
}

/** Hex bytes of a secret option; the error says what is wrong without repeating the value. */
export function secretHex(value: string, name: string): Uint8Array {
  if (!/^(?:[0-9A-Fa-f]{2})+$/.test(value))
    throw new UsageError(`--${name} must be an even number of hex digits (${value.length} characters given)`);
  return fromHex(value);
}

/** Runs a command body, turning the crypto module's typed input errors into usage errors (exit 2). */
export function withCryptoErrors(body: () => number): number {
  try {
    return body();
  } catch (error) {
    if (error instanceof CryptoInputError) throw new UsageError(error.message);
    throw error;
  }
}

const ALGORITHMS = ["cup-ecb", "x99", "x919", "sm4-ecb"] as const;

export const command: Command = {
  summary: "compute a MAC: UnionPay ECB (F64), ANSI X9.9, ANSI X9.19 retail MAC",
  usage: [
    "tools/xspos mac --alg cup-ecb|x99|x919|sm4-ecb --key HEX --data HEX [--padding 1|2]",
    "cup-ecb: the 8 ASCII characters of the UnionPay POS MAC, as 16 hex digits (8-byte DES or 16/24-byte 3DES key)",
    "x99: the full 8-byte DES CBC-MAC; x919: the ISO 9797-1 algorithm 3 retail MAC (16-byte key, padding method 1 by default)",
    "sm4-ecb: the UnionPay ECB construction on SM4 (16-byte key; not confirmed by a public vector)",
  ],
  run(args) {
    const { values } = parseSecretOptions(args, {
      alg: { type: "string" },
      key: { type: "string" },
      data: { type: "string" },
      padding: { type: "string" },
    });
    const alg = required(values.alg, "alg");
    if (!(ALGORITHMS as readonly string[]).includes(alg)) throw new UsageError(`--alg must be one of ${ALGORITHMS.join(", ")}`);
    const key = secretHex(required(values.key, "key"), "key");
    const data = values.data === undefined ? new Uint8Array(0) : secretHex(values.data, "data");
    const paddingText = values.padding ?? "1";
    if (paddingText !== "1" && paddingText !== "2") throw new UsageError("--padding must be 1 or 2");
    const padding = Number(paddingText) as MacPadding;
    if (padding === 2 && alg !== "x919" && alg !== "x99") throw new UsageError("--padding applies to x99 and x919 only");
    return withCryptoErrors(() => {
      let mac: Uint8Array;
      if (alg === "x919") {
        if (key.length !== 16) throw new UsageError(`x919 needs a 16-byte key (K1 K2), got ${key.length} bytes`);
        mac = retailMac(softwareCiphers.create("des", key.subarray(0, 8)), softwareCiphers.create("tdes", key), data, padding);
      } else if (alg === "sm4-ecb") {
        mac = cupEcbMac(softwareCiphers.create("sm4", key), data);
      } else {
        const cipher = softwareCiphers.create(desFamilyFor(key), key);
        mac = alg === "x99" ? cbcMac(cipher, data, padding) : cupEcbMac(cipher, data);
      }
      key.fill(0);
      console.log(toHex(mac));
      return 0;
    });
  },
};
