// The terminal state record on flash: round trip, sector switch, and a torn save at every flash operation.
import { NorFlash, PowerCut } from "../../../modules/emulators/nor-flash";
import { FlashStateStore } from "../../../modules/txn/flash-state";
import type { TerminalState } from "../../../modules/txn/ports";

const BLOCK = 512;
const state = (stanNext: number, extra: Partial<TerminalState> = {}): TerminalState => ({
  stanNext,
  batch: "000007",
  signedOn: true,
  ...extra,
});

function fresh(seed = 1): NorFlash {
  return new NorFlash({ sectorCount: 2, blockSize: BLOCK, seed });
}

describe("FlashStateStore", () => {
  test("a blank region has no state; a saved state loads back, settlement progress included", () => {
    const flash = fresh();
    const store = new FlashStateStore(flash);
    expect(store.load()).toBeUndefined();
    const saved = state(42, { settlement: { batch: "000007", phase: "upload", next: 3 } });
    store.save(saved);
    expect(new FlashStateStore(flash).load()).toEqual(saved);
  });

  test("many saves switch sectors and the newest always wins", () => {
    const flash = fresh();
    const store = new FlashStateStore(flash);
    store.load();
    for (let stan = 1; stan <= 100; stan++) store.save(state(stan, { signedOn: stan % 2 === 0 }));
    expect(new FlashStateStore(flash).load()).toEqual(state(100, { signedOn: true }));
    expect(flash.eraseCounts().reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(6);
  });

  test("rejects a state it cannot store", () => {
    const store = new FlashStateStore(fresh());
    expect(() => store.save(state(1))).toThrow("before load");
    store.load();
    expect(() => store.save(state(0))).toThrow("stanNext");
    expect(() => store.save({ stanNext: 1, batch: "12", signedOn: false })).toThrow("6 digits");
  });

  test("a cut torn into any operation of a save leaves the previous or the new state, never older, never garbage", () => {
    const counted = fresh();
    const counter = new FlashStateStore(counted);
    counter.load();
    for (let stan = 1; stan <= 40; stan++) counter.save(state(stan));
    const operations = counted.operations;
    // 40 saves on 2 sectors erase and program both more than once: every one of those operations is cut below.
    expect(operations).toBeGreaterThan(40);
    for (let op = 0; op < operations; op++) {
      const flash = fresh(op + 1);
      const store = new FlashStateStore(flash);
      store.load();
      let lastDone = 0;
      flash.schedule({ atOperation: op, kind: op % 2 === 0 ? "cutInside" : "tornBits" });
      try {
        for (let stan = 1; stan <= 40; stan++) {
          store.save(state(stan));
          lastDone = stan;
        }
      } catch (error) {
        expect(error).toBeInstanceOf(PowerCut);
      }
      expect(flash.fired).toMatchObject({ operationIndex: op });
      for (let boot = 0; boot < 4; boot++) {
        flash.powerCycle();
        let loaded: TerminalState | undefined;
        try {
          loaded = new FlashStateStore(flash).load();
        } catch (error) {
          expect(error).toBeInstanceOf(PowerCut); // the cut fell into a boot's healing writes: boot again
          continue;
        }
        if (lastDone === 0) expect(loaded === undefined || loaded.stanNext === 1).toBe(true);
        else expect([lastDone, lastDone + 1]).toContain(loaded!.stanNext);
        if (loaded !== undefined) lastDone = loaded.stanNext;
      }
    }
  });

  test("a parameter block rides with the state: written once, loaded back, replaced, cleared, kept across sector switches", () => {
    const flash = fresh();
    let store = new FlashStateStore(flash);
    store.load();
    const block = Uint8Array.from({ length: 100 }, (_, i) => i + 1);
    // A load heals and burns slots: the store that loaded is the one that goes on writing.
    const reload = () => {
      store = new FlashStateStore(flash);
      return store.load();
    };
    store.save(state(1, { parameters: block }));
    const opsAfterFirst = flash.operations;
    store.save(state(2, { parameters: block.slice() }));
    expect(flash.operations - opsAfterFirst).toBe(1); // the same block: only the state slot
    expect(reload()).toEqual(state(2, { parameters: block }));
    const other = Uint8Array.of(9, 8, 7);
    for (let stan = 3; stan <= 80; stan++) store.save(state(stan, { parameters: stan < 50 ? block : other }));
    expect(flash.eraseCounts().reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(4);
    expect(reload()).toEqual(state(80, { parameters: other }));
    store.save(state(81));
    expect(reload()).toEqual(state(81));
    expect(() => store.save(state(82, { parameters: new Uint8Array(129) }))).toThrow("1..128");
  });

  test("a cut at any operation while blocks change leaves a state with its own block, never a mix", () => {
    const blockOf = (stan: number) =>
      stan < 10 ? undefined : Uint8Array.from({ length: 20 + (stan % 7) * 15 }, (_, i) => (stan * 31 + i) & 0xff);
    const saves = 30;
    const counted = fresh();
    const counter = new FlashStateStore(counted);
    counter.load();
    for (let stan = 1; stan <= saves; stan++) counter.save(state(stan, { parameters: blockOf(Math.floor(stan / 3) * 3) }));
    const operations = counted.operations;
    for (let op = 0; op < operations; op++) {
      const flash = fresh(op + 7);
      const store = new FlashStateStore(flash);
      store.load();
      let lastDone = 0;
      flash.schedule({ atOperation: op, kind: op % 2 === 0 ? "cutInside" : "tornBits" });
      try {
        for (let stan = 1; stan <= saves; stan++) {
          store.save(state(stan, { parameters: blockOf(Math.floor(stan / 3) * 3) }));
          lastDone = stan;
        }
      } catch (error) {
        expect(error).toBeInstanceOf(PowerCut);
      }
      for (let boot = 0; boot < 3; boot++) {
        flash.powerCycle();
        let loaded: TerminalState | undefined;
        try {
          loaded = new FlashStateStore(flash).load();
        } catch (error) {
          expect(error).toBeInstanceOf(PowerCut);
          continue;
        }
        if (loaded === undefined) {
          expect(lastDone).toBe(0);
          continue;
        }
        expect([lastDone, lastDone + 1]).toContain(loaded.stanNext);
        const expected = blockOf(Math.floor(loaded.stanNext / 3) * 3);
        expect(loaded.parameters === undefined ? undefined : Array.from(loaded.parameters)).toEqual(expected && Array.from(expected));
        lastDone = loaded.stanNext;
      }
    }
  });
});
