/**
 * Recovery (docs/journal-format.md §7) from images a power cut, a torn append, rot or a stray write leave, each
 * read back whole with the spec reader: what is kept, voided, healed, brought level, copied forward or alarmed,
 * and the seq the next record takes. Four sectors of 1 KiB (7 record slots each) make rotation and compaction
 * short. Runs in Node and in XS.
 */
import { type FlashFaultKind, NorFlash, PowerCut } from "../../../modules/emulators/nor-flash";
import { Journal, type JournalOptions } from "../../../modules/journal/journal";
import { SeededRandom } from "../../../modules/platform/random";
import { chipSale, TEST_IDENTITY, testCipher } from "../../../tools/journal/fixtures";
import { firstChange, flashImage, imageStory } from "./flash-image";
import { ForwardingFlash } from "./forwarding-flash";

const SECTOR_COUNT = 4;
const SECTOR_BYTES = 1024;
const SLOT_BYTES = 128;

/** Says each mutating operation of the journal, with its operation index: `51 erase S3`, `55 write S3/1+0 112`. */
class OperationLog extends ForwardingFlash {
  readonly operations: string[] = [];
  override erase(sector: number): void {
    this.operations.push(`${this.inner.operations} erase S${sector}`);
    super.erase(sector);
  }
  override write(offset: number, length: number, bytes: Uint8Array): void {
    const place = `S${Math.floor(offset / SECTOR_BYTES)}/${Math.floor((offset % SECTOR_BYTES) / SLOT_BYTES)}+${offset % SLOT_BYTES}`;
    this.operations.push(`${this.inner.operations} write ${place} ${length}`);
    super.write(offset, length, bytes);
  }
}

function optionsFor(flash: NorFlash | OperationLog): JournalOptions {
  return { flash, cipher: testCipher(), random: new SeededRandom(3), identity: TEST_IDENTITY };
}

function emptyFlash(): NorFlash {
  return new NorFlash({ sectorCount: SECTOR_COUNT, blockSize: SECTOR_BYTES, seed: 3 });
}

/** `flash` as it is, with `edit` applied to a copy of its bytes (rot, a stray write), on a fresh emulator. */
function edited(flash: NorFlash, edit: (image: Uint8Array) => void): NorFlash {
  const image = new Uint8Array(flash.read(0, flash.byteLength));
  edit(image);
  return new NorFlash({ sectorCount: SECTOR_COUNT, blockSize: SECTOR_BYTES, seed: 9, image });
}

type Outcome = "approved" | "closed" | "owed";

/** A sale of STAN `stan` that ends `outcome`: approved, closed (no reversal needed), or owed an A0 reversal tried twice and 冲正失败. */
function sale(journal: Journal, stan: number, outcome: Outcome): number {
  const seq = journal.arm(chipSale(stan, 1, 100 * stan));
  if (outcome === "approved") journal.approve(seq, `AUTH${String(stan).padStart(2, "0")}`, String(100000000000 + stan));
  else if (outcome === "closed") journal.complete(seq);
  else {
    journal.reversalDue(seq, "A0");
    journal.attempt(seq);
    journal.attempt(seq);
    journal.failed(seq);
  }
  return seq;
}

/** What the terminal sees: alarms, reversals owed, approvals kept. */
function view(journal: Journal): { alarms: string[]; owed: string[]; approved: string[] } {
  return {
    alarms: journal.alarms.map((a) => `${a.kind}${a.seq === undefined ? "" : ` ${a.seq}`} S${a.sector}/${a.slot}`),
    owed: journal.pendingReversals().map((r) => `${r.seq} ${r.txn.stan} ${r.reason} x${r.attempts}${r.failed ? " failed" : ""}`),
    approved: journal.approvedLog().map((a) => `${a.seq} ${a.txn.stan} ${a.authCode} ${a.rrn}`),
  };
}

const withoutVoids = (story: string[]) => story.filter((line) => !line.endsWith(" void"));

