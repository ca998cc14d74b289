/**
 * The simulator's message log: an answer the terminal discarded is marked
 * with the reason (the page shows "late — discarded", not "took N ms").
 */
import { CUP, Iso8583Codec } from "../../../modules/iso8583";
import { MessageLog } from "../../../tools/sim/message-log";

const codec = new Iso8583Codec({ dialect: CUP });
const message = (mti: string, stan: string, f39?: string) =>
  codec
    .encode({ tpdu: "6000030000", header: "603100311312", mti, fields: { 11: stan, 41: "10000159", ...(f39 ? { 39: f39 } : {}) } })
    .slice();

test("a late 0210 is marked discarded with its reason; the request and other answers are not", () => {
  const log = new MessageLog();
  log.add("out", message("0200", "000002"), 1000);
  log.add("out", message("0400", "000002"), 61_000);
  log.add("in", message("0410", "000002", "00"), 61_010);
  log.add("in", message("0210", "000002", "00"), 71_000);
  expect(log.markDiscarded("0210", "000002", "late")).toBe(true);
  const entries = log.entries();
  expect(entries.map((e) => [e.mti, e.discarded])).toEqual([
    ["0200", undefined],
    ["0400", undefined],
    ["0410", undefined],
    ["0210", "late"],
  ]);
  expect(entries[3].elapsedMs).toBe(70_000);
});

test("a duplicate: the newest copy not yet marked takes the mark; nothing to mark is false", () => {
  const log = new MessageLog();
  log.add("out", message("0200", "000003"), 0);
  log.add("in", message("0210", "000003", "00"), 10);
  log.add("in", message("0210", "000003", "00"), 11);
  expect(log.markDiscarded("0210", "000003", "duplicate")).toBe(true);
  expect(log.entries().map((e) => e.discarded)).toEqual([undefined, undefined, "duplicate"]);
  expect(log.markDiscarded("0210", "000009", "late")).toBe(false);
});
