/**
 * Entry of the on-device test app (tests/device/manifest.json): the suites
 * bundle registers every suite behind tests/xs/runtime.ts; this runs them and
 * prints `N passed, N failed` on the serial console.
 */
import Timer from "timer";
import "xspos/device/suites";

interface Runner {
  __xsposRun(): void;
  __xsposReport(): void;
}

export default function main(): void {
  const runner = globalThis as unknown as Runner;
  runner.__xsposRun();
  // A timer fires only once the promise job queue is empty: the same point at which the xsnap harness asks for the report.
  Timer.set(() => runner.__xsposReport(), 0);
}
