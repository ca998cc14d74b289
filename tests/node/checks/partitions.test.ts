/**
 * partitions.csv (docs/update.md "Partition layout"): everything within the 4 MB flash, no overlaps,
 * two equal app slots and otadata for ESP-IDF's OTA, and the journal partition at the offset every
 * released image has used — an update that moved it would lose every reversal owed.
 */
import fs from "node:fs";
import path from "node:path";
import { parsePartitions, REPO_ROOT } from "../../../tools/lin/mc-config";

const FLASH_BYTES = 4 * 1024 * 1024;
const JOURNAL_OFFSET = 0x3e0000;
/** ESP-IDF: app partitions start on a 64 KiB boundary; the partition table sits at 0x8000 (0x1000 long). */
const APP_ALIGN = 0x10000;
const TABLE_END = 0x9000;

const partitions = parsePartitions(fs.readFileSync(path.join(REPO_ROOT, "partitions.csv"), "utf8"));
const byName = (name: string) => {
  const p = partitions.find((q) => q.name === name);
  if (p === undefined) throw new Error(`partitions.csv has no ${name}`);
  return p;
};

test("every partition lies between the partition table and the end of the 4 MB flash, none overlapping", () => {
  const sorted = [...partitions].sort((a, b) => a.offset - b.offset);
  expect(sorted[0]!.offset).toBeGreaterThanOrEqual(TABLE_END);
  for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.offset).toBeGreaterThanOrEqual(sorted[i - 1]!.offset + sorted[i - 1]!.size);
  const last = sorted[sorted.length - 1]!;
  expect(last.offset + last.size).toBeLessThanOrEqual(FLASH_BYTES);
});

test("OTA: otadata (8 KiB), ota_0 and ota_1 of one size on 64 KiB boundaries, no factory app", () => {
  expect(byName("otadata")).toMatchObject({ type: "data", subtype: "ota", size: 0x2000 });
  const slots = [byName("ota_0"), byName("ota_1")];
  expect(slots.map((s) => [s.type, s.subtype])).toEqual([
    ["app", "ota_0"],
    ["app", "ota_1"],
  ]);
  expect(slots[0]!.size).toBe(slots[1]!.size);
  for (const slot of slots) expect(slot.offset % APP_ALIGN).toBe(0);
  expect(partitions.some((p) => p.subtype === "factory")).toBe(false);
});

test("the journal partition stays at 0x3E0000 (stable across versions), whole 4 KiB sectors", () => {
  const journal = byName("xspos-journal");
  expect(journal.offset).toBe(JOURNAL_OFFSET);
  expect(journal.size % 4096).toBe(0);
});
