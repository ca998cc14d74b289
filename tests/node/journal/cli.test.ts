import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { NorFlash } from "../../../modules/emulators/nor-flash";
import { Journal } from "../../../modules/journal/journal";
import { FlashRegion } from "../../../modules/txn/flash-region";
import { FlashStateStore } from "../../../modules/txn/flash-state";
import { SeededRandom } from "../../../modules/platform/random";
import { chipSale, TEST_IDENTITY, TEST_PAN, testCipher } from "../../../tools/journal/fixtures";
import { updateSectors } from "../../../tools/scenario/update-hardware";

const XSPOS = path.resolve("tools/xspos");
const KEY = "101112131415161718191A1B1C1D1E1F";

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(XSPOS, args, { encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("tools/xspos torture", () => {
  test("--seeds 50 --json: the last line is the contract's object, with no violation", () => {
    const out = execFileSync(XSPOS, ["torture", "--seeds", "50", "--json"], { encoding: "utf8" });
    const last = out.trim().split("\n").at(-1)!;
    const summary = JSON.parse(last) as Record<string, unknown>;
    expect(Object.keys(summary)).toEqual(["seeds", "crashPoints", "violations", "faultClasses", "maxSectorErases"]);
    expect(summary.seeds).toBe(50);
    expect(summary.violations).toBe(0);
    expect(summary.crashPoints).toBeGreaterThan(10000);
    const classes = summary.faultClasses as Record<string, number>;
    for (const name of [
      "cutBefore-write",
      "cutAfter-write",
      "cutInside-write",
      "tornBits-write",
      "cutInside-erase",
      "lost-write",
      "misdirect-write",
      "ioError-write",
      "bit-rot",
      "metastable",
      "cut-during-recovery",
    ])
      expect(classes[name]).toBeGreaterThan(0);
    expect(summary.maxSectorErases).toBeGreaterThan(0);
  });

  test("a seed replays with --from SEED --seeds 1", () => {
    const a = run("torture", "--from", "17", "--seeds", "1", "--json");
    const b = run("torture", "--from", "17", "--seeds", "1", "--json");
    expect(a.status).toBe(0);
    expect(a.stdout).toBe(b.stdout);
  });

  test("bad options exit 2 with one line", () => {
    const result = run("torture", "--seeds", "zero");
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });
});

describe("tools/xspos journal inspect", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-journal-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("lists sectors, records, states and masks the PAN", () => {
    const flash = new NorFlash({ sectorCount: 4, seed: 1 });
    const journal = Journal.open({ flash, cipher: testCipher(), random: new SeededRandom(2), identity: TEST_IDENTITY });
    journal.approve(journal.arm(chipSale(1, 1, 500), TEST_PAN), "AB1234", "123456789012");
    journal.reversalDue(journal.arm(chipSale(2, 1, 600), TEST_PAN), "A0");
    const file = path.join(dir, "flash.bin");
    fs.writeFileSync(file, flash.exportImage());
    const result = run("journal", "inspect", file, "--key", KEY);
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.sectors).toHaveLength(4);
    expect(report.sectors[0]).toMatchObject({ valid: true, eraseCount: 1 });
    expect(report.approved).toMatchObject([{ stan: "000001", authCode: "AB1234", pan: "622588*********9012" }]);
    expect(report.reversalDue).toMatchObject([{ stan: "000002", reason: "A0", pan: "622588*********9012" }]);
    expect(result.stdout).not.toContain(TEST_PAN);
    expect(JSON.parse(run("journal", "inspect", file).stdout).approved[0].pan).toBe("sealed");
  });

  test("corrupted or foreign input exits 2 with a typed message", () => {
    const odd = path.join(dir, "odd.bin");
    fs.writeFileSync(odd, new Uint8Array(5000));
    const noise = path.join(dir, "noise.bin");
    const bytes = new Uint8Array(16384);
    new SeededRandom(5).fill(bytes);
    fs.writeFileSync(noise, bytes);
    for (const file of [odd, noise, path.join(dir, "missing.bin")]) {
      const result = run("journal", "inspect", file);
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/^xspos: /);
    }
    expect(run("journal", "dump", odd).status).toBe(2);
  });

  test("an endless file (/dev/zero) fails fast: one partition's bytes at most are read", () => {
    const result = spawnSync(XSPOS, ["journal", "inspect", "/dev/zero"], { encoding: "utf8", timeout: 30_000 });
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split("\n")).toEqual(["xspos: /dev/zero is larger than a journal partition (319488 bytes at most)"]);
  });

  /** A terminal's partition: a journal of `journalSectors` with one approved sale (STAN 7, batch 3), the state record, then `trailingSectors`. */
  function terminalPartition(journalSectors: number, trailingSectors: number): NorFlash {
    const chip = new NorFlash({ sectorCount: journalSectors + 2 + trailingSectors, seed: 3 });
    const journal = Journal.open({
      flash: new FlashRegion(chip, 0, journalSectors),
      cipher: testCipher(),
      random: new SeededRandom(4),
      identity: TEST_IDENTITY,
    });
    journal.approve(journal.arm(chipSale(7, 3, 700), TEST_PAN), "AB1234", "123456789012");
    const state = new FlashStateStore(new FlashRegion(chip, journalSectors, 2));
    state.load();
    state.save({ stanNext: 8, batch: "000003", signedOn: true });
    return chip;
  }

  test.each([
    ["the terminal's partition as the firmware splits it (journal, then the state record)", 5, 0],
    ["the simulator's var/flash.bin (journal, state record, then the update room's sectors)", 8, updateSectors(4096)],
  ])("reads %s, and never writes it", (_name, journalSectors, trailingSectors) => {
    const chip = terminalPartition(journalSectors, trailingSectors);
    // The update room's record, as a firmware update leaves it: bytes the journal must not read as its own.
    if (trailingSectors > 0) chip.write((journalSectors + 2) * 4096, 4, Uint8Array.of(0x58, 0x53, 0x55, 0x50));
    const file = path.join(dir, "terminal-flash.bin");
    const bytes = chip.exportImage();
    fs.writeFileSync(file, bytes);
    const result = run("journal", "inspect", file, "--key", KEY);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.sectors).toHaveLength(journalSectors);
    expect(report.approved).toMatchObject([{ stan: "000007", batch: "000003", pan: "622588*********9012" }]);
    expect(report.terminalState).toEqual({ stanNext: 8, batch: "000003", signedOn: true });
    expect(new Uint8Array(fs.readFileSync(file))).toEqual(bytes);
  });
});
