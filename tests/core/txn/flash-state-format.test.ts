/**
 * The terminal state record against its document (docs/journal-format.md §11): the slot bytes as
 * written, the validity rules applied to slots crafted byte by byte, the writes a load makes to heal,
 * where saves land as a sector fills, and a chip that does not keep what is written or erased.
 */
import { crc32 } from "../../../modules/base/crc32";
import { NorFlash } from "../../../modules/emulators/nor-flash";
import type { Flash } from "../../../modules/platform/flash";
import { FlashStateStore, StateWriteError } from "../../../modules/txn/flash-state";
import type { TerminalState } from "../../../modules/txn/ports";

const BLOCK = 512;
const SLOT = 32;
const SLOTS_PER_SECTOR = BLOCK / SLOT;
const state = (stanNext: number, extra: Partial<TerminalState> = {}): TerminalState => ({
  stanNext,
  batch: "000007",
  signedOn: true,
  ...extra,
});

/** Logs every erase and write the store makes; can lose 32-byte programs and leave erases dirty. */
class RecordingFlash implements Flash {
  readonly blockSize: number;
  readonly byteLength: number;
  readonly log: string[] = [];
  /** A 32-byte program at this offset is lost (the bytes stay as they were). */
  loseProgram: (offset: number) => boolean = () => false;
  /** After this erase the sector's last byte reads 7F. */
  dirtyErase: (sector: number) => boolean = () => false;

  constructor(readonly chip: NorFlash) {
    this.blockSize = chip.blockSize;
    this.byteLength = chip.byteLength;
  }

  erase(sector: number): void {
    this.log.push(`erase ${sector}`);
    this.chip.erase(sector);
    if (this.dirtyErase(sector)) this.chip.write((sector + 1) * this.blockSize - 1, 1, Uint8Array.of(0x7f));
  }

  read(offset: number, length: number): ArrayBuffer {
    return this.chip.read(offset, length);
  }

  write(offset: number, length: number, bytes: Uint8Array): void {
    this.log.push(`write ${offset}+${length}`);
    if (length === SLOT && this.loseProgram(offset)) return;
    this.chip.write(offset, length, bytes);
  }

  slot(sector: number, slot: number): number[] {
    return Array.from(new Uint8Array(this.chip.read(sector * BLOCK + slot * SLOT, SLOT)));
  }
}

function recording(image?: Uint8Array): RecordingFlash {
  return new RecordingFlash(new NorFlash({ sectorCount: 2, blockSize: BLOCK, seed: 5, image }));
}

function thrownBy(action: () => void): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}