describe("a record armed when the power went", () => {
  test("has its approval group voided on flash and is owed a 98 reversal, whose record the first attempt writes", () => {
    const flash = emptyFlash();
    const journal = Journal.open(optionsFor(flash));
    sale(journal, 1, "approved");
    journal.arm(chipSale(2, 1, 200));
    flash.cutPower();
    flash.powerCycle();

    const rebooted = Journal.open(optionsFor(flash));
    expect(imageStory(flash)).toEqual([
      "S0 #1 floor 2 erase 1",
      "S0/1 txn 1 stan 000001 approved AUTH01 100000000001",
      "S0/2 txn 2 stan 000002 void",
      // The boot burn: an append cut here may have left weak bits that read FF now.
      "S0/3 void",
      "S1 no header",
      "S2 no header",
      "S3 no header",
    ]);
    expect(view(rebooted)).toEqual({ alarms: [], owed: ["2 000002 98 x0"], approved: ["1 000001 AUTH01 100000000001"] });

    // A second boot changes nothing but burns the next slot; the REVERSAL is written by the first attempt.
    const again = Journal.open(optionsFor(flash));
    expect(again.attempt(2)).toBe(1);
    expect(imageStory(flash).slice(3, 6)).toEqual(["S0/3 void", "S0/4 void", "S0/5 reversal 3 of 2 98 x1"]);
    expect(view(Journal.open(optionsFor(flash))).owed).toEqual(["2 000002 98 x1"]);
  });
});

describe("an append the power cut", () => {
  function cutSecondArm(kind: FlashFaultKind): { flash: NorFlash; journal: Journal } {
    const flash = emptyFlash();
    const journal = Journal.open(optionsFor(flash));
    sale(journal, 1, "approved");
    flash.schedule({ atOperation: flash.operations, kind });
    expect(() => journal.arm(chipSale(2, 1, 200))).toThrow(PowerCut);
    flash.powerCycle();
    return { flash, journal: Journal.open(optionsFor(flash)) };
  }

  test("inside its body: the torn tail is voided and alarmed with the seq it was writing, which is never used again", () => {
    const { flash, journal } = cutSecondArm("cutInside");
    expect(view(journal)).toEqual({ alarms: ["torn-tail 2 S0/2"], owed: [], approved: ["1 000001 AUTH01 100000000001"] });
    expect(imageStory(flash).slice(1, 4)).toEqual(["S0/1 txn 1 stan 000001 approved AUTH01 100000000001", "S0/2 void", "S0/3 void"]);
    // Seq 2's bytes (and with them part of a sealed PAN) may still be on flash under its nonce: the next record is 3.
    expect(journal.arm(chipSale(3, 1, 300))).toBe(3);
  });

  test("voided at one boot, its seq is still not used at the next", () => {
    const { flash } = cutSecondArm("cutInside");
    const rebooted = Journal.open(optionsFor(flash));
    expect(rebooted.alarms).toEqual([]);
    expect(rebooted.arm(chipSale(3, 1, 300))).toBe(3);
  });

  test("before its first byte: nothing to void, no alarm, the next record takes the seq", () => {
    const { flash, journal } = cutSecondArm("cutBefore");
    expect(view(journal)).toEqual({ alarms: [], owed: [], approved: ["1 000001 AUTH01 100000000001"] });
    expect(imageStory(flash).slice(1, 3)).toEqual(["S0/1 txn 1 stan 000001 approved AUTH01 100000000001", "S0/2 void"]);
    expect(journal.arm(chipSale(3, 1, 300))).toBe(2);
  });
});

