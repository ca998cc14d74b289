/**
 * What `xspos fuzz` attacks. Each target makes input number i from valid
 * seeds (messages, F55, sub-field values, journal images, host requests) and
 * structure-aware mutations, and runs it: success is a typed error, or a
 * decode whose re-encode gives back the input bytes exactly. Anything else
 * (another error, a different re-encode, a host internal error or an answer
 * that does not decode) throws FuzzFinding.
 */
import { fromAscii, fromHex, toAscii, toHex } from "../../modules/base/hex";
import { crc32 } from "../../modules/base/crc32";
import { NorFlash } from "../../modules/emulators/nor-flash";
import { Iso8583Codec, type IsoMessage } from "../../modules/iso8583/codec";
import { CUP } from "../../modules/iso8583/dialect";
import { Iso8583Error } from "../../modules/iso8583/error";
import {
  buildBalance,
  buildBatchUpload,
  buildEcho,
  buildRefund,
  buildSale,
  buildSettlement,
  buildSignOn,
  buildVoid,
  type CardData,
} from "../../modules/iso8583/messages";
import {
  decodeField54,
  decodeField60,
  decodeField61,
  decodeSecurityControl,
  decodeSettlementTotals,
  decodeWorkingKeys,
  encodeField54,
  encodeField60,
  encodeField61,
  encodeSecurityControl,
  encodeSettlementTotals,
  encodeWorkingKeys,
} from "../../modules/iso8583/subfields";
import { decodeTlv, encodeTlv } from "../../modules/iso8583/tlv";
import { reversal, reversalFields } from "../../modules/txn/messages";
import { JournalFormatError, JournalFullError, JournalInputError, JournalStateError } from "../../modules/journal/errors";
import { Journal } from "../../modules/journal/journal";
import { SeededRandom } from "../../modules/platform/random";
import { HostCore } from "../host/core";
import { SqliteLedger } from "../host/sqlite-ledger";
import { DEFAULT_TERMINALS, registry } from "../host/terminals";
import { TestTerminal, IDENTITY_DEFAULTS } from "../host/test-terminal";
import { chipSale, randomTransaction, TEST_IDENTITY, TEST_PAN, testCipher } from "../journal/fixtures";
import { GENERIC, mutate, type Mutation } from "./mutate";

/** A failure of the code under test: what the fuzzer is looking for. */
export class FuzzFinding extends Error {
  override readonly name = "FuzzFinding";
}

export type Verdict = "ok" | "typed";

export interface FuzzTarget {
  readonly name: string;
  /** Input number `index` of a run: a mutated seed, from `random` alone. */
  input(random: SeededRandom, index: number): Uint8Array;
  run(input: Uint8Array, index: number): Verdict;
}

function sameBytes(a: Uint8Array, b: Uint8Array, what: string): void {
  if (a.length !== b.length || a.some((v, i) => v !== b[i])) throw new FuzzFinding(`${what}: re-encode differs from the input`);
}

// ---------------------------------------------------------------- codec

const TERMINAL = { ...IDENTITY_DEFAULTS, tid: "10000001", mid: "898100012340001" };
const ICC =
  "9F2608DEAE676D1C4734119F2701809F101307020103A0A806010A01000000000098F01F529F3704AA0FBE659F36020349" +
  "9505008004E0009A031611159C01009F02060000000055885F2A02015682027C009F1A0201569F0306000000000000" +
  "9F3303E0E1C89F34034203009F3501229F1E0831323334353637388408A0000003330101019F090200309F410400000003";
const CHIP: CardData = {
  pan: "6217973910000725090",
  expiry: "2312",
  entryMode: "051",
  cardSequence: "001",
  icc: ICC,
  pinBlock: "086BDB118D7AC25E",
  security: { pinFormat: "2", algorithm: "6", trackEncrypted: false },
};
const SWIPE: CardData = { track2: "6228480000000015D30121010000012300000", entryMode: "021", pan: "6228480000000015", expiry: "3012" };

