/**
 * Entry of the on-device test app (tests/device/manifest.json): the suites
 * bundle registers every suite behind tests/xs/runtime.ts; this runs them and
 * prints `N passed, N failed` on the serial console (then, on x-cli-lin, exits 0 or 1).
 */
import Timer from "timer";
import "xspos/device/suites";
import { finish } from "xspos/tests/device/finish";

interface Runner {
  __xsposRun(): void;
  __xsposFinished(): boolean;
  __xsposReport(): void;
  /** Set by the prelude's report. */
  __xsposFailed?: number;
}

const POLL_MS = 1;
/** Suites use no timers (they run in xsnap, which has none): a run still going after this awaits a promise that never settles. */
const RUN_LIMIT_MS = 600_000;

export default function main(): void {
  const runner = globalThis as unknown as Runner;
  runner.__xsposRun();
  // Timers may fire between promise jobs (lin runs each batch of jobs from its own idle source): poll until the run has
  // ended, then report, which names a promise that never settled when the limit is reached first.
  let waitedMs = 0;
  const poll = Timer.repeat(() => {
    waitedMs += POLL_MS;
    if (!runner.__xsposFinished() && waitedMs < RUN_LIMIT_MS) return;
    Timer.clear(poll);
    runner.__xsposReport();
    finish(runner.__xsposFailed ?? 1);
  }, POLL_MS);
}
