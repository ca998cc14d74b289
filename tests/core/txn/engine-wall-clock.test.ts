/**
 * The calendar clock (docs/transactions.md "Clock"). The sign-on answer sets it from F13 (MMDD) and F12 (hhmmss),
 * which carry no year: the year is the one that puts the host's date nearest what the clock said, or nearest the
 * firmware's floor (2026-01-01) when the clock reads earlier: it was lost (the ESP32's RTC restarts at 1970 after a
 * power loss). Until then card operations are refused: EMV 9A, the journal and the slip would carry a 1970 date.
 * Seen on the sale slip's DATE line, which prints the clock. Stryker found the year rule undefended by the core
 * suites (docs/testing.md). Runs in Node and in XS (the scenario runner is pure).
 */
import { runScenario, type RunOptions, type ScenarioEvent } from "../../../tools/scenario/runner";
import { parseScenario } from "../../../tools/scenario/scenario-file";
import { drain, resultLine, sale as saleOf } from "./scenario-steps";

/** The host's clock at virtual time 0 (the simulation epoch) is 2026-01-15 09:00:00 UTC. */
const utc = (text: string): number => Date.parse(`${text.replace(" ", "T")}Z`);
const sale = saleOf(100);

/** The slips' DATE lines and the sales' outcomes. */
function run(steps: unknown[], options: RunOptions): { dates: string[]; sales: string[] } {
  const dates: string[] = [];
  const scenario = parseScenario({ steps: [{ op: "powerOn" }, ...steps, drain] });
  const events = runScenario(scenario, {
    ...options,
    onSlip: (_slip, lines) => {
      for (const line of lines) if (line.startsWith("日期 DATE")) dates.push(line.replace(/^日期 DATE +/, ""));
    },
  }).events as ScenarioEvent[];
  const sales = events.filter((e) => e.ev === "result" && e.op === "sale").map(resultLine);
  return { dates, sales };
}

/** Signs on with the clock at `rtcStart`, then sells: the sale slip's date. */
function dateAfterSignOn(rtcStart: string): string {
  const { dates, sales } = run([{ op: "signOn" }, drain, sale], { rtcStartMs: utc(rtcStart) });
  expect(sales).toEqual(["sale approved"]);
  expect(dates).toHaveLength(1);
  return dates[0];
}

describe("the sign-on sets the calendar clock", () => {
  test("to the host's date and time: a clock an hour and a day off is put right", () => {
    // The sale comes a minute of virtual time after the sign-on (card and PIN entry).
    expect(dateAfterSignOn("2026-01-14 08:00:00").slice(0, 13)).toBe("2026-01-15 09");
    expect(dateAfterSignOn("2026-01-15 09:00:00").slice(0, 13)).toBe("2026-01-15 09");
  });

  test.each([
    ["2025-12-20 10:00:00", "2026-01-15"], // the host's January 15 is 26 days ahead: the next year
    ["2026-06-30 23:59:59", "2026-01-15"], // 166 days back beats 199 days ahead
    ["2026-12-31 23:00:00", "2027-01-15"], // 15 days ahead beats 350 back
    ["2027-02-01 12:34:56", "2027-01-15"],
    ["2029-09-01 00:00:00", "2030-01-15"], // 136 days ahead beats 229 back
  ])("F13 has no year: with the clock at %s, the host's 01-15 is %s", (rtcStart, expected) => {
    expect(dateAfterSignOn(rtcStart).slice(0, 10)).toBe(expected);
  });

  test("the year before, when the host's date is late in the year and the clock early in the next", () => {
    // 340 days on, the host says 12-21; the clock, started 11 days after the host's, says 2027-01-01.
    const days = Array.from({ length: 340 }, () => ({ op: "advance", ms: 24 * 60 * 60 * 1000 }));
    const { dates } = run([...days, { op: "signOn" }, drain, sale], { rtcStartMs: utc("2026-01-26 09:00:00") });
    expect(dates.map((date) => date.slice(0, 10))).toEqual(["2026-12-21"]);
  });

  test.each(["1970-01-01 00:00:00", "2000-01-01 00:00:00", "2025-12-31 23:59:59"])(
    "a clock lost (%s, before the floor) takes the year nearest the floor, not its own",
    (rtcStart) => {
      expect(dateAfterSignOn(rtcStart).slice(0, 10)).toBe("2026-01-15");
    },
  );
});

describe("a lost calendar clock", () => {
  test("refuses card operations until a sign-on sets it, even while the terminal is still signed on", () => {
    const { sales, dates } = run(
      [{ op: "signOn" }, drain, sale, drain, { op: "powerCut" }, { op: "powerOn" }, sale, drain, { op: "signOn" }, drain, sale],
      { rtcStartMs: utc("1970-01-01 00:00:00"), rtcLostAtPowerOff: true },
    );
    expect(sales).toEqual(["sale approved", "sale refused notSignedOn", "sale approved"]);
    expect(dates.map((date) => date.slice(0, 10))).toEqual(["2026-01-15", "2026-01-15"]);
  });

  test("a clock at the floor is a clock: nothing is refused", () => {
    const { sales } = run([{ op: "signOn" }, drain, { op: "powerCut" }, { op: "powerOn" }, sale], {
      rtcStartMs: utc("2026-01-01 00:00:00"),
      rtcLostAtPowerOff: true,
    });
    expect(sales).toEqual(["sale approved"]);
  });
});