function codecSeeds(): Uint8Array[] {
  const codec = new Iso8583Codec({ dialect: CUP });
  const base = { terminal: TERMINAL, stan: "000042", batch: "000001" };
  const sale = buildSale({ ...base, amount: 1234, card: CHIP });
  const messages: IsoMessage[] = [
    buildSignOn({ ...base, netCode: "003", operator: "01 " }),
    sale,
    buildSale({ ...base, amount: 1, card: SWIPE }),
    buildVoid({ ...base, amount: 1234, card: CHIP, original: { batch: "000001", stan: "000041", date: "1125" } }),
    buildRefund({ ...base, amount: 99, card: SWIPE, original: { batch: "000000", stan: "000000" } }),
    { ...reversal({ fields: reversalFields(sale) }, "98"), tpdu: sale.tpdu, header: sale.header },
    buildBalance({ ...base, card: CHIP }),
    buildEcho(base),
    buildSettlement({
      ...base,
      operator: "01 ",
      totals: {
        domestic: { debitAmount: 1234, debitCount: 1, creditAmount: 0, creditCount: 0, result: "0" },
        foreign: { debitAmount: 0, debitCount: 0, creditAmount: 0, creditCount: 0, result: "0" },
      },
    }),
    buildBatchUpload({ ...base, netCode: "201", records: "00".repeat(20) }),
    {
      tpdu: "6000000003",
      header: "603100311312",
      mti: "0210",
      fields: {
        2: "6217973910000725090",
        3: "310000",
        11: "000042",
        37: "120000000001",
        38: "000001",
        39: "00",
        41: "10000001",
        42: "898100012340001",
        54: "0002156C000000101100",
        64: "0000000000000000",
      },
    },
  ];
  return messages.map((m) => codec.encode(m).slice());
}

/** CUP with a header: TPDU 5 + header 6 + MTI 2, then the bitmap (8 bytes, 16 with the secondary). */
const BITMAP_OFFSET = 13;
const flipBitmap: Mutation = (input, random) => {
  if (input.length < BITMAP_OFFSET + 8) return input;
  const out = input.slice();
  const span = (out[BITMAP_OFFSET] & 0x80) !== 0 ? 16 : 8;
  const at = BITMAP_OFFSET + random.below(Math.min(span, out.length - BITMAP_OFFSET));
  out[at] ^= 1 << random.below(8);
  return out;
};

function codecTarget(): FuzzTarget {
  const seeds = codecSeeds();
  const codec = new Iso8583Codec({ dialect: CUP });
  const mutations = [...GENERIC, flipBitmap, flipBitmap];
  return {
    name: "codec",
    input: (random) => mutate(random.pick(seeds), random, mutations),
    run(input) {
      let message: IsoMessage;
      try {
        message = codec.decode(input);
      } catch (error) {
        if (error instanceof Iso8583Error) return "typed";
        throw error;
      }
      sameBytes(codec.encode(message), input, "codec");
      return "ok";
    },
  };
}

// ---------------------------------------------------------------- TLV (F55)

const TLV_SEEDS = Object.freeze([
  ICC,
  "9F101307020103A0A806010A01000000000098F01F529F360203499505008004E0009F1E083132333435363738",
  "7081A0" +
    "5A0862179739100007259F" +
    "5F24032312315F3401019F0702FF00" +
    "8E0C000000000000000002031F00" +
    "9F0D05B8508000009F0E0500000000009F0F05B860AC8800" +
    "5F280201568C1B9F02069F03069F1A0295055F2A029A039C019F37049F21039F4E148D1A8A029F02069F03069F1A0295055F2A029A039C019F37049F21039F4E14" +
    "9F4A0182",
  "DF8101020001DF310500000000009F1E0831323334353637389F100100",
]);

/** The offsets of every length byte of a TLV list (a walker of the seed's own structure). */
function lengthOffsets(bytes: Uint8Array): number[] {
  const offsets: number[] = [];
  let o = 0;
  while (o < bytes.length) {
    const first = bytes[o++];
    if ((first & 0x1f) === 0x1f) while (o < bytes.length && (bytes[o++] & 0x80) !== 0);
    if (o >= bytes.length) break;
    offsets.push(o);
    let length = bytes[o++];
    if (length === 0x81) length = bytes[o++];
    else if (length === 0x82) {
      length = (bytes[o] << 8) | bytes[o + 1];
      o += 2;
    }
    o += length;
  }
  return offsets;
}

