/**
 * Workloads for `xspos bench journal`, pure ES2022 so the same code runs in
 * Node and inside XS: steady-state sales, and a partition filled to capacity.
 */
import { NorFlash } from "../../modules/emulators/nor-flash";
import { Journal, type JournalOptions } from "../../modules/journal/journal";
import { SeededRandom } from "../../modules/platform/random";
import { chipSale, TEST_IDENTITY, TEST_PAN, testCipher } from "./fixtures";

export const BENCH_SECTORS = 16;
const SALES_PER_BATCH = 100;

export function benchOptions(flash: NorFlash): JournalOptions {
  return { flash, cipher: testCipher(), random: new SeededRandom(1), identity: TEST_IDENTITY, reversalsPendingMax: 16 };
}

export interface SaleFigures {
  readonly sales: number;
  readonly bytesProgrammedPerSale: number;
  readonly programsPerSale: number;
  readonly erasesPerSale: number;
  readonly bytesReadPerSale: number;
}

/** Approved chip sales, a SETTLE every 100, after a warm-up past the first rotations. */
export function steadyStateSales(sales: number): SaleFigures {
  const flash = new NorFlash({ sectorCount: BENCH_SECTORS, seed: 1 });
  const journal = Journal.open(benchOptions(flash));
  let stan = 1;
  const run = (count: number): void => {
    for (let i = 0; i < count; i++) {
      const batch = 1 + Math.floor((stan - 1) / SALES_PER_BATCH);
      journal.approve(journal.arm(chipSale(stan, batch, 100 + i), TEST_PAN), "123456", "000000000001");
      if (stan % SALES_PER_BATCH === 0) journal.settle(String(batch).padStart(6, "0"));
      stan++;
    }
  };
  run(2 * SALES_PER_BATCH);
  const before = { ...flash.stats };
  run(sales);
  return {
    sales,
    bytesProgrammedPerSale: (flash.stats.bytesWritten - before.bytesWritten) / sales,
    programsPerSale: (flash.stats.writes - before.writes) / sales,
    erasesPerSale: (flash.stats.erases - before.erases) / sales,
    bytesReadPerSale: (flash.stats.bytesRead - before.bytesRead) / sales,
  };
}

/** A partition at capacity: approved sales of the open batch, and a few reversal-due records. */
export function fullPartition(): NorFlash {
  const flash = new NorFlash({ sectorCount: BENCH_SECTORS, seed: 2 });
  const journal = Journal.open(benchOptions(flash));
  for (let stan = 1; ; stan++) {
    const counts = journal.counts();
    if (counts.liveRecords + 8 > counts.capacity) break;
    const seq = journal.arm(chipSale(stan, 1, stan), TEST_PAN);
    if (stan % 50 === 0) journal.reversalDue(seq, "98");
    else journal.approve(seq, "123456", "000000000001");
  }
  return flash;
}
