// The firmware's request builders field by field (docs/cup-dialect.md), the balance a 0210 reports, and the approval references it accepts.
import {
  approvalReferencesValid,
  balanceOf,
  networkManagement,
  refund,
  sale,
  settlement,
  signOn,
  tms,
  type CardRequest,
} from "../../../modules/txn/messages";
import type { PresentedCard } from "../../../modules/txn/ports";

const id = { terminalId: "10000159", merchantId: "880210010210160" };
const swiped: PresentedCard = {
  entryMode: "022",
  pan: "6217973910000725090",
  expiry: "2312",
  track2: "6217973910000725090D2312",
  domestic: true,
};
const chip: PresentedCard = {
  entryMode: "051",
  pan: "6217973910000725090",
  expiry: "2312",
  cardSequence: "001",
  f55: "9F360200A1",
  domestic: true,
};
const request = (card: PresentedCard, pinBlock?: string): CardRequest => ({
  stan: "000042",
  batch: "000001",
  card,
  ...(pinBlock ? { pinBlock } : {}),
});
const MAC = "0000000000000000";

describe("network management and TMS requests", () => {
  test("0800 sign-on: 60.3 003 and the operator in F63", () => {
    expect(signOn(id, "000001", "000001")).toStrictEqual({
      tpdu: "6000030000",
      header: "603100310000",
      mti: "0800",
      fields: { 11: "000001", 41: id.terminalId, 42: id.merchantId, 60: "00000001003", 63: "01 " },
    });
  });

  test("0820 sign-off and echo: no MAC, 60.3 the code", () => {
    expect(networkManagement(id, "000007", "000002", "002").fields).toStrictEqual({
      11: "000007",
      41: id.terminalId,
      42: id.merchantId,
      60: "00000002002",
    });
    expect(networkManagement(id, "000008", "000002", "301").fields[60]).toBe("00000002301");
    expect(networkManagement(id, "000008", "000002", "301").mti).toBe("0820");
  });

  test("a TMS request carries F62 only when there is a payload, and is MAC'd", () => {
    expect(tms(id, "000009", "000001", "360", "0A0B").fields).toStrictEqual({
      11: "000009",
      41: id.terminalId,
      42: id.merchantId,
      60: "00000001360",
      62: "0A0B",
      64: MAC,
    });
    expect(Object.keys(tms(id, "000009", "000001", "361", undefined).fields).map(Number)).toEqual([11, 41, 42, 60, 64]);
  });

  test("0500 settlement: totals in F48, the operator in F63, 60.3 201", () => {
    expect(settlement(id, "000010", "000001", "0".repeat(62)).fields).toStrictEqual({
      11: "000010",
      41: id.terminalId,
      42: id.merchantId,
      48: "0".repeat(62),
      49: "156",
      60: "00000001201",
      63: "01 ",
      64: MAC,
    });
  });
});

describe("card requests", () => {
  test("a swiped sale sends track 2 and neither F2, F14, F23 nor F55", () => {
    expect(sale(id, request(swiped), 5588).fields).toStrictEqual({
      3: "000000",
      4: "000000005588",
      11: "000042",
      22: "022",
      25: "00",
      35: swiped.track2,
      41: id.terminalId,
      42: id.merchantId,
      49: "156",
      60: "22000001",
      64: MAC,
    });
  });

  test("a chip sale with a PIN sends F2, F14, F23, F55 and the PIN fields, and no track 2", () => {
    expect(sale(id, request(chip, "086BDB118D7AC25E"), 100).fields).toStrictEqual({
      2: chip.pan,
      3: "000000",
      4: "000000000100",
      11: "000042",
      14: "2312",
      22: "051",
      23: "001",
      25: "00",
      26: "12",
      41: id.terminalId,
      42: id.merchantId,
      49: "156",
      52: "086BDB118D7AC25E",
      53: "2600000000000000",
      55: "9F360200A1",
      60: "22000001",
      64: MAC,
    });
  });

  test("a refund names its original's STAN in F61 only when it is known", () => {
    const known = refund(id, request(swiped), 300, "000023");
    expect(known.mti).toBe("0220");
    expect([known.fields[3], known.fields[4], known.fields[60], known.fields[61]]).toEqual([
      "200000",
      "000000000300",
      "25000001",
      "000000000023",
    ]);
    expect(refund(id, request(swiped), 300, undefined).fields[61]).toBeUndefined();
  });
});

describe("the balance a 0210 reports (F54)", () => {
  const item = (amountType: string, sign: "C" | "D", amount: number) => `10${amountType}156${sign}${String(amount).padStart(12, "0")}`;

  test("the available balance when given, else the first amount; a debit balance is negative", () => {
    expect(balanceOf(item("01", "C", 500) + item("02", "C", 1234))).toBe(1234);
    expect(balanceOf(item("01", "C", 500) + item("03", "C", 1234))).toBe(500);
    expect(balanceOf(item("02", "D", 77))).toBe(-77);
    expect(balanceOf(item("02", "C", 0))).toBe(0);
  });

  test("absent or malformed: no balance, no error", () => {
    expect(balanceOf(undefined)).toBeUndefined();
    expect(balanceOf("1002156C00000000123")).toBeUndefined();
    expect(balanceOf("1002156X000000001234")).toBeUndefined();
  });
});

describe("approval references", () => {
  test.each([
    ["A1B2C3", "123456789012", true],
    ["   001", undefined, true],
    [undefined, "000000000001", true],
    [undefined, undefined, true],
    ["a1b2c3", "123456789012", false],
    ["A1B2C", "123456789012", false],
    ["A1B2C3D", "123456789012", false],
    ["-A1B2C", "123456789012", false],
    ["A1B2C-", "123456789012", false],
    ["-A1B2C3", "123456789012", false],
    ["A1B2C3", "X123456789012", false],
    ["A1B2C3", "12345678901", false],
    ["A1B2C3", "1234567890123", false],
    ["A1B2C3", "X23456789012", false],
    ["A1B2C3", "12345678901X", false],
  ])("F38 %j, F37 %j: %s", (f38, f37, valid) => {
    expect(approvalReferencesValid(f38, f37)).toBe(valid);
  });
});
