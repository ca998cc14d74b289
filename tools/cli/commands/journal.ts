/**
 * `xspos journal inspect FLASH.bin [--block-size B] [--key HEX]`: what a
 * journal partition image holds — sectors (sequence, erase count, markers),
 * every slot, the records with their states (PAN masked, and only with the
 * data-at-rest key), and the alarms recovery would raise. Read-only: recovery
 * runs on an in-memory copy. A file that is not a journal exits 2.
 */
import fs from "node:fs";
import { sm4Gcm } from "../../../modules/crypto/aead";
import { SecretKey } from "../../../modules/crypto/keys";
import { fromHex, isHex } from "../../../modules/base/hex";
import { NorFlash } from "../../../modules/emulators/nor-flash";
import { JournalFormatError } from "../../../modules/journal/errors";
import { inspectImage } from "../../journal/inspect";
import { integerOption, parseOptions, UsageError, type Command } from "../command";

export const command: Command = {
  summary: "inspect a reversal journal flash image: sectors, records (PAN masked), states, erase counts",
  usage: ["tools/xspos journal inspect FLASH.bin [--block-size 4096] [--key SM4_KEY_HEX]"],
  run(args) {
    const [verb, ...rest] = args;
    if (verb !== "inspect")
      throw new UsageError(`unknown journal verb ${JSON.stringify(verb ?? "")}; try: tools/xspos journal inspect FLASH.bin`);
    const { values, positionals } = parseOptions(rest, { "block-size": { type: "string" }, key: { type: "string" } });
    if (positionals.length !== 1) throw new UsageError("journal inspect takes one FLASH.bin file");
    const blockSize = integerOption(values["block-size"], "block-size", 4096, 512, 65536);
    let image: Uint8Array;
    try {
      image = new Uint8Array(fs.readFileSync(positionals[0]));
    } catch (error) {
      throw new UsageError(`cannot read ${positionals[0]}: ${(error as Error).message}`);
    }
    if (values.key !== undefined && (!isHex(values.key) || values.key.length !== 32))
      throw new UsageError("--key must be 32 hex digits (an SM4 key)");
    const cipher = values.key === undefined ? undefined : sm4Gcm(new SecretKey("sm4", fromHex(values.key)));
    try {
      if (image.length === 0 || image.length % blockSize !== 0)
        throw new JournalFormatError(`image of ${image.length} bytes is not a whole number of ${blockSize}-byte sectors`);
      const sectors = image.length / blockSize;
      if (sectors < 3 || sectors > 64) throw new JournalFormatError(`image has ${sectors} sectors; a journal has 3 to 64`);
      const flash = new NorFlash({ sectorCount: sectors, blockSize, seed: 1, image });
      console.log(JSON.stringify(inspectImage(flash, cipher), null, 1));
      return 0;
    } catch (error) {
      if (error instanceof JournalFormatError) throw new UsageError(`${positionals[0]}: ${error.message}`);
      throw error;
    }
  },
};
