import { VirtualClock } from "../../../modules/platform/virtual-clock";

describe("VirtualClock", () => {
  test("fires timers in due order, ties in scheduling order", () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.schedule(20, () => fired.push("b@20"));
    clock.schedule(10, () => fired.push("a@10"));
    clock.schedule(20, () => fired.push("c@20"));
    expect(clock.advance(15)).toBe(1);
    expect(fired).toEqual(["a@10"]);
    expect(clock.nowMs()).toBe(15);
    clock.advance(5);
    expect(fired).toEqual(["a@10", "b@20", "c@20"]);
  });

  test("a timer sees the clock at its due time", () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    clock.schedule(7, () => seen.push(clock.nowMs()));
    clock.advance(100);
    expect(seen).toEqual([7]);
    expect(clock.nowMs()).toBe(100);
  });

  test("cancel stops a pending timer and ignores a fired one", () => {
    const clock = new VirtualClock();
    let count = 0;
    const handle = clock.schedule(5, () => count++);
    clock.cancel(handle);
    clock.advance(10);
    expect(count).toBe(0);
    const fired = clock.schedule(1, () => count++);
    clock.advance(1);
    clock.cancel(fired);
    expect(count).toBe(1);
  });

  test("timers scheduled by timers run within the same advance", () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    clock.schedule(1, () => {
      fired.push(clock.nowMs());
      clock.schedule(1, () => fired.push(clock.nowMs()));
    });
    clock.advance(5);
    expect(fired).toEqual([1, 2]);
  });

  test("runUntilIdle stops at the horizon", () => {
    const clock = new VirtualClock();
    clock.schedule(10, () => undefined);
    clock.schedule(1000, () => undefined);
    expect(clock.runUntilIdle(100)).toBe(false);
    expect(clock.pendingCount).toBe(1);
    expect(clock.runUntilIdle(10_000)).toBe(true);
  });

  test("a runaway timer loop is stopped by the firing limit", () => {
    const clock = new VirtualClock();
    const again = (): void => {
      clock.schedule(0, again);
    };
    clock.schedule(0, again);
    expect(() => clock.advance(1, 50)).toThrow("firing limit");
  });

  test("rejects a negative or fractional delay", () => {
    const clock = new VirtualClock();
    expect(() => clock.schedule(-1, () => undefined)).toThrow("delayMs");
    expect(() => clock.schedule(1.5, () => undefined)).toThrow("delayMs");
  });
});