function tlvTarget(): FuzzTarget {
  const seeds = TLV_SEEDS.map(fromHex);
  const tlvLength: Mutation = (input, random) => {
    const offsets = lengthOffsets(input);
    if (offsets.length === 0) return input;
    const out = input.slice();
    out[random.pick(offsets)] = random.pick([0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x83, 0xff, out.length & 0xff]);
    return out;
  };
  const mutations = [...GENERIC, tlvLength, tlvLength];
  return {
    name: "tlv",
    input: (random) => mutate(random.pick(seeds), random, mutations),
    run(input) {
      let items;
      try {
        items = decodeTlv(input);
      } catch (error) {
        if (error instanceof Iso8583Error) return "typed";
        throw error;
      }
      sameBytes(encodeTlv(items), input, "tlv");
      return "ok";
    },
  };
}

// ---------------------------------------------------------------- sub-fields

interface SubfieldCodec {
  readonly name: string;
  readonly seeds: readonly string[];
  /** Decode then encode; the result must be the input. */
  readonly roundTrip: (value: string) => string;
}

const SUBFIELDS: readonly SubfieldCodec[] = Object.freeze([
  { name: "F60", seeds: ["22000001000500012", "00000001003", "2200000100050"], roundTrip: (v: string) => encodeField60(decodeField60(v)) },
  { name: "F61", seeds: ["000001000002", "0000010000021125"], roundTrip: (v: string) => encodeField61(decodeField61(v)) },
  {
    name: "F62",
    seeds: [
      "11".repeat(8) + "AAAAAAAA" + "22".repeat(8) + "BBBBBBBB",
      "11".repeat(16) + "AAAAAAAA" + "22".repeat(16) + "BBBBBBBB" + "33".repeat(16) + "CCCCCCCC",
    ],
    // The codec hands b fields over in uppercase: that is the form that must come back.
    roundTrip: (v: string) => (v === v.toUpperCase() ? toHex(encodeWorkingKeys(decodeWorkingKeys(v))) : typedRefusal(62)),
  },
  {
    name: "F48",
    seeds: ["000000001234001000000000000000" + "1" + "0".repeat(30) + "2", "9".repeat(62)],
    roundTrip: (v: string) => encodeSettlementTotals(decodeSettlementTotals(v)),
  },
  {
    name: "F53",
    seeds: ["2600000000000000", "1010000000000000"],
    roundTrip: (v: string) => encodeSecurityControl(decodeSecurityControl(v)),
  },
  {
    name: "F54",
    seeds: ["0002156C000000101100", "0002156C000000101100" + "1001156D000000000050"],
    roundTrip: (v: string) => encodeField54(decodeField54(v)),
  },
]);

function typedRefusal(field: number): never {
  throw new Iso8583Error(field, 0, "badHex", "lowercase hex is not what the codec hands over");
}

function subfieldsTarget(): FuzzTarget {
  return {
    name: "subfields",
    // Byte 0 names the sub-field; the rest is its value as ASCII.
    input(random) {
      const which = random.below(SUBFIELDS.length);
      const value = mutate(fromAscii(random.pick(SUBFIELDS[which].seeds)), random, GENERIC);
      const out = new Uint8Array(1 + value.length);
      out[0] = which;
      out.set(value, 1);
      return out;
    },
    run(input) {
      const codec = SUBFIELDS[input[0] % SUBFIELDS.length];
      let value: string;
      try {
        value = toAscii(input, 1);
      } catch {
        value = String.fromCharCode(...input.subarray(1));
      }
      let back: string;
      try {
        back = codec.roundTrip(value);
      } catch (error) {
        if (error instanceof Iso8583Error) return "typed";
        throw error;
      }
      if (back !== value) throw new FuzzFinding(`${codec.name}: re-encode differs from the input`);
      return "ok";
    },
  };
}

// ---------------------------------------------------------------- journal images

const JOURNAL_SECTORS = 4;
const JOURNAL_BLOCK_BYTES = 1024;
const SLOT_BYTES = 128;

