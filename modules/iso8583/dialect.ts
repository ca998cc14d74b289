/**
 * Field tables as data, one per dialect. A field is written in ISO notation:
 * `n6` fixed, `n..19` LLVAR, `ans...999` LLLVAR; a trailing ` L` marks a BCD
 * field whose odd digit count is left-aligned (CUP 左靠: pad nibble last).
 * Lengths count digits/nibbles for n and z, characters for text, bytes for b.
 */
import { assert } from "../base/assert";

export type FieldKind = "n" | "z" | "a" | "an" | "ans" | "b";
export type LengthType = "fixed" | "LL" | "LLL";

export interface FieldDef {
  readonly number: number;
  readonly kind: FieldKind;
  readonly lengthType: LengthType;
  /** The fixed length, or the variable maximum. */
  readonly length: number;
  /** BCD only: an odd digit count puts the pad nibble last ("left") or first ("right"). */
  readonly align: "left" | "right";
}

export interface Dialect {
  readonly name: "cup" | "iso87ascii";
  /**
   * "bcd": MTI, length prefixes, n and z values packed BCD, bitmap binary (CUP).
   * "ascii": all of them ASCII characters, bitmap as 16 hex characters (ISO 8583:1987 ASCII).
   */
  readonly encoding: "bcd" | "ascii";
  /** Bytes of TPDU and of message header before the MTI when the header is on (CUP: 5 and 6). */
  readonly tpduBytes: number;
  readonly headerBytes: number;
  /** Index = field number 0..128; undefined = no definition (a bitmap bit for it is an error). */
  readonly fields: readonly (FieldDef | undefined)[];
}

export const FIELD_NUMBER_MAX = 128;

function table(specs: readonly string[]): readonly (FieldDef | undefined)[] {
  const fields: (FieldDef | undefined)[] = new Array<FieldDef | undefined>(FIELD_NUMBER_MAX + 1).fill(undefined);
  for (const spec of specs) {
    const m = /^(\d+) (n|z|a|an|ans|b)(\.{0,3})(\d+)( L)?$/.exec(spec);
    assert(m !== null && m[3].length !== 1, `bad field spec ${spec}`);
    const number = Number(m[1]);
    assert(number >= 2 && number <= FIELD_NUMBER_MAX && fields[number] === undefined, `bad field number in ${spec}`);
    const lengthType: LengthType = m[3] === "" ? "fixed" : m[3] === ".." ? "LL" : "LLL";
    const length = Number(m[4]);
    assert(length >= 1 && length <= (lengthType === "LL" ? 99 : 999), `bad length in ${spec}`);
    fields[number] = Object.freeze({ number, kind: m[2] as FieldKind, lengthType, length, align: m[5] ? "left" : "right" });
  }
  return Object.freeze(fields);
}

/** China UnionPay POS terminal dialect (docs/cup-dialect.md). */
export const CUP: Dialect = Object.freeze({
  name: "cup",
  encoding: "bcd",
  tpduBytes: 5,
  headerBytes: 6,
  fields: table([
    "2 n..19 L", // PAN
    "3 n6", // processing code
    "4 n12", // amount in fen
    "11 n6", // STAN
    "12 n6", // local time hhmmss
    "13 n4", // local date MMDD
    "14 n4", // expiry YYMM
    "15 n4", // settlement date
    "22 n3 L", // entry mode: 051 → 05 10
    "23 n3", // card sequence: 001 → 00 01
    "25 n2", // condition code
    "26 n2", // PIN capture code
    "32 n..11 L", // acquirer id
    "35 z..37 L", // track 2
    "36 z...104 L", // track 3
    "37 an12", // RRN
    "38 an6", // auth code
    "39 an2", // response code; reversal reason in 0400
    "41 ans8", // terminal id
    "42 ans15", // merchant id
    "44 ans..25", // issuer and acquirer ids
    "48 n...322 L", // settlement totals, batch-upload records
    "49 an3", // currency
    "52 b8", // PIN block
    "53 n16", // security control
    "54 an...120", // balance amounts (0210 of a balance inquiry), 20 characters each
    "55 b...255", // ICC data (BER-TLV)
    "59 ans...600", // custom (A1/A2/A5 TLV)
    "60 n...17 L", // type, batch, network management code, ...
    "61 n...29 L", // original batch, STAN, date
    "62 b...512", // working keys (0810), terminal info (0800)
    "63 ans...163", // operator / card organisation
    "64 b8", // MAC
  ]),
});

/** ISO 8583:1987 with ASCII MTI, lengths and numbers, hex-character bitmap, binary b fields. */
export const ISO87_ASCII: Dialect = Object.freeze({
  name: "iso87ascii",
  encoding: "ascii",
  tpduBytes: 0,
  headerBytes: 0,
  fields: table([
    ..."2 n..19|3 n6|4 n12|5 n12|6 n12|7 n10|8 n8|9 n8|10 n8|11 n6|12 n6|13 n4|14 n4|15 n4|16 n4|17 n4|18 n4".split("|"),
    ..."19 n3|20 n3|21 n3|22 n3|23 n3|24 n3|25 n2|26 n2|27 n1|28 an9|29 an9|30 an9|31 an9|32 n..11|33 n..11".split("|"),
    ..."34 ans..28|35 z..37|36 z...104|37 ans12|38 ans6|39 an2|40 an3|41 ans8|42 ans15|43 ans40|44 ans..25".split("|"),
    ..."45 ans..76|46 ans...999|47 ans...999|48 ans...999|49 an3|50 an3|51 an3|52 b8|53 n16|54 an...120".split("|"),
    ..."55 ans...999|56 ans...999|57 ans...999|58 ans...999|59 ans...999|60 ans...999|61 ans...999".split("|"),
    ..."62 ans...999|63 ans...999|64 b8|65 b1|66 n1|67 n2|68 n3|69 n3|70 n3|71 n4|72 n4|73 n6|74 n10".split("|"),
    ..."75 n10|76 n10|77 n10|78 n10|79 n10|80 n10|81 n10|82 n12|83 n12|84 n12|85 n12|86 n16|87 n16|88 n16".split("|"),
    ..."89 n16|90 n42|91 an1|92 an2|93 an5|94 an7|95 an42|96 b8|97 an17|98 ans25|99 n..11|100 n..11".split("|"),
    ..."101 ans..17|102 ans..28|103 ans..28|104 ans...100|105 ans...999|106 ans...999|107 ans...999".split("|"),
    ..."108 ans...999|109 ans...999|110 ans...999|111 ans...999|112 ans...999|113 ans...999|114 ans...999".split("|"),
    ..."115 ans...999|116 ans...999|117 ans...999|118 ans...999|119 ans...999|120 ans...999|121 ans...999".split("|"),
    ..."122 ans...999|123 ans...999|124 ans...999|125 ans...999|126 ans...999|127 ans...999|128 b8".split("|"),
  ]),
});

export const DIALECTS: Readonly<Record<Dialect["name"], Dialect>> = Object.freeze({ cup: CUP, iso87ascii: ISO87_ASCII });
