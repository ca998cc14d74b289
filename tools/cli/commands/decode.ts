/**
 * `xspos decode [--dialect cup|iso87ascii] [--framed] [--no-header] HEX`:
 * prints the message as one JSON object (docs/contracts.md "Codec"). Bad
 * input exits 2 with the field number and byte offset where decoding stopped.
 */
import { UsageError, parseOptions, type Command } from "../command";
import { fromHex, isHex } from "../../../modules/base/hex";
import { DIALECTS, Iso8583Codec, Iso8583Error } from "../../../modules/iso8583";

/** The largest frame the 2-byte length prefix can describe. */
const CLI_MESSAGE_BYTES_MAX = 2 + 0xffff;

export const CODEC_OPTIONS = {
  dialect: { type: "string", default: "cup" },
  framed: { type: "boolean", default: false },
  "no-header": { type: "boolean", default: false },
} as const;

export const CODEC_USAGE = "--dialect cup|iso87ascii (default cup)   --framed: 2-byte length prefix   --no-header: no TPDU/header (cup)";

/** The codec the shared options ask for; `verb` prefixes usage errors. */
export function codecFor(verb: string, values: { dialect: string; framed: boolean; "no-header": boolean }): Iso8583Codec {
  if (values.dialect !== "cup" && values.dialect !== "iso87ascii")
    throw new UsageError(`${verb}: --dialect must be cup or iso87ascii, got ${JSON.stringify(values.dialect)}`);
  return new Iso8583Codec({
    dialect: DIALECTS[values.dialect],
    framed: values.framed,
    header: !values["no-header"],
    messageBytesMax: CLI_MESSAGE_BYTES_MAX,
  });
}

/** Runs `body`, turning the codec's typed error into a usage error (exit 2). */
export function withCodecErrors<T>(verb: string, body: () => T): T {
  try {
    return body();
  } catch (error) {
    if (error instanceof Iso8583Error) throw new UsageError(`${verb}: ${error.message}`);
    throw error;
  }
}

export const command: Command = {
  summary: "decode an ISO 8583 message (hex) to JSON",
  usage: ["decode [--dialect cup|iso87ascii] [--framed] [--no-header] HEX", CODEC_USAGE],
  run(args) {
    const { values, positionals } = parseOptions(args, CODEC_OPTIONS);
    if (positionals.length !== 1) throw new UsageError("decode: exactly one HEX argument is required");
    const hex = positionals[0].replace(/\s+/g, "");
    if (!isHex(hex)) throw new UsageError("decode: HEX must be an even number of hex digits");
    if (hex.length / 2 > CLI_MESSAGE_BYTES_MAX) throw new UsageError(`decode: message longer than ${CLI_MESSAGE_BYTES_MAX} bytes`);
    const codec = codecFor("decode", values);
    const message = withCodecErrors("decode", () => codec.decode(fromHex(hex)));
    console.log(JSON.stringify(message));
    return 0;
  },
};
