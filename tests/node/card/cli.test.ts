import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TEST_CARDS } from "../../../modules/card/test-cards";
import { encodeTrack } from "../../../modules/emulators/msr-reader";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

function xspos(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(path.join(ROOT, "tools/xspos"), args, { cwd: ROOT, encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const TRACK = ";4111111111111111=26121019761186800000?";
const BITS = Array.from(encodeTrack(TRACK)).join("");

describe("xspos msr decode", () => {
  test("forward and reverse", () => {
    const forward = xspos("msr", "decode", "--bits", BITS);
    expect(forward.status).toBe(0);
    expect(JSON.parse(forward.stdout)).toEqual({
      track: 2,
      pan: "411111******1111",
      expiry: "2612",
      serviceCode: "101",
      direction: "forward",
    });
    const reverse = xspos("msr", "decode", "--bits", BITS.split("").reverse().join(""));
    expect(JSON.parse(reverse.stdout)).toMatchObject({ direction: "reverse", pan: "411111******1111" });
  });

  test("failures exit 2 naming the reason", () => {
    const flipped = BITS.slice(0, 24 + 12) + (BITS[24 + 12] === "1" ? "0" : "1") + BITS.slice(24 + 13);
    const parity = xspos("msr", "decode", "--bits", flipped);
    expect(parity.status).toBe(2);
    expect(parity.stderr.trim()).toBe("xspos: msr decode: parity error at character 2");
    expect(xspos("msr", "decode", "--bits", "0000000000").stderr).toContain("no start sentinel");
    const luhn = Array.from(encodeTrack(";4111111111111112=26121019761186800000?")).join("");
    expect(xspos("msr", "decode", "--bits", luhn).stderr).toContain("Luhn");
    const lrc = xspos("msr", "decode", "--bits", BITS.slice(0, -29) + "00100" + "0".repeat(24));
    expect(lrc.stderr).toContain("LRC");
    expect(xspos("msr", "decode", "--bits", "01x").status).toBe(2);
    expect(xspos("msr", "decode").status).toBe(2);
  });
});

describe("xspos card read", () => {
  test.each([
    ["unionpay-chip", "pn532", "contact", "051"],
    ["visa-contactless", "pn532", "pn532", "071"],
    ["visa-contactless", "mfrc522", "mfrc522", "071"],
    ["visa-msr", "pn532", "msr", "021"],
  ])("%s via %s", (profile, readerOption, reader, entryMode) => {
    const result = xspos("card", "read", "--profile", profile, "--reader", readerOption);
    expect(result.status).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out).toMatchObject({ profile, reader, entryMode });
    expect(out.pan).toMatch(/^\d{6}\*+\d{4}$/);
    // No full PAN and no discretionary data anywhere in the output, trace included.
    const card = TEST_CARDS.find((c) => c.name === profile)!;
    expect(result.stdout).not.toContain(card.pan);
    expect(result.stdout).not.toContain(`${card.expiry}${card.serviceCode}${card.discretionary}`);
    if (entryMode !== "021") expect(out.trace.length).toBeGreaterThan(3);
  });

  test("a card removed mid-transaction prints the error and exits 1; bad usage exits 2", () => {
    const removed = xspos("card", "read", "--profile", "chip-removed-mid-transaction");
    expect(removed.status).toBe(1);
    expect(JSON.parse(removed.stdout).error).toMatchObject({ reason: "timeout" });
    expect(xspos("card", "read", "--profile", "nope").status).toBe(2);
    expect(xspos("card", "read", "--profile", "visa-contactless", "--reader", "pn5180").status).toBe(2);
  });
});
