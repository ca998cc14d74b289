/**
 * `xspos bench journal`: flash bytes programmed, programs and erases per sale
 * in steady state (16 × 4 KiB sectors, SM4-GCM sealed PAN, a settlement every
 * 100 sales), recovery of a partition at capacity (reads, Node time), and the
 * XS meter of that recovery and of one sale.
 */
import { bundleForXs } from "../xs/bundle";
import { integerOption, parseOptions } from "../cli/command";
import type { Benchmark } from "../cli/commands/bench";
import { REPO_ROOT } from "../xs/suites";
import { XsWorker } from "../xs/worker";
import { NorFlash } from "../../modules/emulators/nor-flash";
import { Journal } from "../../modules/journal/journal";
import { BENCH_SECTORS, benchOptions, fullPartition, steadyStateSales } from "../journal/workload";

async function xsMeters(): Promise<Record<string, number>> {
  const bundled = await bundleForXs({
    contents: [
      `import { NorFlash } from "./modules/emulators/nor-flash";`,
      `import { Journal } from "./modules/journal/journal";`,
      `import { chipSale, TEST_PAN } from "./tools/journal/fixtures";`,
      `import { benchOptions, fullPartition } from "./tools/journal/workload";`,
      `const image = fullPartition().exportImage();`,
      `let journal;`,
      `globalThis.recover = () => { const flash = new NorFlash({ sectorCount: 16, seed: 3, image }); journal = Journal.open(benchOptions(flash)); };`,
      `let stan = 90000;`,
      `globalThis.sale = () => { journal.settle("000001"); journal.approve(journal.arm(chipSale(stan++, 2, 1), TEST_PAN), "123456", "000000000001"); };`,
    ].join("\n"),
    resolveDir: REPO_ROOT,
    sourcefile: "journal-bench.ts",
  });
  const worker = new XsWorker();
  try {
    await worker.evaluate(bundled);
    const recovery = await worker.evaluate("recover();");
    const sale = await worker.evaluate("sale();");
    return { recoveryCompute: recovery.meter.compute, settlePlusSaleCompute: sale.meter.compute };
  } finally {
    worker.close();
  }
}

export const benchmark: Benchmark = {
  summary: "journal: flash programs and erases per sale, recovery of a full partition (reads, Node ms, XS compute)",
  async run(args) {
    const { values } = parseOptions(args, { sales: { type: "string" } }, false);
    const sales = integerOption(values.sales, "sales", 3000, 100, 1_000_000);
    const steady = steadyStateSales(sales);
    console.log(
      `steady state over ${steady.sales} sales: ${steady.bytesProgrammedPerSale.toFixed(1)} bytes programmed, ` +
        `${steady.programsPerSale.toFixed(2)} programs, ${steady.erasesPerSale.toFixed(4)} erases (1 per ${(1 / steady.erasesPerSale).toFixed(1)} sales) per sale`,
    );
    const flash = fullPartition();
    const image = flash.exportImage();
    const copy = (): NorFlash => new NorFlash({ sectorCount: BENCH_SECTORS, seed: 3, image });
    const probe = copy();
    const started = performance.now();
    const journal = Journal.open(benchOptions(probe));
    const recoveryMs = performance.now() - started;
    const counts = journal.counts();
    const reps = 20;
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) Journal.open(benchOptions(copy()));
    const recoveryMsMean = (performance.now() - t0) / reps;
    console.log(
      `recovery of a full partition (${counts.liveRecords}/${counts.capacity} live, ${journal.pendingReversals().length} reversal-due): ` +
        `${probe.stats.reads} reads, ${probe.stats.bytesRead} bytes read, ${probe.stats.writes} programs, ${recoveryMsMean.toFixed(2)} ms in Node (first ${recoveryMs.toFixed(1)} ms)`,
    );
    const xs = await xsMeters();
    console.log(`XS compute: recovery ${xs.recoveryCompute}, one settle + sale ${xs.settlePlusSaleCompute}`);
    return {
      ...steady,
      recoveryReads: probe.stats.reads,
      recoveryBytesRead: probe.stats.bytesRead,
      recoveryPrograms: probe.stats.writes,
      recoveryNodeMs: Number(recoveryMsMean.toFixed(2)),
      liveRecords: counts.liveRecords,
      xsRecoveryCompute: xs.recoveryCompute,
      xsSettlePlusSaleCompute: xs.settlePlusSaleCompute,
    };
  },
};