describe("what a cut left half-programmed is healed before it is believed (weak bits pinned)", () => {
  /** A sale (owed its A0 reversal when `owed`), then `call` cut inside its one program, its bits torn (emulator seed `seed`). */
  function tornInside(seed: number, owed: boolean, call: (journal: Journal, seq: number) => void): NorFlash {
    const flash = new NorFlash({ sectorCount: SECTOR_COUNT, blockSize: SECTOR_BYTES, seed });
    const journal = Journal.open(optionsFor(flash));
    const seq = journal.arm(chipSale(1, 1, 100));
    if (owed) journal.reversalDue(seq, "A0");
    flash.schedule({ atOperation: flash.operations, kind: "tornBits" });
    expect(() => call(journal, seq)).toThrow(PowerCut);
    flash.powerCycle();
    return flash;
  }
  const bytesAt = (flash: NorFlash, offset: number) => Array.from(new Uint8Array(flash.read(offset, 4)));

  test("a CLOSED marker that reads set is programmed to zero: the record stays closed at every later boot", () => {
    const flash = tornInside(1, false, (journal, seq) => journal.complete(seq));
    const marker = SLOT_BYTES + 0x70;
    expect(bytesAt(flash, marker)).toEqual([167, 42, 100, 245]);
    expect(flash.weakBitCount()).toBe(16);
    expect(Journal.open(optionsFor(flash)).stateOf(1)).toBe("closed");
    expect([bytesAt(flash, marker), flash.weakBitCount()]).toEqual([[0, 0, 0, 0], 0]);
  });

  test("an attempt bit that reads cleared is programmed again: the attempt counts at every later boot", () => {
    const flash = tornInside(2, true, (journal, seq) => journal.attempt(seq));
    const bitmap = 2 * SLOT_BYTES + 0x74; // the REVERSAL's first bitmap word
    expect([bytesAt(flash, bitmap), flash.weakBitCount()]).toEqual([[0xfe, 0xff, 0xff, 0xff], 1]);
    expect(view(Journal.open(optionsFor(flash))).owed).toEqual(["1 000001 A0 x1"]);
    expect([bytesAt(flash, bitmap), flash.weakBitCount()]).toEqual([[0xfe, 0xff, 0xff, 0xff], 0]);
  });
});

describe("damage recovery cannot undo is alarmed, never dropped silently", () => {
  /** Sales 1 (approved), 2 (closed), 3 (approved), then a boot: slot 4 is burned, so slot 3 is no torn tail. */
  function threeSales(): NorFlash {
    const flash = emptyFlash();
    const journal = Journal.open(optionsFor(flash));
    sale(journal, 1, "approved");
    sale(journal, 2, "closed");
    sale(journal, 3, "approved");
    Journal.open(optionsFor(flash));
    return flash;
  }

  test("a rotten record is damaged with its seq; its seq counts for the next record only when plausible", () => {
    const flash = edited(threeSales(), (image) => {
      image[2 * SLOT_BYTES + 7] ^= 0x40; // seq 2 reads 0x40000002: beyond any seq this partition gave
      image[3 * SLOT_BYTES + 20] ^= 0x01; // seq 3's amount
    });
    const journal = Journal.open(optionsFor(flash));
    expect(view(journal)).toEqual({
      alarms: ["damaged 1073741826 S0/2", "damaged 3 S0/3"],
      owed: [],
      approved: ["1 000001 AUTH01 100000000001"],
    });
    expect(imageStory(flash).slice(2, 4)).toEqual(["S0/2 unreadable", "S0/3 unreadable"]);
    expect(journal.arm(chipSale(4, 1, 400))).toBe(4);
  });

  test("the last slot written holding a stray write: voided as a torn tail, alarmed only when it starts like a record", () => {
    const stray = (first: number) =>
      edited(threeSales(), (image) => {
        image.fill(0x21, 5 * SLOT_BYTES, 5 * SLOT_BYTES + 40);
        image[5 * SLOT_BYTES] = first;
      });
    const near = stray(0x5b); // one bit from the record magic 5A: maybe the record of an append that never returned
    expect(view(Journal.open(optionsFor(near))).alarms).toEqual(["torn-tail S0/5"]);
    const far = stray(0x21);
    expect(view(Journal.open(optionsFor(far))).alarms).toEqual([]);
    for (const flash of [near, far]) expect(imageStory(flash).slice(4, 7)).toEqual(["S0/4 void", "S0/5 void", "S0/6 void"]);
  });

  test("a record copied whole to another slot is misplaced there, and the copy is not believed", () => {
    const flash = edited(threeSales(), (image) => image.copyWithin(2 * SLOT_BYTES, SLOT_BYTES, 2 * SLOT_BYTES));
    const journal = Journal.open(optionsFor(flash));
    expect(view(journal)).toEqual({
      alarms: ["misplaced 1 S0/2"],
      owed: [],
      approved: ["1 000001 AUTH01 100000000001", "3 000003 AUTH03 100000000003"],
    });
    expect(journal.arm(chipSale(4, 1, 400))).toBe(4);
  });
});

