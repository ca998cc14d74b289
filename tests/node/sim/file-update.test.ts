/** hosts/sim/file-update.ts: an update installed through the simulator's file survives the process, boots as a trial, confirms. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fromHex } from "../../../modules/base/hex";
import { Updater, type UpdateTraceEvent } from "../../../modules/update/updater";
import { FileUpdateHardware } from "../../../hosts/sim/file-update";
import { TEST_PUBLIC_KEY_HEX } from "../../fixtures/update/test-images";
import { TestSource } from "../../core/update/rig";

function life(file: string, events: UpdateTraceEvent[], restarts: { count: number }): { hardware: FileUpdateHardware; updater: Updater } {
  const hardware = new FileUpdateHardware({ path: file, slotBytes: 64 * 1024 });
  const updater = new Updater({
    ...hardware.powerOn(),
    publicKey: fromHex(TEST_PUBLIC_KEY_HEX),
    journalClean: () => true,
    restart: () => restarts.count++,
    onEvent: (event) => events.push(event),
  });
  updater.powerOn();
  return { hardware, updater };
}

test("install 1.1.0 into the file, restart the 'process', confirm on the trial boot; the file keeps 1.1.0", async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "xspos-update-")), "update.bin");
  const events: UpdateTraceEvent[] = [];
  const restarts = { count: 0 };
  const first = life(file, events, restarts);
  expect(first.updater.runningVersion).toBe("1.0.0");
  await first.updater.check(new TestSource("v110"));
  first.hardware.close();
  expect(restarts.count).toBe(1);
  const trial = life(file, events, restarts);
  expect(trial.updater.trial).toBe(true);
  trial.updater.bootPassed();
  trial.hardware.close();
  const after = life(file, events, restarts);
  expect(after.updater.runningVersion).toBe("1.1.0");
  expect(after.updater.trial).toBe(false);
  after.hardware.close();
  expect(events.map((e) => e.state)).toEqual(["available", "downloading", "verified", "activated", "confirmed"]);
  expect(fs.statSync(file).size).toBe((2 + 2 + 2 * 16) * 4096);
});
