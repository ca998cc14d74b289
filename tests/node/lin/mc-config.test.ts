/** tools/lin/mc-config.ts: the Linux terminal's mc/config, its journal geometry read from partitions.csv. */
import fs from "node:fs";
import path from "node:path";
import { JOURNAL_PARTITION, linConfig, parsePartitions, REPO_ROOT, SECTOR_BYTES } from "../../../tools/lin/mc-config";

const CSV = `# Name, Type, SubType, Offset, Size, Flags
nvs,      data, nvs,  0x9000,  24K,
ota_0,    app,  ota_0, 0x20000, 0x1E0000,
${JOURNAL_PARTITION}, data, 0x99, 0x3E0000, 0x12000,
`;

describe("mc-config", () => {
  test("parses offsets and sizes in hex, decimal and K/M, skipping comments", () => {
    const partitions = parsePartitions(CSV);
    expect(partitions.map((p) => [p.name, p.offset, p.size])).toEqual([
      ["nvs", 0x9000, 24 * 1024],
      ["ota_0", 0x20000, 0x1e0000],
      [JOURNAL_PARTITION, 0x3e0000, 0x12000],
    ]);
  });

  test("the config is the manifest's, with the journal partition's size and the sector size", () => {
    const config = linConfig({ config: { tid: "10000159" }, platforms: { "x-cli-lin": { config: { language: "en" } } } }, CSV);
    expect(config).toEqual({ tid: "10000159", language: "en", journalBytes: 0x12000, sectorBytes: SECTOR_BYTES });
  });

  test("the repository's partitions.csv gives 18 sectors of 4 KiB", () => {
    const config = linConfig({}, fs.readFileSync(path.join(REPO_ROOT, "partitions.csv"), "utf8"));
    expect(config.journalBytes).toBe(18 * 4096);
  });

  test("refuses a table without the journal, a size that is not whole sectors, and a bad number", () => {
    expect(() => linConfig({}, "nvs, data, nvs, 0x9000, 0x6000,\n")).toThrow(`partitions.csv has no ${JOURNAL_PARTITION} partition`);
    expect(() => linConfig({}, `${JOURNAL_PARTITION}, data, 0x99, 0x3E0000, 0x12001,\n`)).toThrow("is not whole 4096-byte sectors");
    expect(() => parsePartitions("nvs, data, nvs, 0x9000, lots,\n")).toThrow('line 1: "lots" is not a size or offset');
    expect(() => parsePartitions("nvs, data\n")).toThrow("line 1: fewer than 5 fields");
  });
});
