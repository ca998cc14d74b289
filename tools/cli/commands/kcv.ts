/**
 * `xspos kcv --alg des|tdes|sm4 --key HEX [--bytes 3|4]` (docs/contracts.md):
 * the key check value (zero block encrypted under the key, first 3 or 4
 * bytes). Errors never show the key.
 */
import { toHex } from "../../../modules/base/hex";
import { CIPHER_ALGORITHMS, type CipherAlgorithm } from "../../../modules/crypto/block-cipher";
import { softwareCiphers } from "../../../modules/crypto/ciphers";
import { keyCheckValue } from "../../../modules/crypto/keys";
import { UsageError, type Command } from "../command";
import { parseSecretOptions, required, secretHex, withCryptoErrors } from "./mac";

export const command: Command = {
  summary: "print a key check value (3 bytes, or the 4-byte UnionPay form)",
  usage: ["tools/xspos kcv --alg des|tdes|sm4 --key HEX [--bytes 3|4]"],
  run(args) {
    const { values } = parseSecretOptions(args, { alg: { type: "string" }, key: { type: "string" }, bytes: { type: "string" } });
    const alg = required(values.alg, "alg");
    if (!(CIPHER_ALGORITHMS as readonly string[]).includes(alg))
      throw new UsageError(`--alg must be one of ${CIPHER_ALGORITHMS.join(", ")}`);
    const bytesText = values.bytes ?? "3";
    if (bytesText !== "3" && bytesText !== "4") throw new UsageError("--bytes must be 3 or 4");
    const key = secretHex(required(values.key, "key"), "key");
    return withCryptoErrors(() => {
      const kcv = keyCheckValue(softwareCiphers.create(alg as CipherAlgorithm, key), Number(bytesText) as 3 | 4);
      key.fill(0);
      console.log(toHex(kcv));
      return 0;
    });
  },
};
