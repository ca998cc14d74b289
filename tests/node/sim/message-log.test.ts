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

test("the hex dump is the message's bytes with the PAN's middle, track 2, the PIN block and the chip data as **", () => {
  const fields = {
    2: "6228480000000023",
    3: "000000",
    4: "000000000500",
    11: "000002",
    35: "6228480000000023D30121011234567890",
    41: "10000159",
    52: "0123456789ABCDEF",
    55: "9F2608AABBCCDDEEFF0011",
    64: "0102030405060708",
  };
  const bytes = codec.encode({ tpdu: "6000030000", header: "603100311312", mti: "0200", fields }).slice();
  const entry = new MessageLog().add("out", bytes, 0);
  const hex = entry.hex!;
  expect(hex).toHaveLength(bytes.length * 2);
  const clear = Array.from(bytes, (b) => b.toString(16).padStart(2, "0"));
  const shown = hex.match(/../g)!;
  // Every byte shown is the message's own; the hidden ones are exactly the field bytes that carry secrets.
  shown.forEach((b, i) => b !== "**" && expect(b).toBe(clear[i]));
  expect(hex).toContain("622848**");
  expect(hex).not.toContain("6228480000000023");
  expect(hex).not.toContain("0123456789abcdef");
  expect(hex).not.toContain("aabbccddeeff");
  expect(hex).toContain("0102030405060708");
  expect(shown.filter((b) => b === "**").length).toBe(3 + 17 + 8 + 11);
  expect(entry.fields).toMatchObject({ 2: "622848******0023", 52: "[PIN block hidden]" });
});

test("an answer is timed on the terminal's clock (the time scale), the time shown is the wall clock", () => {
  const log = new MessageLog();
  log.add("out", message("0200", "000004"), 1_000, 50);
  const answer = log.add("in", message("0210", "000004", "00"), 1_010, 60_050);
  expect(answer.atMs).toBe(1_010);
  expect(answer.elapsedMs).toBe(60_000);
});
