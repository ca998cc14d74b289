/**
 * Invariant 6's scanner: every encoding of a test card's PAN, track 2 and PIN
 * block is found in a memory image or a log line; masked PANs are not.
 */
import { fromHex } from "../../../modules/base/hex";
import { TEST_CARDS } from "../../../modules/card/test-cards";
import { pinBlockFormat0 } from "../../../modules/crypto/pin-block";
import { maskPan } from "../../../modules/platform/log";
import { SecretScanner } from "../../../tools/chaos/secrets";

const card = TEST_CARDS.find((c) => c.name === "unionpay-chip")!;

function image(at: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4096).fill(0xff);
  out.set(bytes, at);
  return out;
}

describe("SecretScanner", () => {
  const scanner = new SecretScanner();

  test.each([
    ["ASCII", Uint8Array.from(Buffer.from(card.pan, "ascii")), "pan"],
    ["packed BCD", fromHex(card.pan), "pan"],
    ["BCD at an odd nibble", fromHex(`0${card.pan}F`), "pan"],
    ["track 2 BCD", fromHex(`${card.pan}D${card.expiry}${card.serviceCode}${card.discretionary}`.padEnd(38, "F")), "pan"],
    ["clear PIN block", pinBlockFormat0("1234", card.pan), "pinBlock"],
  ])("finds the PAN/PIN block as %s in a flash image", (_how, bytes, kind) => {
    const hit = scanner.scanBytes(image(1000, bytes));
    expect(hit).toMatchObject({ kind, card: card.name });
    expect(hit!.offset).toBeGreaterThanOrEqual(1000);
  });

  test("an erased or masked image is clean", () => {
    expect(scanner.scanBytes(new Uint8Array(4096).fill(0xff))).toBeUndefined();
    expect(scanner.scanBytes(image(10, Uint8Array.from(Buffer.from(maskPan(card.pan), "ascii"))))).toBeUndefined();
  });

  test("erased sectors are skipped, but not a secret at their edge or across a sector boundary", () => {
    const pan = fromHex(card.pan);
    const sectors = (at: number) => {
      const out = new Uint8Array(3 * 4096).fill(0xff);
      out.set(pan, at);
      return out;
    };
    // The last bytes of sector 0, across sectors 0 and 1, the first bytes of the last sector.
    for (const at of [4096 - pan.length, 4096 - 3, 2 * 4096])
      expect(scanner.scanBytes(sectors(at))).toMatchObject({ kind: "pan", offset: at });
    const block = pinBlockFormat0("1234", card.pan);
    const across = new Uint8Array(2 * 4096).fill(0xff);
    across.set(block, 4096 - 1);
    expect(scanner.scanBytes(across)).toMatchObject({ kind: "pinBlock", offset: 4096 - 1 });
    expect(scanner.scanBytes(new Uint8Array(3 * 4096).fill(0xff))).toBeUndefined();
  });

  test("in written bytes a needle's first bytes alone are no hit; the whole needle ending at the image's last byte is", () => {
    const block = pinBlockFormat0("1234", card.pan);
    const written = new Uint8Array(4096).map((_, i) => (i * 37 + 11) & 0x7f);
    written.set(block.subarray(0, 4), 100); // its first half (the PIN's; the PAN's half is what differs between cards)
    written[104] = block[4] ^ 0xff;
    written.set(block.subarray(0, 2), 4096 - 2); // cut by the end of the image (its first two bytes only fit)
    expect(scanner.scanBytes(written)).toBeUndefined();
    written.set(block, 4096 - block.length);
    expect(scanner.scanBytes(written)).toMatchObject({ kind: "pinBlock", offset: 4096 - block.length });
  });

  test("finds PAN and track 2 in log lines, in either case, and not a masked PAN", () => {
    expect(scanner.scanText(`card ${card.pan} read`)).toMatchObject({ kind: "pan" });
    expect(scanner.scanText(`;${card.pan}=${card.expiry}${card.serviceCode}${card.discretionary}?`)).toMatchObject({ kind: "pan" });
    expect(scanner.scanText(`block ${Buffer.from(pinBlockFormat0("9999", card.pan)).toString("hex")}`)).toMatchObject({ kind: "pinBlock" });
    expect(scanner.scanText(`card ${maskPan(card.pan)} approved`)).toBeUndefined();
  });
});