/**
 * Three sectors of sales, then one more that fills the partition: its arm rotates to the last sector, which leaves
 * no free one, so the sealed sector with the fewest live records (S1: a sale owed its reversal, and that REVERSAL)
 * is compacted into it.
 */
const LAYOUT: readonly (readonly Outcome[])[] = [
  ["approved", "approved", "approved", "closed", "closed", "closed", "closed"],
  ["closed", "owed", "closed", "closed", "closed", "closed"],
  ["approved", "approved", "approved", "closed", "closed", "closed", "closed"],
];
const OWED = ["9 000009 A0 x2 failed"];
const APPROVED = [1, 2, 3, 14, 15, 16].map(
  (stan, i) => `${[1, 2, 3, 15, 16, 17][i]} ${String(stan).padStart(6, "0")} AUTH${String(stan).padStart(2, "0")} ${100000000000 + stan}`,
);

function trade(journal: Journal, layout = LAYOUT): void {
  let stan = 1;
  for (const sector of layout) for (const outcome of sector) sale(journal, stan++, outcome);
  sale(journal, stan++, "closed");
  sale(journal, stan, "closed");
}

/** The trading day with `fault` at one operation; then the power comes back and the journal is opened. */
function tradeCut(fault: { atOperation: number; kind: FlashFaultKind }, layout = LAYOUT): { flash: NorFlash; journal: Journal } {
  const flash = emptyFlash();
  flash.schedule(fault);
  try {
    trade(Journal.open(optionsFor(flash)), layout);
  } catch (error) {
    if (!(error instanceof PowerCut)) throw error;
  }
  flash.powerCycle();
  return { flash, journal: Journal.open(optionsFor(flash)) };
}

/**
 * The other day: the fewest-live sealed sector is S0 with two approved sales (its arm rotates at operation 50, the
 * compaction copies seqs 1 and 3, body then approval group, at 54–57).
 */
const APPROVED_VICTIM: readonly (readonly Outcome[])[] = [
  ["approved", "closed", "approved", "closed", "closed", "closed", "closed"],
  ["approved", "approved", "approved", "closed", "closed", "closed", "closed"],
  ["approved", "approved", "approved", "closed", "closed", "closed", "closed"],
];
const APPROVED_2 = [1, 3, 8, 9, 10, 15, 16, 17].map(
  (seq) => `${seq} ${String(seq).padStart(6, "0")} AUTH${String(seq).padStart(2, "0")} ${100000000000 + seq}`,
);

const DAYS = [
  {
    name: "a sale owed its reversal, and that REVERSAL",
    layout: LAYOUT,
    operations: [51, 58],
    owed: OWED,
    approved: APPROVED,
    moved: ["txn 9 stan 000009 void", "reversal 10 of 9 A0 x2 failed"],
  },
  {
    name: "two approved sales",
    layout: APPROVED_VICTIM,
    operations: [50, 57],
    owed: [],
    approved: APPROVED_2,
    moved: ["txn 1 stan 000001 approved AUTH01 100000000001", "txn 3 stan 000003 approved AUTH03 100000000003"],
  },
];

