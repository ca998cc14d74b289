/**
 * A power cut at every flash operation of a download and of its activation (the update record's saves,
 * the slot's erases and programs, the slot control record's saves), of every kind the NOR emulator
 * knows: the terminal always comes back on a valid image — the old one, or the new one on its trial
 * boot holding exactly the signed image — and finishes the update by itself, also right after a rollback
 * (never reporting a rollback of an image that never booted). In Node and in XS.
 */
import { bytesEqual } from "../../../modules/base/hex";
import { PowerCut, type FlashFaultKind } from "../../../modules/emulators/nor-flash";
import { BLOCK_BYTES, Device, TestSource, chip, imageOf } from "./rig";

/** Slot 1 starts after the update record (2), the control record (2) and slot 0 (10 sectors). */
const SLOT_1_OFFSET = 14 * BLOCK_BYTES;
const LIVES_MAX = 6;

async function cleanRunOperations(): Promise<number> {
  const flash = chip();
  const device = new Device(flash);
  device.updater.powerOn();
  await device.updater.check(new TestSource("v120"));
  expect(device.restarts).toBe(1);
  return flash.operations;
}

describe("updater: power cuts", () => {
  test.each<FlashFaultKind>(["cutBefore", "cutInside", "cutAfter", "tornBits"])(
    "a cut (%s) at every flash operation ends in a trial boot of the signed image",
    async (kind) => {
      const operations = await cleanRunOperations();
      expect(operations).toBeGreaterThan(20);
      for (let at = 0; at < operations; at++) {
        const flash = chip(at + 1);
        flash.schedule({ atOperation: at, kind });
        const first = new Device(flash);
        try {
          first.updater.powerOn();
          await first.updater.check(new TestSource("v120"));
        } catch (error) {
          if (!(error instanceof PowerCut)) throw error;
        }
        expect(flash.fired).toBeDefined();
        let trial: Device | undefined;
        for (let life = 0; life < LIVES_MAX && trial === undefined; life++) {
          flash.powerCycle();
          const device = new Device(flash);
          // Every life runs a valid image: the factory one or the new one on trial (its bytes checked below).
          expect(["1.0.0", "1.2.0"]).toContain(device.slots.running.version);
          if (!device.updater.powerOn()) continue; // an activation cut short is done again: restart
          if (device.updater.trial) trial = device;
          else await device.updater.check(new TestSource("v120"));
        }
        if (trial === undefined) throw new Error(`cut ${kind} at operation ${at}: no trial boot after ${LIVES_MAX} lives`);
        expect(trial.slots.running).toEqual({ version: "1.2.0", pendingVerification: true });
        const slot = new Uint8Array(flash.read(SLOT_1_OFFSET, 4100));
        expect(bytesEqual(slot, imageOf("v120"))).toBe(true);
        trial.updater.bootPassed();
        expect(trial.story).toEqual(["confirmed/1.2.0"]);
      }
    },
  );

  test.each<FlashFaultKind>(["cutInside", "tornBits"])(
    "a cut (%s) at every flash operation of the trial's confirm: 1.2.0 confirmed, or 1.0.0 with the rollback reported",
    async (kind) => {
      const outcomes = new Set<string>();
      for (let at = 0; ; at++) {
        const flash = chip(at + 1);
        const device = new Device(flash);
        device.updater.powerOn();
        await device.updater.check(new TestSource("v120"));
        const trial = new Device(flash);
        trial.updater.powerOn();
        const start = flash.operations;
        flash.schedule({ atOperation: start + at, kind });
        try {
          trial.updater.bootPassed();
        } catch (error) {
          if (!(error instanceof PowerCut)) throw error;
        }
        if (flash.fired === undefined) break; // past the last operation of the confirm
        flash.powerCycle();
        const after = new Device(flash);
        expect(after.updater.powerOn()).toBe(true);
        const outcome = `${after.slots.running.version} ${after.story.join(",")}`;
        expect(["1.2.0 confirmed/1.2.0", "1.2.0 ", "1.0.0 rolledBack/1.2.0/bootFailed"]).toContain(outcome);
        expect(after.slots.running.pendingVerification).toBe(false);
        outcomes.add(outcome);
      }
      expect(outcomes.size).toBeGreaterThan(1);
    },
  );
});

describe("updater: power cuts after a rollback", () => {
  /** 1.1.0 activated, its trial failed its self-test, 1.0.0 runs again and reported it: the slots remember the rollback. */
  function afterRollback(seed: number): ReturnType<typeof chip> {
    const flash = chip(seed);
    const device = new Device(flash);
    device.updater.powerOn();
    device.updater.check(new TestSource("v110"));
    const trial = new Device(flash);
    trial.updater.powerOn();
    trial.updater.bootFailed("selfTest");
    const back = new Device(flash);
    back.updater.powerOn();
    expect(back.story).toEqual(["rolledBack/1.1.0/selfTest"]);
    return flash;
  }

  test.each<FlashFaultKind>(["cutBefore", "cutInside", "cutAfter", "tornBits"])(
    "a cut (%s) at every flash operation of the next update (download and activation) ends in its trial, never in a rollback of it",
    (kind) => {
      const clean = afterRollback(1);
      const start = clean.operations;
      const run = new Device(clean);
      run.updater.powerOn();
      run.updater.check(new TestSource("v120"));
      expect(run.restarts).toBe(1);
      const operations = clean.operations - start;
      for (let at = 0; at < operations; at++) {
        const flash = afterRollback(at + 1);
        flash.schedule({ atOperation: flash.operations + at, kind });
        const first = new Device(flash);
        try {
          first.updater.powerOn();
          first.updater.check(new TestSource("v120"));
        } catch (error) {
          if (!(error instanceof PowerCut)) throw error;
        }
        expect(flash.fired).toBeDefined();
        const story = [...first.story];
        let trial: Device | undefined;
        for (let life = 0; life < LIVES_MAX && trial === undefined; life++) {
          flash.powerCycle();
          const device = new Device(flash);
          if (device.updater.powerOn()) {
            if (device.updater.trial) trial = device;
            else device.updater.check(new TestSource("v120"));
          }
          story.push(...device.story);
        }
        expect({ kind, at, story: story.filter((s) => s.startsWith("rolledBack")) }).toEqual({ kind, at, story: [] });
        if (trial === undefined) throw new Error(`cut ${kind} at operation ${at}: no trial boot after ${LIVES_MAX} lives`);
        expect(trial.slots.running).toEqual({ version: "1.2.0", pendingVerification: true });
      }
    },
  );
});