const u32 = (value: number): number[] => [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
const ff = (count: number): number[] => new Array<number>(count).fill(0xff);

function withCrc(bytes28: number[]): number[] {
  expect(bytes28).toHaveLength(28);
  return [...bytes28, ...u32(crc32(Uint8Array.from(bytes28)))];
}

interface CraftedState {
  readonly seq: number;
  readonly stanNext?: number;
  readonly magic?: number[];
  readonly batch?: number[];
  readonly flags?: number;
  readonly settling?: number[];
  readonly next?: number[];
  readonly set?: { readonly firstSeq: number; readonly length: number };
}

/** A state slot built from the document's table (not from the code). */
function stateSlot(c: CraftedState): number[] {
  const flags = c.flags ?? 1;
  return withCrc([
    ...(c.magic ?? [0x58, 0x53, 0x54, 0x31]),
    ...u32(c.seq),
    ...u32(c.stanNext ?? 100 + c.seq),
    ...(c.batch ?? [0x00, 0x00, 0x07]),
    flags,
    ...(c.settling ?? ff(3)),
    ...(c.next ?? ff(2)),
    ...(c.set === undefined ? ff(5) : [...u32(c.set.firstSeq), c.set.length]),
    ...ff(2),
  ]);
}

/** Parameter slot `index` of a `length`-byte block whose bytes are `fill`. */
function parameterSlot(seq: number, index: number, length: number, fill: number): number[] {
  const bytes = Math.min(18, length - 18 * index);
  return withCrc([0x58, 0x53, 0x50, 0x31, ...u32(seq), index, length, ...new Array<number>(bytes).fill(fill), ...ff(18 - bytes)]);
}

/** A region image holding `slots` in sector `sector` from slot 0 (undefined: a blank slot). */
function image(slots: readonly (number[] | undefined)[], sector = 0): Uint8Array {
  const bytes = new Uint8Array(2 * BLOCK).fill(0xff);
  slots.forEach((slot, i) => {
    if (slot !== undefined) bytes.set(slot, sector * BLOCK + i * SLOT);
  });
  return bytes;
}

describe("the state slot's bytes are the document's", () => {
  test("every field of a state with a settlement in its end phase", () => {
    const flash = recording();
    const store = new FlashStateStore(flash);
    store.load();
    const saved = state(123_456, { batch: "123456", settlement: { batch: "654321", phase: "end", next: 0x0102 } });
    store.save(saved);
    expect(flash.slot(0, 0)).toEqual(
      stateSlot({
        seq: 1,
        stanNext: 123_456,
        batch: [0x12, 0x34, 0x56],
        flags: 1 | 2 | 4,
        settling: [0x65, 0x43, 0x21],
        next: [0x02, 0x01],
      }),
    );
    expect(new FlashStateStore(flash).load()).toStrictEqual(saved);
  });

  test("a state signed off in its upload phase, and one with no settlement (no settlement key comes back)", () => {
    const flash = recording();
    const store = new FlashStateStore(flash);
    store.load();
    const uploading = state(1, { batch: "000102", signedOn: false, settlement: { batch: "000101", phase: "upload", next: 0 } });
    store.save(uploading);
    expect(flash.slot(0, 0)).toEqual(
      stateSlot({ seq: 1, stanNext: 1, batch: [0x00, 0x01, 0x02], flags: 2, settling: [0x00, 0x01, 0x01], next: [0, 0] }),
    );
    expect(new FlashStateStore(flash).load()).toStrictEqual(uploading);
    const plain = state(999_999, { batch: "999999" });
    const other = recording();
    const second = new FlashStateStore(other);
    second.load();
    second.save(plain);
    expect(other.slot(0, 0)).toEqual(stateSlot({ seq: 1, stanNext: 999_999, batch: [0x99, 0x99, 0x99] }));
    expect(new FlashStateStore(other).load()).toStrictEqual(plain);
  });

  test("a parameter block goes in 18-byte parameter slots before the state slot that names it", () => {
    const flash = recording();
    const store = new FlashStateStore(flash);
    store.load();
    const block = new Uint8Array(20).fill(0x33);
    store.save(state(5, { parameters: block }));
    expect(flash.slot(0, 0)).toEqual(parameterSlot(1, 0, 20, 0x33));
    expect(flash.slot(0, 1)).toEqual(parameterSlot(2, 1, 20, 0x33));
    expect(flash.slot(0, 2)).toEqual(stateSlot({ seq: 3, stanNext: 5, flags: 1 | 8, set: { firstSeq: 1, length: 20 } }));
  });

  test("the edges of every field are stored; values beyond them are refused before anything is written", () => {
    const flash = recording();
    let store = new FlashStateStore(flash);
    store.load();
    const edges = [
      state(999_999, { settlement: { batch: "000000", phase: "upload", next: 0xffff } }),
      state(1, { parameters: Uint8Array.of(0xab) }),
      state(2, { parameters: new Uint8Array(128).fill(0x5c) }),
    ];
    for (const edge of edges) {
      store.save(edge);
      store = new FlashStateStore(flash); // a load heals and burns: the store that loaded writes on
      expect(store.load()).toStrictEqual(edge);
    }
    const writes = flash.log.length;
    expect(() => store.save(state(1_000_000))).toThrow("stanNext out of range");
    expect(() => store.save(state(1.5))).toThrow("stanNext out of range");
    expect(() => store.save(state(3, { settlement: { batch: "000007", phase: "upload", next: 0x10000 } }))).toThrow(
      "upload index out of range",
    );
    expect(() => store.save(state(3, { settlement: { batch: "000007", phase: "upload", next: -1 } }))).toThrow("upload index out of range");
    expect(() => store.save(state(3, { settlement: { batch: "000007", phase: "upload", next: 2.5 } }))).toThrow(
      "upload index out of range",
    );
    expect(() => store.save(state(3, { batch: "0000071" }))).toThrow("6 digits");
    expect(() => store.save(state(3, { batch: "x00007" }))).toThrow("6 digits");
    expect(() => store.save(state(3, { batch: "00007x" }))).toThrow("6 digits");
    expect(() => store.save(state(3, { parameters: new Uint8Array(0) }))).toThrow("1..128");
    expect(flash.log.length).toBe(writes);
  });
});

describe("load believes only valid slots", () => {
  const older = stateSlot({ seq: 1, stanNext: 41 });
  const broken: [string, number[]][] = [
    ["another magic", stateSlot({ seq: 2, magic: [0x58, 0x53, 0x54, 0x32] })],
    ["a parameter slot's magic", stateSlot({ seq: 2, magic: [0x58, 0x53, 0x50, 0x31] })],
    ["a bad CRC", [...stateSlot({ seq: 2 }).slice(0, 28), 0, 0, 0, 0]],
    ["STAN 0", stateSlot({ seq: 2, stanNext: 0 })],
    ["STAN 1000000", stateSlot({ seq: 2, stanNext: 1_000_000 })],
    ["a batch digit A in the high nibble", stateSlot({ seq: 2, batch: [0x00, 0xa0, 0x07] })],
    ["a batch digit A in the low nibble", stateSlot({ seq: 2, batch: [0x00, 0x00, 0x0a] })],
    ["a settling batch that is not BCD", stateSlot({ seq: 2, flags: 1 | 2, settling: [0x00, 0x0f, 0x00], next: [0, 0] })],
    ["a parameter block of 0 bytes", stateSlot({ seq: 9, flags: 1 | 8, set: { firstSeq: 1, length: 0 } })],
    ["a parameter block of 129 bytes", stateSlot({ seq: 20, flags: 1 | 8, set: { firstSeq: 1, length: 129 } })],
    ["a parameter set that does not fit before its own seq", stateSlot({ seq: 3, flags: 1 | 8, set: { firstSeq: 2, length: 20 } })],
  ];

  test.each(broken)("a newer slot with %s is not believed: the older state loads", (_, slot) => {
    expect(new FlashStateStore(recording(image([older, slot]))).load()).toStrictEqual(state(41));
  });

  test("the same slots without the fault are believed (the crafting is right)", () => {
    expect(new FlashStateStore(recording(image([older, stateSlot({ seq: 2, stanNext: 999_999 })]))).load()).toStrictEqual(state(999_999));
    const set = [
      parameterSlot(2, 0, 20, 7),
      parameterSlot(3, 1, 20, 7),
      stateSlot({ seq: 4, stanNext: 8, flags: 1 | 8, set: { firstSeq: 2, length: 20 } }),
    ];
    expect(new FlashStateStore(recording(image([older, ...set]))).load()).toStrictEqual(
      state(8, { parameters: new Uint8Array(20).fill(7) }),
    );
  });

  test("the newest valid slot of either sector wins", () => {
    const bytes = image([stateSlot({ seq: 7, stanNext: 70 })]);
    bytes.set(stateSlot({ seq: 6, stanNext: 60 }), BLOCK);
    expect(new FlashStateStore(recording(bytes)).load()).toStrictEqual(state(70));
    const reversed = image([stateSlot({ seq: 6, stanNext: 60 })]);
    reversed.set(stateSlot({ seq: 7, stanNext: 70 }), BLOCK);
    expect(new FlashStateStore(recording(reversed)).load()).toStrictEqual(state(70));
  });

  const stateWithSet = (second: number[] | undefined) => [
    parameterSlot(1, 0, 20, 7),
    second,
    stateSlot({ seq: 3, stanNext: 8, flags: 1 | 8, set: { firstSeq: 1, length: 20 } }),
  ];
  test.each([
    ["missing", undefined],
    ["with another index", parameterSlot(2, 0, 20, 7)],
    ["with another block length", parameterSlot(2, 1, 21, 7)],
    ["with a bad CRC", [...parameterSlot(2, 1, 20, 7).slice(0, 28), 0, 0, 0, 0]],
  ])("a state whose parameter slot is %s loads without a block (the provisioned parameters apply)", (_, second) => {
    expect(new FlashStateStore(recording(image(stateWithSet(second)))).load()).toStrictEqual(state(8));
  });
});

describe("load heals before anything is believed", () => {
  test("a blank region: nothing written, nothing loaded", () => {
    const flash = recording();
    expect(new FlashStateStore(flash).load()).toBeUndefined();
    expect(flash.log).toEqual([]);
  });

  test("the newest slot is programmed again with what was read, the next slot is burned, and saves go after it", () => {
    const flash = recording(image([stateSlot({ seq: 1 }), stateSlot({ seq: 2 })]));
    const store = new FlashStateStore(flash);
    expect(store.load()).toStrictEqual(state(102));
    expect(flash.log).toEqual(["write 32+32", "write 64+4"]);
    expect(flash.slot(0, 2)).toEqual([0, 0, 0, 0, ...ff(28)]);
    store.save(state(103));
    expect(flash.log.slice(2)).toEqual(["write 96+32"]);
    expect(flash.slot(0, 3)).toEqual(stateSlot({ seq: 3, stanNext: 103 }));
  });

  test("a torn append after the newest is voided; one already void is left alone", () => {
    const torn = [0x58, 0x53, 0x54, 0x31, 0x03, ...ff(27)];
    const tornFlash = recording(image([stateSlot({ seq: 1 }), stateSlot({ seq: 2 }), torn]));
    expect(new FlashStateStore(tornFlash).load()).toStrictEqual(state(102));
    expect(tornFlash.log).toEqual(["write 64+4", "write 32+32", "write 96+4"]);
    const voided = [0, 0, 0, 0, 0x03, ...ff(27)];
    const voidFlash = recording(image([stateSlot({ seq: 1 }), stateSlot({ seq: 2 }), voided]));
    expect(new FlashStateStore(voidFlash).load()).toStrictEqual(state(102));
    expect(voidFlash.log).toEqual(["write 32+32", "write 96+4"]);
  });

  test.each([[[0x12, 0, 0, 0]], [[0, 0x12, 0, 0]], [[0, 0, 0x12, 0]], [[0, 0, 0, 0x12]]])(
    "a tail starting %j is not void: it is voided",
    (start) => {
      const flash = recording(image([stateSlot({ seq: 1 }), [...start, ...ff(28)]]));
      new FlashStateStore(flash).load();
      expect(flash.log).toEqual(["write 32+4", "write 0+32", "write 64+4"]);
      expect(flash.slot(0, 1).slice(0, 4)).toEqual([0, 0, 0, 0]);
    },
  );

  test("a full sector: nothing burned, and the next save erases the other sector", () => {
    const slots = Array.from({ length: SLOTS_PER_SECTOR }, (_, i) => stateSlot({ seq: i + 1 }));
    const flash = recording(image(slots));
    const store = new FlashStateStore(flash);
    expect(store.load()).toStrictEqual(state(100 + SLOTS_PER_SECTOR));
    expect(flash.log).toEqual([`write ${(SLOTS_PER_SECTOR - 1) * SLOT}+32`]);
    store.save(state(1));
    expect(flash.log.slice(1)).toEqual(["erase 1", `write ${BLOCK}+32`]);
    expect(flash.slot(1, 0)).toEqual(stateSlot({ seq: SLOTS_PER_SECTOR + 1, stanNext: 1 }));
  });

  test("seqs go on after the highest valid slot of either kind, an uncommitted parameter slot included", () => {
    const flash = recording(image([stateSlot({ seq: 1 }), parameterSlot(9, 0, 20, 7)]));
    const store = new FlashStateStore(flash);
    expect(store.load()).toStrictEqual(state(101));
    store.save(state(102));
    expect(flash.slot(0, 3)).toEqual(stateSlot({ seq: 10, stanNext: 102 }));
    const garbage = recording(image([stateSlot({ seq: 1 }), [...parameterSlot(9, 0, 20, 7).slice(0, 28), 0, 0, 0, 0]]));
    const second = new FlashStateStore(garbage);
    second.load();
    second.save(state(102));
    expect(garbage.slot(0, 3)).toEqual(stateSlot({ seq: 2, stanNext: 102 }));
  });

  test("a region of garbage with no valid slot loads nothing, and the first save starts on a freshly erased sector 0", () => {
    const bytes = Uint8Array.from({ length: 2 * BLOCK }, (_, i) => (i * 37) & 0x7f);
    const flash = recording(bytes);
    const store = new FlashStateStore(flash);
    expect(store.load()).toBeUndefined();
    store.save(state(1));
    expect(flash.log).toEqual(["erase 0", "write 0+32"]);
    expect(new FlashStateStore(flash).load()).toStrictEqual(state(1));
  });
});

describe("saves fill a sector to its last slot", () => {
  test(`${SLOTS_PER_SECTOR} saves stay in sector 0; the next one erases sector 1`, () => {
    const flash = recording();
    const store = new FlashStateStore(flash);
    store.load();
    for (let stan = 1; stan <= SLOTS_PER_SECTOR; stan++) store.save(state(stan));
    expect(flash.chip.eraseCounts()).toEqual([1, 0]);
    store.save(state(SLOTS_PER_SECTOR + 1));
    expect(flash.chip.eraseCounts()).toEqual([1, 1]);
    expect(new FlashStateStore(flash).load()).toStrictEqual(state(SLOTS_PER_SECTOR + 1));
  });

  test("a set and its state that just fit go in; one slot more and a fresh sector takes them, without a partial set first", () => {
    const block = new Uint8Array(20).fill(4); // two parameter slots
    const flash = recording();
    const store = new FlashStateStore(flash);
    store.load();
    for (let stan = 1; stan <= SLOTS_PER_SECTOR - 3; stan++) store.save(state(stan));
    flash.log.length = 0;
    store.save(state(50, { parameters: block }));
    expect(flash.log).toEqual([`write ${13 * SLOT}+32`, `write ${14 * SLOT}+32`, `write ${15 * SLOT}+32`]);
    expect(new FlashStateStore(flash).load()).toStrictEqual(state(50, { parameters: block }));

    const tight = recording();
    const second = new FlashStateStore(tight);
    second.load();
    for (let stan = 1; stan <= SLOTS_PER_SECTOR - 2; stan++) second.save(state(stan));
    tight.log.length = 0;
    second.save(state(50, { parameters: block }));
    expect(tight.log).toEqual(["erase 1", `write ${BLOCK}+32`, `write ${BLOCK + SLOT}+32`, `write ${BLOCK + 2 * SLOT}+32`]);
    expect(new FlashStateStore(tight).load()).toStrictEqual(state(50, { parameters: block }));
  });

  test("the store keeps its own copy of a block: a caller changing its array afterwards changes nothing stored", () => {
    const flash = recording();
    const store = new FlashStateStore(flash);
    store.load();
    const block = Uint8Array.of(1, 2, 3);
    store.save(state(1, { parameters: block }));
    block[0] = 9;
    store.save(state(2, { parameters: block }));
    expect(new FlashStateStore(flash).load()).toStrictEqual(state(2, { parameters: Uint8Array.of(9, 2, 3) }));
  });

  test("a block that grows by a byte is a new block", () => {
    const flash = recording();
    const store = new FlashStateStore(flash);
    store.load();
    store.save(state(1, { parameters: Uint8Array.of(1, 2, 3) }));
    store.save(state(2, { parameters: Uint8Array.of(1, 2, 3, 4) }));
    expect(new FlashStateStore(flash).load()).toStrictEqual(state(2, { parameters: Uint8Array.of(1, 2, 3, 4) }));
  });
});

describe("a chip that does not keep what is written or erased", () => {
  test("a slot that does not read back is voided and the next slot is taken", () => {
    const flash = recording();
    const store = new FlashStateStore(flash);
    store.load();
    store.save(state(1));
    flash.loseProgram = (offset) => offset === SLOT;
    flash.log.length = 0;
    store.save(state(2));
    expect(flash.log).toEqual(["write 32+32", "write 32+4", "write 64+32"]);
    expect(new FlashStateStore(flash).load()).toStrictEqual(state(2));
  });

  test("two failed slots are survived; a third stops the terminal with a StateWriteError, and no other sector is tried", () => {
    const survived = recording();
    const store = new FlashStateStore(survived);
    store.load();
    let lost = 0;
    survived.loseProgram = () => ++lost <= 2;
    store.save(state(1));
    expect(survived.log).toEqual(["erase 0", "write 0+32", "write 0+4", "write 32+32", "write 32+4", "write 64+32"]);
    expect(new FlashStateStore(survived).load()).toStrictEqual(state(1));

    // The chip dies once sector 0 is full: the error names sector 1, where the tries were made.
    const dead = recording();
    const stopped = new FlashStateStore(dead);
    stopped.load();
    for (let stan = 1; stan <= SLOTS_PER_SECTOR; stan++) stopped.save(state(stan));
    dead.loseProgram = () => true;
    dead.log.length = 0;
    const error = thrownBy(() => stopped.save(state(99)));
    expect(error).toBeInstanceOf(StateWriteError);
    expect(error).toMatchObject({
      name: "StateWriteError",
      offset: BLOCK,
      message: "the terminal state region does not keep what is written",
    });
    const slot = (n: number) => BLOCK + n * SLOT;
    expect(dead.log).toEqual([
      "erase 1",
      `write ${slot(0)}+32`,
      `write ${slot(0)}+4`,
      `write ${slot(1)}+32`,
      `write ${slot(1)}+4`,
      `write ${slot(2)}+32`,
      `write ${slot(2)}+4`,
    ]);
    expect(new FlashStateStore(dead).load()).toStrictEqual(state(SLOTS_PER_SECTOR));
  });

  test("the last slot of a sector failing sends the state to a fresh sector", () => {
    const flash = recording();
    const store = new FlashStateStore(flash);
    store.load();
    for (let stan = 1; stan < SLOTS_PER_SECTOR; stan++) store.save(state(stan));
    flash.loseProgram = (offset) => offset === (SLOTS_PER_SECTOR - 1) * SLOT;
    flash.log.length = 0;
    store.save(state(99));
    const last = (SLOTS_PER_SECTOR - 1) * SLOT;
    expect(flash.log).toEqual([`write ${last}+32`, `write ${last}+4`, "erase 1", `write ${BLOCK}+32`]);
    expect(new FlashStateStore(flash).load()).toStrictEqual(state(99));
  });

  test("an erase that leaves a byte programmed is tried again; three that do stop the terminal", () => {
    const flash = recording();
    const store = new FlashStateStore(flash);
    store.load();
    let dirty = 0;
    flash.dirtyErase = () => ++dirty <= 2;
    store.save(state(1));
    expect(flash.log).toEqual(["erase 0", "erase 0", "erase 0", "write 0+32"]);

    const dead = recording();
    const stopped = new FlashStateStore(dead);
    stopped.load();
    for (let stan = 1; stan <= SLOTS_PER_SECTOR; stan++) stopped.save(state(stan));
    dead.dirtyErase = () => true;
    dead.log.length = 0;
    expect(thrownBy(() => stopped.save(state(99)))).toMatchObject({
      name: "StateWriteError",
      offset: BLOCK,
      message: "state sector 1 does not erase",
    });
    expect(dead.log).toEqual(["erase 1", "erase 1", "erase 1"]);
    expect(new FlashStateStore(dead).load()).toStrictEqual(state(SLOTS_PER_SECTOR));
  });

  test("a region that is not two sectors of whole slots is a wiring bug", () => {
    const chip = new NorFlash({ sectorCount: 3, blockSize: BLOCK, seed: 1 });
    expect(() => new FlashStateStore(chip)).toThrow("FlashStateStore: the region is two sectors");
    const odd: Flash = {
      blockSize: 200,
      byteLength: 400,
      erase: () => undefined,
      read: (_, length) => new ArrayBuffer(length),
      write: () => undefined,
    };
    expect(() => new FlashStateStore(odd)).toThrow("FlashStateStore: sectors hold whole slots");
  });
});
