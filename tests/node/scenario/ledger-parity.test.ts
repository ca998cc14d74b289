// The runner's in-memory ledger (fast, for thousands of chaos seeds) against the host's SQLite ledger
// (tools/host/sqlite-ledger.ts, better-sqlite3 on ":memory:"): every scenario file gives the same events,
// reconcile included, and the same reconcile view.
import fs from "node:fs";
import path from "node:path";
import { SqliteLedger } from "../../../tools/host/sqlite-ledger";
import { MemoryLedger } from "../../../tools/scenario/memory-ledger";
import { runScenario } from "../../../tools/scenario/runner";
import { nodeImageSigner } from "../../../tools/host/tms-signing";

/** Scenario files may publish signed images: the Node runs sign with the TEST key. */
const imageSigner = nodeImageSigner();
import { parseScenario } from "../../../tools/scenario/scenario-file";

const DIR = path.resolve("tests/scenarios");
const FILES = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith(".json"))
  .sort();

describe("MemoryLedger and SqliteLedger agree", () => {
  test.each(FILES)("%s", (file) => {
    const scenario = parseScenario(JSON.parse(fs.readFileSync(path.join(DIR, file), "utf8")));
    const memory = new MemoryLedger();
    const sqlite = new SqliteLedger(":memory:");
    const views: unknown[] = [];
    const viewing = <L extends MemoryLedger | SqliteLedger>(ledger: L): L => {
      const close = ledger.close.bind(ledger);
      ledger.close = () => {
        views.push(ledger.view("10000001"));
        close();
      };
      return ledger;
    };
    const a = runScenario(scenario, { ledger: viewing(memory), imageSigner });
    const b = runScenario(scenario, { ledger: viewing(sqlite), imageSigner });
    expect(b.events).toEqual(a.events);
    expect(views[1]).toEqual(views[0]);
  });
});

test("both sum the approved refunds booked against a sale, not declined or reversed ones nor another sale's; both find the newest sale of a STAN", () => {
  const base = { tid: "10000001", mid: "898100012340001", batch: "000001", mti: "0220", panMasked: "476173******0011", domestic: false };
  const refund = (stan: string, amount: number, originalStan: string, responseCode = "00") => ({
    ...base,
    stan,
    kind: "refund" as const,
    amount,
    responseCode,
    authCode: "",
    rrn: "000000000001",
    originalBatch: "000001",
    originalStan,
    createdMs: 0,
  });
  const sums = [new MemoryLedger(), new SqliteLedger(":memory:")].map((ledger) => {
    ledger.book({ ...refund("000002", 300, "000001"), mti: "0200", kind: "sale", originalBatch: undefined, originalStan: undefined });
    ledger.book(refund("000003", 100, "000001"));
    ledger.book(refund("000004", 50, "000001"));
    ledger.book(refund("000005", 70, "000001", "13"));
    ledger.book(refund("000006", 20, "000009"));
    ledger.reverse({ tid: base.tid, batch: base.batch, stan: "000004", reason: "98", nowMs: 0 });
    ledger.book({ ...refund("000002", 900, "000001"), batch: "000002", mti: "0200", kind: "sale", createdMs: 1 });
    const sum = [
      ledger.refundedAmount(base.tid, "000001", "000001"),
      ledger.refundedAmount(base.tid, "000001", "000009"),
      ledger.latestSale(base.tid, "000002")?.batch,
      ledger.latestSale(base.tid, "000003"),
    ];
    ledger.close();
    return sum;
  });
  expect(sums).toEqual([
    [100, 20, "000002", undefined],
    [100, 20, "000002", undefined],
  ]);
});
