/**
 * `xspos encode [--dialect cup|iso87ascii] [--framed] [--no-header] JSON`:
 * the inverse of `xspos decode`; prints uppercase hex (docs/contracts.md "Codec").
 */
import { UsageError, parseOptions, type Command } from "../command";
import { toHex } from "../../../modules/base/hex";
import { FIELD_NUMBER_MAX, type IsoMessage } from "../../../modules/iso8583";
import { CODEC_OPTIONS, CODEC_USAGE, codecFor, withCodecErrors } from "./decode";

const KEYS = new Set(["tpdu", "header", "mti", "fields", "secondaryBitmap"]);

/** Checks the JSON's shape; the codec checks the values. */
function messageFrom(text: string): IsoMessage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`encode: JSON does not parse: ${(error as Error).message}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new UsageError("encode: JSON must be an object");
  const object = json as Record<string, unknown>;
  for (const key of Object.keys(object)) if (!KEYS.has(key)) throw new UsageError(`encode: unknown key ${JSON.stringify(key)}`);
  for (const key of ["tpdu", "header", "mti"])
    if (object[key] !== undefined && typeof object[key] !== "string") throw new UsageError(`encode: "${key}" must be a string`);
  if (typeof object.mti !== "string") throw new UsageError('encode: "mti" is required');
  if (object.secondaryBitmap !== undefined && typeof object.secondaryBitmap !== "boolean")
    throw new UsageError('encode: "secondaryBitmap" must be true or false');
  const fields = object.fields ?? {};
  if (typeof fields !== "object" || fields === null || Array.isArray(fields)) throw new UsageError('encode: "fields" must be an object');
  for (const [key, value] of Object.entries(fields)) {
    const n = Number(key);
    if (!/^\d+$/.test(key) || n < 2 || n > FIELD_NUMBER_MAX)
      throw new UsageError(`encode: field key ${JSON.stringify(key)} is not a field number 2..128`);
    if (typeof value !== "string") throw new UsageError(`encode: field ${key} must be a string`);
  }
  // "fields" may be left out (a message of MTI and bitmap only): the codec is given an empty set, not undefined.
  return { ...object, fields } as unknown as IsoMessage;
}

export const command: Command = {
  summary: "encode an ISO 8583 message from JSON to hex",
  usage: [
    "encode [--dialect cup|iso87ascii] [--framed] [--no-header] JSON",
    CODEC_USAGE,
    'JSON as printed by decode: {"tpdu":..,"header":..,"mti":"0800","fields":{"11":"000001"}}',
  ],
  run(args) {
    const { values, positionals } = parseOptions(args, CODEC_OPTIONS);
    if (positionals.length !== 1) throw new UsageError("encode: exactly one JSON argument is required");
    const message = messageFrom(positionals[0]);
    const codec = codecFor("encode", values);
    // The codec would say "TPDU at byte 0: wrongLength": true, but it reads as a decoding error to someone writing JSON.
    if (values.dialect === "cup" && !values["no-header"] && (message.tpdu === undefined || message.header === undefined))
      throw new UsageError(
        'encode: the CUP dialect carries a TPDU and a header: give "tpdu" (10 hex digits, e.g. "6000000000") and "header" ' +
          '(12 hex digits, e.g. "603100000000"), or --no-header',
      );
    console.log(toHex(withCodecErrors("encode", () => codec.encode(message))));
    return 0;
  },
};
