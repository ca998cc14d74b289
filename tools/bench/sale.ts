/**
 * `xspos bench sale`: XS meter figures for one complete sale through the
 * engine (card read by the EMV kernel and contact reader driver on emulated
 * hardware, build, PIN block, MAC, the reversal journal and state record on
 * emulated NOR flash with the PAN sealed by SM4-GCM, link framing, parse, MAC
 * check, second GENERATE AC), measured as the difference between a scenario
 * with a sign-on and a sale and one with the sign-on alone. The in-process
 * host core runs in the same engine, so the figure includes the host's
 * decode, MAC and ledger work for that sale too.
 */
import { bundleForXs } from "../xs/bundle";
import type { Benchmark } from "../cli/commands/bench";
import { REPO_ROOT } from "../xs/suites";
import { XsWorker } from "../xs/worker";

const ENTRY = `
import { runScenario } from "./tools/scenario/runner";
import { parseScenario } from "./tools/scenario/scenario-file";
const steps = (sale) => [{ op: "powerOn" }, { op: "signOn" }, ...(sale ? [{ op: "sale", amount: 1234, card: "unionpay-chip", pin: "1234" }] : []), { op: "drain" }];
globalThis.benchRun = (sale) => {
  const run = runScenario(parseScenario({ steps: steps(sale) }));
  if (!run.events.some((e) => e.ev === "reconcile" && e.agree)) throw new Error("reconcile disagrees");
};
`;

async function bundle(): Promise<string> {
  const result = await bundleForXs({ contents: ENTRY, resolveDir: REPO_ROOT, sourcefile: "bench-sale.ts" });
  return result;
}

export const benchmark: Benchmark = {
  summary: "XS compute and heap of one complete sale (card read, engine, flash journal, in-process host)",
  async run() {
    const code = await bundle();
    const measure = async (sale: boolean) => {
      const worker = new XsWorker();
      try {
        await worker.evaluate(code);
        await worker.evaluate("benchRun(false)"); // warm-up: first-call costs out of the figure
        const before = await worker.evaluate("0");
        const run = await worker.evaluate(`benchRun(${String(sale)})`);
        return {
          compute: run.meter.compute,
          heapSlots: run.meter.currentHeapCount - before.meter.currentHeapCount,
        };
      } finally {
        worker.close();
      }
    };
    const base = await measure(false);
    const withSale = await measure(true);
    const figures = {
      saleCompute: withSale.compute - base.compute,
      /** Live heap slots the sale run left behind beyond the sign-on run (flash image, journal index, events). */
      saleHeapSlots: withSale.heapSlots - base.heapSlots,
      signOnScenarioCompute: base.compute,
    };
    console.log(
      `one sale: XS compute ${figures.saleCompute}, heap slots ${figures.saleHeapSlots} (xsnap reserves its chunk arena up front, so heap slots are the memory figure)`,
    );
    return figures;
  },
};
