import { fc } from "./fast-check";
import { CUP, ISO87_ASCII, Iso8583Codec, Iso8583Error, type Dialect, type FieldDef, type IsoMessage } from "../../../modules/iso8583";

/** Variable fields are generated up to this length so a message with every field fits the codec. */
const VARIABLE_LENGTH_CAP = 40;
/**
 * Cases per property: 150, or XSPOS_PROPERTY_RUNS where the host has an environment. Stryker sets it lower
 * (tests/mutation/stryker.config.mjs): each codec mutant reruns these properties, and the same seeds give the same
 * first cases, so a mutant is still checked against the start of the normal run. XS has no process: always 150.
 */
const RUNS = propertyRuns(150);
/**
 * A shortened run (under Stryker) also stops at the first failing case instead of shrinking it: shrinking a
 * message of many fields takes thousands of encodes, which made a failing mutant run into Stryker's timeout
 * (killed either way, but seconds each and a restarted test process). Normal runs shrink, to report a small case.
 */
const PARAMETERS = { endOnFailure: RUNS < 150 };

function propertyRuns(normal: number): number {
  const host = globalThis as { process?: { env: Record<string, string | undefined> } };
  const text = host.process?.env.XSPOS_PROPERTY_RUNS;
  if (text === undefined) return normal;
  const runs = Number(text);
  if (!Number.isInteger(runs) || runs < 1 || runs > normal) throw new Error(`XSPOS_PROPERTY_RUNS must be 1 to ${normal}, got ${text}`);
  return runs;
}

const digit = fc.constantFrom(..."0123456789");
const nibble = fc.constantFrom(..."0123456789ABCDEF");
const printable = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
const ansChar = fc.oneof(
  printable,
  fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
);
const hexByte = fc.integer({ min: 0, max: 255 }).map((b) => b.toString(16).toUpperCase().padStart(2, "0"));

function valueOf(def: FieldDef): fc.Arbitrary<string> {
  const fixed = def.lengthType === "fixed";
  const length = { minLength: fixed ? def.length : 0, maxLength: fixed ? def.length : Math.min(def.length, VARIABLE_LENGTH_CAP) };
  switch (def.kind) {
    case "n":
      return fc.string({ unit: digit, ...length });
    case "z":
      return fc.string({ unit: nibble, ...length });
    case "b":
      return fc.array(hexByte, length).map((bytes) => bytes.join(""));
    case "ans":
      return fc.string({ unit: ansChar, ...length });
    default:
      return fc.string({ unit: printable, ...length });
  }
}

function messageOf(dialect: Dialect): fc.Arbitrary<IsoMessage> {
  const defs = dialect.fields.filter((d): d is FieldDef => d !== undefined);
  const fields = fc.record(Object.fromEntries(defs.map((d) => [String(d.number), valueOf(d)])), { requiredKeys: [] });
  const mti = fc.string({ unit: digit, minLength: 4, maxLength: 4 });
  if (dialect.tpduBytes === 0) return fc.record({ mti, fields });
  const hex = (bytes: number) => fc.array(hexByte, { minLength: bytes, maxLength: bytes }).map((b) => b.join(""));
  return fc.record({ tpdu: hex(dialect.tpduBytes), header: hex(dialect.headerBytes), mti, fields });
}

/** Decodes, and when that succeeds, checks that encoding gives back the same bytes. */
function decodeOrTypedError(codec: Iso8583Codec, bytes: Uint8Array): boolean {
  try {
    const message = codec.decode(bytes);
    const again = codec.encode(message);
    return again.length === bytes.length && again.every((b, i) => b === bytes[i]);
  } catch (error) {
    return error instanceof Iso8583Error;
  }
}

describe.each([
  ["cup", CUP],
  ["iso87ascii", ISO87_ASCII],
])("%s properties", (_name, dialect) => {
  const codec = new Iso8583Codec({ dialect, framed: true, messageBytesMax: 16384 });
  // Unframed, so random and corrupted bytes get past the length prefix into the fields.
  const bare = new Iso8583Codec({ dialect, messageBytesMax: 16384 });

  test("encode then decode is the identity for valid messages over every field kind", () => {
    fc.assert(
      fc.property(messageOf(dialect), (message) => {
        const decoded = codec.decode(codec.encode(message).slice());
        expect(decoded).toEqual(message);
      }),
      { ...PARAMETERS, numRuns: RUNS, seed: 8583 },
    );
  });

  test("random bytes decode only to a message that re-encodes identically, or to Iso8583Error", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => decodeOrTypedError(bare, bytes)),
      { ...PARAMETERS, numRuns: RUNS * 2, seed: 1 },
    );
  });

  test("corrupted valid messages fail only with Iso8583Error", () => {
    fc.assert(
      fc.property(
        messageOf(dialect),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        (message, edits, cut) => {
          const bytes = codec.encode(message).slice();
          for (const [at, value] of edits) bytes[at % bytes.length] = value;
          return decodeOrTypedError(codec, bytes) && decodeOrTypedError(codec, bytes.subarray(0, cut % (bytes.length + 1)));
        },
      ),
      { ...PARAMETERS, numRuns: RUNS, seed: 2 },
    );
  });
});