/** Images the code wrote: a few workloads on a small partition (every record kind, rotations). */
function journalSeeds(): Uint8Array[] {
  const images: Uint8Array[] = [];
  for (const steps of [3, 12, 40]) {
    const random = new SeededRandom(steps);
    const flash = new NorFlash({ sectorCount: JOURNAL_SECTORS, blockSize: JOURNAL_BLOCK_BYTES, seed: steps });
    const journal = Journal.open({ flash, cipher: testCipher(), random, identity: TEST_IDENTITY, reversalsPendingMax: 4 });
    let batch = 1;
    for (let i = 1; i <= steps; i++) {
      try {
        const seq = journal.arm(i % 3 === 0 ? chipSale(i, batch, 100 * i) : randomTransaction(random, i, batch), TEST_PAN);
        if (i % 4 === 0) {
          journal.reversalDue(seq, "98");
          journal.attempt(seq);
          if (i % 8 === 0) journal.failed(seq);
        } else if (i % 5 === 0) journal.complete(seq);
        else journal.approve(seq, "AB1234", String(i).padStart(12, "0"));
      } catch (error) {
        if (!(error instanceof JournalFullError)) throw error;
        journal.settle(String(batch).padStart(6, "0"));
        batch++;
      }
      if (i % 10 === 0) {
        journal.settle(String(batch).padStart(6, "0"));
        batch++;
      }
    }
    images.push(flash.exportImage());
  }
  return images;
}

/** Mutates inside one slot (or a header) and, half the time, mends its CRC so the mutation reaches the decoders. */
const slotAware: Mutation = (input, random) => {
  const out = input.slice();
  const sector = random.below(JOURNAL_SECTORS);
  const slot = random.below(JOURNAL_BLOCK_BYTES / SLOT_BYTES);
  const base = sector * JOURNAL_BLOCK_BYTES + slot * SLOT_BYTES;
  const span = slot === 0 ? 0x38 : 0x6c;
  for (let n = 1 + random.below(3); n > 0; n--) {
    const at = base + random.below(span);
    out[at] = random.chance(0.5) ? random.nextUint32() & 0xff : out[at] ^ (1 << random.below(8));
  }
  if (random.chance(0.5)) {
    const crc = crc32(out, base, base + span);
    for (let i = 0; i < 4; i++) out[base + span + i] = (crc >>> (8 * i)) & 0xff;
  }
  return out;
};

/** Whole-image mutations that keep the size (an image is whole sectors). */
const inPlace: readonly Mutation[] = Object.freeze([
  slotAware,
  slotAware,
  slotAware,
  (input, random) => {
    const out = input.slice();
    for (let n = 1 + random.below(8); n > 0; n--) out[random.below(out.length)] ^= 1 << random.below(8);
    return out;
  },
  (input, random) => {
    const out = input.slice();
    const at = random.below(out.length);
    out.fill(random.chance(0.5) ? 0xff : 0x00, at, Math.min(out.length, at + 1 + random.below(SLOT_BYTES)));
    return out;
  },
  (input, random) => {
    const out = input.slice();
    const from = random.below(out.length / SLOT_BYTES) * SLOT_BYTES;
    const to = random.below(out.length / SLOT_BYTES) * SLOT_BYTES;
    out.copyWithin(to, from, from + SLOT_BYTES);
    return out;
  },
]);

const JOURNAL_TYPED = [JournalFormatError, JournalInputError, JournalStateError, JournalFullError];

function journalTarget(): FuzzTarget {
  const seeds = journalSeeds();
  const cipher = testCipher();
  return {
    name: "journal",
    input: (random) => mutate(random.pick(seeds), random, inPlace),
    run(input) {
      try {
        const flash = new NorFlash({ sectorCount: JOURNAL_SECTORS, blockSize: JOURNAL_BLOCK_BYTES, seed: 1, image: input });
        const journal = Journal.open({ flash, cipher, random: new SeededRandom(1), identity: TEST_IDENTITY });
        for (const pending of journal.pendingReversals()) if (pending.txn.hasPan) panOrTyped(journal, pending.seq);
        for (const approved of journal.approvedLog()) if (approved.txn.hasPan) panOrTyped(journal, approved.seq);
        journal.counts();
        // Recovery is idempotent: a second boot sees the same records, unless the first alarmed damage
        // (docs/journal-format.md §10a: after an alarm the journal may legitimately see less or more).
        if (journal.alarms.length > 0) return "typed";
        const again = Journal.open({ flash, cipher, random: new SeededRandom(1), identity: TEST_IDENTITY });
        const seqs = (j: Journal): string => JSON.stringify([j.pendingReversals().map((p) => p.seq), j.approvedLog().map((a) => a.seq)]);
        if (seqs(again) !== seqs(journal)) throw new FuzzFinding("journal: a second recovery after a silent first one sees other records");
        return "ok";
      } catch (error) {
        if (JOURNAL_TYPED.some((type) => error instanceof type)) return "typed";
        throw error;
      }
    },
  };
}