describe.each(DAYS)("a compaction of $name cut at any of its flash operations", ({ layout, operations, owed, approved, moved }) => {
  const CUTS: { atOperation: number; kind: FlashFaultKind }[] = [];
  for (let atOperation = operations[0]; atOperation <= operations[1]; atOperation++)
    for (const kind of ["cutBefore", "cutInside", "cutAfter"] as const) CUTS.push({ atOperation, kind });

  test.each(CUTS)(
    "$kind operation $atOperation: every reversal owed and approval kept, each copy level, only the newest sector open",
    (fault) => {
      const { flash, journal } = tradeCut(fault, layout);
      const found = view(journal);
      expect([found.owed, found.approved]).toEqual([owed, approved]);
      // A copy cut in its body is a torn tail, in its approval group unreadable: both are said; nothing else is.
      expect(found.alarms.filter((alarm) => !alarm.startsWith("torn-tail") && !alarm.startsWith("approval-unreadable"))).toEqual([]);
      const story = imageStory(flash);
      // Every stored copy of a moved record carries its merged state.
      for (const line of moved) {
        const seq = line.split(" ")[1];
        const copies = story.filter((l) => new RegExp(`^S\\d/\\d (txn|reversal) ${seq} `).test(l)).map((l) => l.slice(5));
        expect(new Set(copies)).toEqual(new Set([line]));
      }
      const headers = story.filter((line) => /^S\d #/.test(line));
      const sectorSeq = (header: string) => Number(header.split(" ")[1].slice(1));
      const newest = headers.reduce((a, b) => (sectorSeq(b) > sectorSeq(a) ? b : a));
      for (const header of headers) expect([header, header.includes(" sealed")]).toEqual([header, header !== newest]);
      // Recovery is idempotent: a second boot sees the same; it only burns a slot and voids copies the first one left stale.
      const again = Journal.open(optionsFor(flash));
      expect(view(again)).toEqual({ alarms: [], owed, approved });
      const kept = new Set(story);
      expect(withoutVoids(imageStory(flash)).filter((line) => !kept.has(line))).toEqual([]);
    },
  );
});

describe("a compaction cut at one operation, the image after recovery", () => {
  test("the operations: erase, header, seal, RETIRING, then each record copied, body first, then its state", () => {
    const log = new OperationLog(emptyFlash());
    trade(Journal.open(optionsFor(log)));
    expect(log.operations.slice(51, 59)).toEqual([
      "51 erase S3",
      "52 write S3/0+0 60",
      "53 write S2/0+112 4",
      "54 write S1/0+116 4",
      "55 write S3/1+0 112",
      "56 write S3/2+0 112",
      "57 write S3/2+112 4",
      "58 write S3/2+116 12",
    ]);
    const other = new OperationLog(emptyFlash());
    trade(Journal.open(optionsFor(other)), APPROVED_VICTIM);
    expect(other.operations.slice(50, 58)).toEqual([
      "50 erase S3",
      "51 write S3/0+0 60",
      "52 write S2/0+112 4",
      "53 write S0/0+116 4",
      "54 write S3/1+0 112",
      "55 write S3/1+116 12",
      "56 write S3/2+0 112",
      "57 write S3/2+116 12",
    ]);
  });

  test("cut after the old sector is sealed, before RETIRING: recovery compacts S1 itself, the copies level with the merged state", () => {
    const { flash } = tradeCut({ atOperation: 53, kind: "cutAfter" });
    expect(imageStory(flash).filter((line) => line.startsWith("S1") || line.startsWith("S3"))).toEqual([
      "S1 #2 floor 9 erase 2 sealed retiring",
      "S1/1 txn 8 stan 000008 closed",
      "S1/2 txn 9 stan 000009 void",
      "S1/3 reversal 10 of 9 A0 x2 failed",
      "S1/4 txn 11 stan 000010 closed",
      "S1/5 txn 12 stan 000011 closed",
      "S1/6 txn 13 stan 000012 closed",
      "S1/7 txn 14 stan 000013 closed",
      "S3 #4 floor 23 erase 4",
      "S3/1 void",
      "S3/2 txn 9 stan 000009 void",
      "S3/3 reversal 10 of 9 A0 x2 failed",
    ]);
  });

  test("cut after the first copy: its stale original is voided, the REVERSAL is copied on after the burn", () => {
    const { flash } = tradeCut({ atOperation: 55, kind: "cutAfter" });
    expect(imageStory(flash).filter((line) => /^S[13]\/[1-4] /.test(line))).toEqual([
      "S1/1 txn 8 stan 000008 closed",
      "S1/2 void",
      "S1/3 reversal 10 of 9 A0 x2 failed",
      "S1/4 txn 11 stan 000010 closed",
      "S3/1 txn 9 stan 000009 void",
      "S3/2 void",
      "S3/3 reversal 10 of 9 A0 x2 failed",
    ]);
  });

  test("cut after the REVERSAL's body, before its 冲正失败 marker and attempt bits: the new copy is brought level, the old voided", () => {
    const { flash } = tradeCut({ atOperation: 56, kind: "cutAfter" });
    expect(imageStory(flash).filter((line) => /^S[13]\/[1-3] /.test(line))).toEqual([
      "S1/1 txn 8 stan 000008 closed",
      "S1/2 void",
      "S1/3 void",
      "S3/1 txn 9 stan 000009 void",
      "S3/2 reversal 10 of 9 A0 x2 failed",
      "S3/3 void",
    ]);
  });
  test("cut after an approved record's body, before its group: the copy gets the approval, the original is voided", () => {
    const { flash } = tradeCut({ atOperation: 54, kind: "cutAfter" }, APPROVED_VICTIM);
    expect(imageStory(flash).filter((line) => /^S[03]\/[1-4] /.test(line))).toEqual([
      "S0/1 void",
      "S0/2 txn 2 stan 000002 closed",
      "S0/3 txn 3 stan 000003 approved AUTH03 100000000003",
      "S0/4 txn 4 stan 000004 closed",
      "S3/1 txn 1 stan 000001 approved AUTH01 100000000001",
      "S3/2 void",
      "S3/3 txn 3 stan 000003 approved AUTH03 100000000003",
    ]);
  });

  test("cut inside an approved record's group: that copy is alarmed and voided, a fresh copy carries the approval", () => {
    const { flash, journal } = tradeCut({ atOperation: 55, kind: "cutInside" }, APPROVED_VICTIM);
    expect(journal.alarms).toEqual([{ kind: "approval-unreadable", seq: 1, sector: 3, slot: 1 }]);
    expect(imageStory(flash).filter((line) => /^S[03]\/[1-4] /.test(line))).toEqual([
      "S0/1 void",
      "S0/2 txn 2 stan 000002 closed",
      "S0/3 txn 3 stan 000003 approved AUTH03 100000000003",
      "S0/4 txn 4 stan 000004 closed",
      "S3/1 void",
      "S3/2 void",
      "S3/3 txn 1 stan 000001 approved AUTH01 100000000001",
      "S3/4 txn 3 stan 000003 approved AUTH03 100000000003",
    ]);
  });
});

describe("a sector whose header is no longer valid", () => {
  function traded(): NorFlash {
    const flash = emptyFlash();
    trade(Journal.open(optionsFor(flash)));
    return flash;
  }

  test("one bit from valid (rot): every record in it is alarmed as an orphan, and none of them is believed", () => {
    const flash = edited(traded(), (image) => (image[0] ^= 0x01));
    const journal = Journal.open(optionsFor(flash));
    expect(view(journal)).toEqual({
      alarms: [1, 2, 3, 4, 5, 6, 7].map((seq) => `orphan ${seq} S0/${seq}`),
      owed: OWED,
      approved: APPROVED.slice(3),
    });
    expect(imageStory(flash)[0]).toBe("S0 dirty");
  });

  test("one bit from valid, with a rotten record in it: that slot is an orphan too, with its seq", () => {
    const flash = edited(traded(), (image) => {
      image[0] ^= 0x01;
      image[4 * SLOT_BYTES + 20] ^= 0x01;
    });
    expect(view(Journal.open(optionsFor(flash))).alarms).toEqual([1, 2, 3, 4, 5, 6, 7].map((seq) => `orphan ${seq} S0/${seq}`));
  });

  test("two bits from valid (a torn erase, not rot): its whole records are orphans, a rotten one is not named", () => {
    const flash = edited(traded(), (image) => {
      image[0] ^= 0x03;
      image[4 * SLOT_BYTES + 20] ^= 0x01;
    });
    expect(view(Journal.open(optionsFor(flash))).alarms).toEqual([1, 2, 3, 5, 6, 7].map((seq) => `orphan ${seq} S0/${seq}`));
  });

  test("a torn erase (no header, no record): dirty, nothing alarmed, the records elsewhere kept", () => {
    const flash = edited(traded(), (image) => {
      for (let i = SECTOR_BYTES; i < 2 * SECTOR_BYTES; i++) image[i] &= (i * 37) & 0xff;
    });
    const journal = Journal.open(optionsFor(flash));
    expect(view(journal)).toEqual({ alarms: [], owed: OWED, approved: APPROVED });
    expect(imageStory(flash).filter((line) => line.startsWith("S1"))).toEqual(["S1 dirty"]);
  });
});

test("the newest sector found sealed (a stray write on its marker): recovery opens the next one before anything is appended", () => {
  const flash = emptyFlash();
  const journal = Journal.open(optionsFor(flash));
  for (let stan = 1; stan <= 9; stan++) sale(journal, stan, stan % 3 === 0 ? "approved" : "closed");
  const sealed = edited(flash, (image) => image.fill(0, SECTOR_BYTES + 0x70, SECTOR_BYTES + 0x74));
  const rebooted = Journal.open(optionsFor(sealed));
  expect(rebooted.arm(chipSale(10, 1, 1000))).toBe(10);
  expect(imageStory(sealed).slice(8)).toEqual([
    "S1 #2 floor 9 erase 2 sealed",
    "S1/1 txn 8 stan 000008 closed",
    "S1/2 txn 9 stan 000009 approved AUTH09 100000000009",
    "S1/3 void",
    "S2 #3 floor 10 erase 3",
    "S2/1 txn 10 stan 000010",
    "S3 no header",
  ]);
  expect(rebooted.alarms).toEqual([]);
});

test("a SETTLE is copied forward with its sector while approvals it settled are still stored elsewhere: they never come back", () => {
  const flash = emptyFlash();
  const journal = Journal.open(optionsFor(flash));
  sale(journal, 1, "approved");
  sale(journal, 2, "approved");
  sale(journal, 3, "owed"); // keeps S0, and with it approvals 1 and 2, from being erased
  for (let stan = 4; stan <= 6; stan++) sale(journal, stan, "closed");
  journal.settle("000001");
  // Batch 2: closed sales but two approvals; the SETTLE's sector is the fewest-live one at each compaction.
  for (let stan = 7; stan <= 30; stan++) {
    const seq = journal.arm(chipSale(stan, 2, stan));
    if (stan === 16 || stan === 17) journal.approve(seq, "AUTH00", String(100000000000 + stan));
    else journal.complete(seq);
  }
  const rebooted = Journal.open(optionsFor(flash));
  expect(view(rebooted)).toEqual({
    alarms: [],
    owed: ["3 000003 A0 x2 failed"],
    approved: ["18 000016 AUTH00 100000000016", "19 000017 AUTH00 100000000017"],
  });
  const story = imageStory(flash);
  // Approvals 1 and 2 are still on flash as approved: only the SETTLE, now in a sector erased since it was written, settles them.
  expect(story.filter((line) => line.startsWith("S0/1 ") || line.startsWith("S0/2 "))).toEqual([
    "S0/1 txn 1 stan 000001 approved AUTH01 100000000001",
    "S0/2 txn 2 stan 000002 approved AUTH02 100000000002",
  ]);
  expect(story.filter((line) => line.startsWith("S1"))).toContain("S1 #5 floor 29 erase 3");
  expect(story.filter((line) => line.includes(" settle "))).toEqual(["S1/1 settle 8 batch 000001"]);
});

describe("a SETTLE is live (kept, copied forward) only while an approval it settled is stored outside its own sector", () => {
  /** Runs `steps` on a fresh journal: `a`/`c`/`o` an approved/closed/owed sale of batch 1 (`A`/`C` of batch 2), `s` settles batch 1. */
  function liveRecords(steps: string): number {
    const journal = Journal.open(optionsFor(emptyFlash()));
    let stan = 1;
    for (const step of steps) {
      if (step === "s") journal.settle("000001");
      else if (step === "o") sale(journal, stan++, "owed");
      else {
        const seq = journal.arm(chipSale(stan, step === step.toUpperCase() ? 2 : 1, 100));
        if (step.toLowerCase() === "a") journal.approve(seq, "AUTH00", String(100000000000 + stan));
        else journal.complete(seq);
        stan++;
      }
    }
    return journal.counts().liveRecords;
  }
  // S0 holds slots 1–7: the eighth record opens S1.
  test.each([
    ["aaccccc s", 1, "the approvals in S0, the SETTLE in S1: the SETTLE is live, the settled approvals are not"],
    ["acccccc s", 1, "one approval: the same"],
    ["acccccs", 0, "the SETTLE in S0 beside them: nothing to keep"],
    ["occccc s", 2, "no approval of the batch outside: only the owed sale and its REVERSAL are live"],
    ["Acccccc s", 1, "the approval outside is of another batch: it is live, the SETTLE is not"],
    ["ccccccc sccccccca", 1, "the batch's approval outside is newer than the SETTLE: it is live and unsettled, the SETTLE is not"],
    ["acccccc ss", 1, "settled twice: only the newer SETTLE is live"],
    ["acccccc sc", 1, "a closed sale of the batch after the SETTLE does not end it"],
  ])("%s: %i live (%s)", (steps, live) => {
    expect(liveRecords(steps.replaceAll(" ", ""))).toBe(live);
  });
});

test("a reversal owed twice, its newer REVERSAL in a sector read before the older one's: the newer is the current one", () => {
  const flash = emptyFlash();
  const journal = Journal.open(optionsFor(flash));
  for (let stan = 1; stan <= 26; stan++) sale(journal, stan, "closed");
  const seq = journal.arm(chipSale(27, 1, 2700)); // S3/6, its first REVERSAL S3/7: S3 is full
  journal.reversalDue(seq, "98");
  journal.attempt(seq);
  journal.reversalDue(seq, "A0"); // rotates to S0, erased: the newer REVERSAL is read first at boot
  const rebooted = Journal.open(optionsFor(flash));
  expect(imageStory(flash).filter((line) => line.includes(" reversal "))).toEqual([
    "S0/1 reversal 29 of 27 A0 x1",
    "S3/7 reversal 28 of 27 98 x1",
  ]);
  expect(view(rebooted).owed).toEqual(["27 000027 A0 x1"]);
  expect(rebooted.attempt(seq)).toBe(2);
});

test("a boot with the newest sector full burns nothing (there is no slot left to burn); the next record opens the next sector", () => {
  const flash = emptyFlash();
  const journal = Journal.open(optionsFor(flash));
  for (let stan = 1; stan <= 7; stan++) sale(journal, stan, stan === 7 ? "approved" : "closed");
  const before = flashImage(flash);
  const rebooted = Journal.open(optionsFor(flash));
  expect(firstChange(flash, before)).toBe(-1);
  expect(rebooted.arm(chipSale(8, 1, 800))).toBe(8);
  expect(imageStory(flash).slice(7)).toEqual([
    "S0/7 txn 7 stan 000007 approved AUTH07 100000000007",
    "S1 #2 floor 9 erase 2",
    "S1/1 txn 8 stan 000008",
    "S2 no header",
    "S3 no header",
  ]);
});

test("a sale owed since a boot, copied forward by a later compaction: the copy's approval group is void too", () => {
  const flash = emptyFlash();
  Journal.open(optionsFor(flash)).arm(chipSale(1, 1, 100));
  const journal = Journal.open(optionsFor(flash)); // owed 98 since this boot: its group voided on flash
  for (let stan = 2; stan <= 22; stan++) sale(journal, stan, stan % 7 === 0 ? "approved" : "closed");
  // S0 held the fewest live records (only sale 1): compacted into S3 when the arm of sale 21 rotated there.
  expect(imageStory(flash).filter((line) => line.includes(" txn 1 "))).toEqual([
    "S0/1 txn 1 stan 000001 void",
    "S3/1 txn 1 stan 000001 void",
  ]);
  expect(view(journal).owed).toEqual(["1 000001 98 x0"]);
});
