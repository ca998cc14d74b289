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
