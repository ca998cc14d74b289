/**
 * The simulator's time scale: a clock N times faster than real time whose
 * speed changes while timers are pending, without a jump and without moving
 * any timer's due time on the terminal's clock.
 */
import { jest } from "@jest/globals";
import { ScaledClock, TIME_SCALE_MAX } from "../../../tools/sim/scaled-clock";

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test("at ×100 a 60 s timer fires after 600 ms of real time, and the clock reads 60 s", () => {
  const clock = new ScaledClock(100);
  const fired: number[] = [];
  clock.schedule(60_000, () => fired.push(clock.nowMs()));
  jest.advanceTimersByTime(599);
  expect(fired).toEqual([]);
  jest.advanceTimersByTime(1);
  expect(fired).toEqual([60_000]);
});

test("a scale change keeps the clock continuous and pending timers at their due time on it", () => {
  const clock = new ScaledClock(1);
  const fired: string[] = [];
  clock.schedule(10_000, () => fired.push(`a@${clock.nowMs()}`));
  const cancelled = clock.schedule(20_000, () => fired.push("b"));
  jest.advanceTimersByTime(4_000);
  expect(clock.nowMs()).toBe(4_000);
  clock.scale = 100;
  expect(clock.nowMs()).toBe(4_000);
  // 6 s of terminal time left: 60 ms of real time at ×100.
  jest.advanceTimersByTime(59);
  expect(fired).toEqual([]);
  jest.advanceTimersByTime(1);
  expect(fired).toEqual(["a@10000"]);
  clock.cancel(cancelled);
  jest.advanceTimersByTime(1_000);
  expect(fired).toEqual(["a@10000"]);
  expect(clock.nowMs()).toBe(110_000);
});

test.each([0, -1, 1.5, TIME_SCALE_MAX + 1, Number.NaN])("a scale of %p is refused", (scale) => {
  expect(() => new ScaledClock(scale)).toThrow(RangeError);
  const clock = new ScaledClock(10);
  expect(() => (clock.scale = scale)).toThrow(`time scale must be an integer from 1 to ${TIME_SCALE_MAX}`);
  expect(clock.scale).toBe(10);
});
