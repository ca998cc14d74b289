// A full open batch in Node and in XS: 300 approvals, then an unbalanced settlement that uploads every one of
// them. The approved log stays on flash (FlashJournal streams it): counts, totals and upload order must come out
// as they did when the log was an array in RAM.
import type { BatchTotals } from "../../../modules/txn/events";
import type { SettlementRecord } from "../../../tools/host/ledger";
import { runScenario, type ScenarioEvent } from "../../../tools/scenario/runner";
import { MemoryLedger } from "../../../tools/scenario/memory-ledger";
import { parseScenario } from "../../../tools/scenario/scenario-file";

interface Approval {
  readonly stan: string;
  readonly op: "sale" | "void" | "refund";
  readonly amount: number;
  readonly domestic: boolean;
  readonly originalStan?: string;
}

const APPROVALS = 300;

/** The host's ledger, keeping what each 0500 said: the terminal's totals per card origin. */
class SettlementsLedger extends MemoryLedger {
  readonly settled: SettlementRecord[] = [];
  override settle(record: SettlementRecord): void {
    this.settled.push(record);
    super.settle(record);
  }
}
const stanOf = (n: number) => String(n).padStart(6, "0");

/** The engine's batchTotals as it was over the array: sales net of their voids, voids, refunds. */
function referenceTotals(log: readonly Approval[]): BatchTotals {
  const voided = new Set(log.filter((r) => r.op === "void").map((r) => r.originalStan));
  const sum = (rs: readonly Approval[]) => rs.reduce((s, r) => s + r.amount, 0);
  const sales = log.filter((r) => r.op === "sale" && !voided.has(r.stan));
  const voids = log.filter((r) => r.op === "void");
  const refunds = log.filter((r) => r.op === "refund");
  return {
    saleCount: sales.length,
    saleAmount: sum(sales),
    voidCount: voids.length,
    voidAmount: sum(voids),
    refundCount: refunds.length,
    refundAmount: sum(refunds),
  };
}

/** 300 approvals: sales on a domestic and a foreign card, every seventh operation a void of the sale before it, every eleventh a refund. */
function plan(): { steps: unknown[]; log: Approval[] } {
  const steps: unknown[] = [];
  const log: Approval[] = [];
  let stan = 2; // the sign-on took 000001
  let lastSale: Approval | undefined;
  for (let i = 0; i < APPROVALS; i++) {
    const domestic = i % 3 !== 0;
    const card = domestic ? "unionpay-msr" : "visa-msr";
    let approval: Approval;
    if (i % 7 === 6 && lastSale !== undefined) {
      approval = { stan: stanOf(stan), op: "void", amount: lastSale.amount, domestic: lastSale.domestic, originalStan: lastSale.stan };
      steps.push({ op: "drain" }, { op: "void", stan: lastSale.stan }); // a void asks the log: the sale must be in it
      lastSale = undefined;
    } else if (i % 11 === 10) {
      approval = { stan: stanOf(stan), op: "refund", amount: 300 + i, domestic };
      steps.push({ op: "refund", amount: approval.amount, card });
    } else {
      approval = { stan: stanOf(stan), op: "sale", amount: 1000 + i, domestic };
      steps.push({ op: "sale", amount: approval.amount, card, pin: "1234" });
      lastSale = approval;
    }
    log.push(approval);
    stan++;
  }
  return { steps, log };
}

describe("an open batch of 300 approvals on flash", () => {
  test("counts, totals per card origin and the batch upload's order are those of the approved log", () => {
    const { steps, log } = plan();
    const ledger = new SettlementsLedger();
    const scenario = parseScenario({
      terminal: { reversalRetries: 1, blockSalesWhileReversalFailed: false },
      // 13 sectors of 31 slots: room for the batch, its settlement and a reversal.
      flash: { sectorBytes: 4096, journalSectors: 13 },
      steps: [
        { op: "powerOn" },
        { op: "signOn" },
        ...steps,
        { op: "drain" },
        // A sale the host approves whose reversal fails (冲正失败) at settlement: the host counts it, the
        // terminal does not, so the totals differ and the terminal uploads its whole log.
        { op: "hostFault", fault: { kind: "delay", ms: 61000, mti: "0200" } },
        { op: "hostFault", fault: { kind: "closeBeforeRead", mti: "0400", count: 9 } },
        { op: "sale", amount: 1234, card: "visa-msr", pin: "1234" },
        { op: "drain" },
        { op: "settle" },
        { op: "drain" },
        { op: "echo" },
        { op: "drain" },
      ],
    });
    const events = runScenario(scenario, { ledger }).events as ScenarioEvent[];
    const results = events.filter((e) => e.ev === "result" && e.op !== "signOn" && e.op !== "echo");
    expect(results.slice(0, APPROVALS).map((e) => [e.stan, e.op, e.outcome])).toEqual(log.map((r) => [r.stan, r.op, "approved"]));
    // Each approval's slip, read back from the journal (approved(stan)).
    const slips = events.filter((e) => e.ev === "slip" && (e.kind === "sale" || e.kind === "void" || e.kind === "refund"));
    expect(slips.map((e) => [e.stan, e.kind])).toEqual(log.map((r) => [r.stan, r.op]));

    const uploaded = log.filter((r) => r.op !== "void");
    expect(events.filter((e) => e.ev === "send" && e.mti === "0320")).toHaveLength(uploaded.length + 1);
    // F48 of each 0320 201: type (00 sale, 20 refund), STAN, amount; in the approved log's order, voids left out.
    const records = ledger.uploads.filter((u) => u.networkCode === "201").map((u) => u.recordHex);
    expect(records).toEqual(uploaded.map((r) => `${r.op === "refund" ? "20" : "00"}${r.stan}${String(r.amount).padStart(12, "0")}`));

    const settlement = events.find((e) => e.ev === "settlement");
    expect(settlement).toMatchObject({ balanced: false, totals: referenceTotals(log) });
    expect(referenceTotals(log)).toMatchObject({ voidCount: 42, refundCount: 24 });
    const [host] = ledger.settled;
    // F48 of the 0500 per card origin: debits are the sales net of voids, credits the refunds.
    const f48 = (t: BatchTotals) => ({
      debitAmount: t.saleAmount,
      debitCount: t.saleCount,
      creditAmount: t.refundAmount,
      creditCount: t.refundCount,
    });
    expect(host.terminalTotals).toMatchObject({
      domestic: f48(referenceTotals(log.filter((r) => r.domestic))),
      foreign: f48(referenceTotals(log.filter((r) => !r.domestic))),
    });
    expect(events.at(-1)).toMatchObject({ ev: "reconcile", agree: true });
  });
});
