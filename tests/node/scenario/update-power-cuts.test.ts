// A power cut in the middle of every flash erase/program of a firmware update (docs/update.md): the
// download's block writes and record saves, the activation, the bootloader's control record on the
// restart, the trial boot and its confirmation. After each cut the terminal powers on and checks the TMS
// again; every run must end running a signed image (1.1.0 confirmed, or 1.0.0 after a rollback of a trial
// boot the cut ended), never boot an image before it verified, and keep its journal: the approved sale
// in both ledgers, the timed-out one reversed, nothing owed.
import { nodeImageSigner } from "../../../tools/host/tms-signing";
import { runScenario, type RunOptions, type ScenarioEvent } from "../../../tools/scenario/runner";
import { parseScenario } from "../../../tools/scenario/scenario-file";

const imageSigner = nodeImageSigner();
const sale = (amount: number) => ({ op: "sale", amount, card: "unionpay-msr", pin: "1234" });
const BEFORE = [
  { op: "powerOn" },
  { op: "signOn" },
  { op: "drain" },
  sale(1500),
  { op: "drain" },
  { op: "hostFault", fault: { kind: "noResponse", mti: "0200" } },
  sale(2500),
  { op: "drain" },
  // Three blocks of 4 KiB sectors, nine of 1 KiB: block writes and record saves alternate.
  { op: "tmsPublish", image: { version: "1.1.0", kind: "good", sizeBytes: 9000 } },
];
const UNDER_TEST = [{ op: "tmsCheck" }, { op: "drain" }];
const AFTER = [{ op: "powerOn" }, { op: "drain" }, { op: "tmsCheck" }, { op: "drain" }, { op: "powerOn" }, { op: "drain" }];

const GEOMETRIES: readonly (RunOptions & { readonly label: string })[] = [
  { label: "4 KiB sectors", blockSize: 4096, journalSectors: 8 },
  { label: "1 KiB sectors", blockSize: 1024, journalSectors: 6 },
];

function run(steps: readonly unknown[], options: RunOptions) {
  return runScenario(parseScenario({ name: "update cut", terminal: { responseTimeoutMs: 1000 }, steps }), { ...options, imageSigner });
}

const CASES = GEOMETRIES.flatMap((geometry) => {
  const opsBefore = run(BEFORE, geometry).flashOps;
  const opsUnderTest = run([...BEFORE, ...UNDER_TEST], geometry).flashOps - opsBefore;
  return Array.from({ length: opsUnderTest }, (_, i) => ({
    label: `${geometry.label}, operation ${i + 1} of ${opsUnderTest}`,
    geometry,
    n: i + 1,
  }));
});

const boots = (events: readonly ScenarioEvent[]) => events.filter((e) => e.ev === "boot").map((e) => e.version);
const updates = (events: readonly ScenarioEvent[], state: string) => events.filter((e) => e.ev === "update" && e.state === state);

describe("power cut at each flash operation of a firmware update", () => {
  test("the loop covers the download, the activation and the trial boot", () => {
    // Uncut: the whole update runs within the operations under test.
    const events = run([...BEFORE, ...UNDER_TEST], GEOMETRIES[0]).events;
    expect(updates(events, "confirmed")).toHaveLength(1);
    expect(boots(events)).toEqual(["1.0.0", "1.1.0"]);
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  test.each(CASES.map((c) => [c.label, c] as const))("%s", (_label, c) => {
    const events = run([...BEFORE, { op: "powerCut", atFlashOp: c.n }, ...UNDER_TEST, ...AFTER], c.geometry).events;
    expect(events.filter((e) => e.ev === "power" && e.state === "cut")).toHaveLength(1);
    // Only signed images boot, and 1.1.0 only after its slot verified.
    const versions = boots(events);
    expect(versions.every((v) => v === "1.0.0" || v === "1.1.0")).toBe(true);
    const firstNew = events.findIndex((e) => e.ev === "boot" && e.version === "1.1.0");
    const verified = events.findIndex((e) => e.ev === "update" && e.state === "verified");
    if (firstNew >= 0) expect(verified).toBeGreaterThanOrEqual(0);
    if (firstNew >= 0) expect(verified).toBeLessThan(firstNew);
    expect(updates(events, "rejected")).toEqual([]);
    // It ends confirmed on 1.1.0, or back on 1.0.0 with the rollback reported once (the cut ended the trial boot).
    const last = versions.at(-1);
    if (last === "1.1.0") expect(updates(events, "confirmed")).toHaveLength(1);
    else expect(updates(events, "rolledBack").map((e) => e.reason)).toEqual(["bootFailed"]);
    // The journal is intact: the sale approved on both sides, the timed-out one reversed, nothing owed.
    const reconcile = events.at(-1)!;
    expect(reconcile).toMatchObject({ ev: "reconcile", agree: true, host: { count: 1, amount: 1500 }, terminal: { reversalsPending: 0 } });
  });
});
