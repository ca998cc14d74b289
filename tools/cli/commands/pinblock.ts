/**
 * `xspos pinblock --format 0|3 --pin PIN --pan PAN [--key HEX]`
 * (docs/contracts.md): the clear ISO 9564 block, or with --key the block
 * encrypted under that 3DES (or 8-byte DES) key. `--format sm4` gives the
 * 16-byte SM4 block (F59 tag A1), encrypted under a 16-byte SM4 key with --key.
 * Errors never show the PIN, the PAN, the key or the block.
 */
import crypto from "node:crypto";
import { toHex } from "../../../modules/base/hex";
import { ecbEncrypt } from "../../../modules/crypto/block-cipher";
import { desFamilyFor, softwareCiphers } from "../../../modules/crypto/ciphers";
import { pinBlockFormat0, pinBlockFormat3, sm4PinBlock } from "../../../modules/crypto/pin-block";
import { UsageError, type Command } from "../command";
import { parseSecretOptions, required, secretHex, withCryptoErrors } from "./mac";

const FORMATS = ["0", "3", "sm4"] as const;

export const command: Command = {
  summary: "build an ISO 9564 PIN block (format 0 or 3, or the SM4 16-byte block), clear or encrypted",
  usage: ["tools/xspos pinblock --format 0|3|sm4 --pin PIN --pan PAN [--key HEX]"],
  run(args) {
    const { values } = parseSecretOptions(args, {
      format: { type: "string" },
      pin: { type: "string" },
      pan: { type: "string" },
      key: { type: "string" },
    });
    const format = values.format ?? "0";
    if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(", ")}`);
    const pin = required(values.pin, "pin");
    const pan = required(values.pan, "pan");
    const key = values.key === undefined ? undefined : secretHex(values.key, "key");
    return withCryptoErrors(() => {
      const block =
        format === "0"
          ? pinBlockFormat0(pin, pan)
          : format === "3"
            ? pinBlockFormat3(pin, pan, { fill: (bytes) => crypto.randomFillSync(bytes) })
            : sm4PinBlock(pin, pan);
      if (key !== undefined) {
        ecbEncrypt(softwareCiphers.create(format === "sm4" ? "sm4" : desFamilyFor(key), key), block, block);
        key.fill(0);
      }
      console.log(toHex(block));
      block.fill(0);
      return 0;
    });
  },
};
