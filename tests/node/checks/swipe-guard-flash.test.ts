/**
 * hosts/esp32/swipe-guard-flash.ts on a recording flash and a scripted card
 * slot: erases wait for the card to leave (bounded), programs only when the
 * strobe ISR is not IRAM-safe, reads never; the clock is a counter, so no
 * timing is asserted.
 */
import { SwipeGuardFlash, type SwipeGuardFlashOptions } from "../../../hosts/esp32/swipe-guard-flash";
import type { Flash } from "../../../modules/platform/flash";

interface Rig {
  readonly guard: SwipeGuardFlash;
  /** What happened, in order: slot polls while a card is in, flash operations, waits. */
  readonly log: string[];
}

/** `cardPolls`: how many polls report a card in the slot before it leaves (Infinity: it never does). */
function rig(cardPolls: number, options: Partial<SwipeGuardFlashOptions> = {}): Rig {
  const log: string[] = [];
  let polls = 0;
  let nowMs = 0;
  const flash: Flash = {
    blockSize: 4096,
    byteLength: 4096 * 18,
    erase: (sector) => void log.push(`erase ${sector}`),
    read: (offset, length) => {
      log.push(`read ${offset}+${length}`);
      return new ArrayBuffer(length);
    },
    write: (offset, length) => void log.push(`write ${offset}+${length}`),
  };
  const guard = new SwipeGuardFlash({
    flash,
    strobesExpected: () => polls++ < cardPolls,
    nowMs: () => (nowMs += 10),
    guardWrites: false,
    onWaited: (waitedMs, timedOut) => void log.push(`waited ${waitedMs} ${timedOut ? "timedOut" : "clear"}`),
    ...options,
  });
  return { guard, log };
}

describe("SwipeGuardFlash", () => {
  test("an erase with the slot empty goes straight through", () => {
    const { guard, log } = rig(0);
    guard.erase(3);
    expect(log).toEqual(["erase 3"]);
  });

  test("an erase waits until the card leaves the slot, then runs", () => {
    const { guard, log } = rig(5);
    guard.erase(7);
    expect(log).toEqual(["waited 40 clear", "erase 7"]);
  });

  test("a card left in the slot holds an erase for waitMsMax only, then the erase runs and says so", () => {
    const { guard, log } = rig(Infinity, { waitMsMax: 200 });
    guard.erase(1);
    expect(log).toEqual(["waited 200 timedOut", "erase 1"]);
  });

  test("a clock that does not move is bounded by pollsMax", () => {
    const { guard, log } = rig(Infinity, { nowMs: () => 0, pollsMax: 50 });
    guard.erase(2);
    expect(log).toEqual(["waited 0 timedOut", "erase 2"]);
  });

  test("programs wait only when the strobe ISR is not IRAM-safe; reads never wait", () => {
    const safe = rig(3);
    safe.guard.write(128, 32, new Uint8Array(32));
    expect(safe.log).toEqual(["write 128+32"]);
    const unsafe = rig(3, { guardWrites: true });
    unsafe.guard.write(128, 32, new Uint8Array(32));
    unsafe.guard.read(0, 16);
    expect(unsafe.log).toEqual(["waited 20 clear", "write 128+32", "read 0+16"]);
  });

  test("keeps the geometry of the flash it wraps", () => {
    const { guard } = rig(0);
    expect([guard.blockSize, guard.byteLength]).toEqual([4096, 4096 * 18]);
  });

  test("rejects a wait bound the task watchdog would not survive", () => {
    expect(() => rig(0, { waitMsMax: 10_000 })).toThrow("waitMsMax");
    expect(() => rig(0, { pollsMax: 0 })).toThrow("pollsMax");
  });
});