/** A PAN whose seal was damaged does not open: JournalFormatError, a typed outcome. */
function panOrTyped(journal: Journal, seq: number): void {
  try {
    journal.panOf(seq);
  } catch (error) {
    if (!(error instanceof JournalFormatError)) throw error;
  }
}

// ---------------------------------------------------------------- host core

/** Host state is rebuilt every WINDOW inputs: a run stays bounded and input i replays from its window's start. */
export const HOST_WINDOW = 1000;

function hostTarget(): FuzzTarget {
  let core: HostCore | undefined;
  let ledger: SqliteLedger | undefined;
  let terminal = new TestTerminal(DEFAULT_TERMINALS[0]);
  let seeds: Uint8Array[] = [];
  const internalErrors: string[] = [];
  const codec = new Iso8583Codec({ dialect: CUP });
  const NOW_MS = Date.UTC(2026, 10, 25, 12, 0, 0);
  const reset = (): void => {
    ledger?.close();
    ledger = new SqliteLedger(":memory:");
    core = new HostCore({
      ledger,
      terminals: registry(DEFAULT_TERMINALS),
      random: new SeededRandom(5),
      onInternalError: (report) => internalErrors.push(`${report.mti}: ${report.error}`),
    });
    terminal = new TestTerminal(DEFAULT_TERMINALS[0]);
    terminal.acceptSignOn(core.handle(terminal.signOn("000001"), { nowMs: NOW_MS }).response!);
    const card = { pan: "6228480000000015", expiry: "3012", pin: "1234" };
    const sale = terminal.saleMessage({ ...card, amount: 500, stan: "000002" });
    core.handle(terminal.sale({ ...card, amount: 500, stan: "000002" }), { nowMs: NOW_MS });
    seeds = [
      terminal.signOn("000003"),
      terminal.sale({ ...card, amount: 700, stan: "000004" }),
      terminal.voidSale("000005", { ...card, amount: 500 }, "000002"),
      terminal.refund({ ...card, amount: 100, stan: "000006" }),
      terminal.reversal(sale, "98"),
      terminal.settlement("000007", { debit: 500, debits: 1 }),
      terminal.echo("000008"),
      terminal.balance({ ...card, stan: "000009" }),
    ];
  };
  return {
    name: "host",
    input(random, index) {
      if (index % HOST_WINDOW === 0 || core === undefined) reset();
      const out = mutate(random.pick(seeds), random, GENERIC);
      // Half the time the mutated request gets a good MAC, so it reaches the processing behind the MAC check.
      if (random.chance(0.5)) {
        try {
          if (codec.decode(out).fields[64] !== undefined) terminal.remac(out);
        } catch {
          // Not a message: sent as it is.
        }
      }
      return out;
    },
    run(input) {
      const decision = core!.handle(input, { nowMs: NOW_MS });
      if (internalErrors.length > 0) throw new FuzzFinding(`host internal error: ${internalErrors.splice(0).join("; ")}`);
      if (decision.malformed !== undefined) return "typed";
      if (decision.response !== undefined) {
        try {
          const answer = codec.decode(decision.response);
          return answer.fields[39] === "00" ? "ok" : "typed";
        } catch (error) {
          throw new FuzzFinding(`host answer does not decode: ${(error as Error).message}`);
        }
      }
      return "typed";
    },
  };
}

export const TARGET_NAMES = Object.freeze(["codec", "tlv", "subfields", "journal", "host"] as const);
export type TargetName = (typeof TARGET_NAMES)[number];

export function makeTarget(name: TargetName): FuzzTarget {
  switch (name) {
    case "codec":
      return codecTarget();
    case "tlv":
      return tlvTarget();
    case "subfields":
      return subfieldsTarget();
    case "journal":
      return journalTarget();
    case "host":
      return hostTarget();
  }
}
