/**
 * `xspos decode` / `xspos encode` per docs/contracts.md: JSON shape, round
 * trip, exit 2 with field number and byte offset on bad input.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { UsageError, type Command } from "../../../tools/cli/command";
import { command as decode } from "../../../tools/cli/commands/decode";
import { command as encode } from "../../../tools/cli/commands/encode";
import { REPO_ROOT } from "../../../tools/xs/suites";
import { IC_SALE, IC_SALE_RESPONSE_FRAMED, SIGN_ON_FRAMED } from "../../core/iso8583/samples";

async function run(command: Command, args: string[]): Promise<{ code?: number; out: string; error?: unknown }> {
  const lines: string[] = [];
  const original = console.log;
  console.log = (line: string) => void lines.push(line);
  try {
    return { code: await command.run(args), out: lines.join("\n") };
  } catch (error) {
    return { out: lines.join("\n"), error };
  } finally {
    console.log = original;
  }
}

async function usageError(command: Command, args: string[]): Promise<string> {
  const result = await run(command, args);
  expect(result.error).toBeInstanceOf(UsageError);
  return (result.error as Error).message;
}

describe("xspos decode", () => {
  test("prints the contract's JSON for the 0800 sample", async () => {
    const { code, out } = await run(decode, ["--framed", SIGN_ON_FRAMED]);
    expect(code).toBe(0);
    expect(out).toBe(
      '{"tpdu":"6000030000","header":"603100311312","mti":"0800","fields":{"11":"000001","41":"10000159","42":"880210010210160",' +
        '"60":"00000001003","62":"53657175656E6365204E6F3136333135305358582D3443333034313139","63":"01 "}}',
    );
  });

  test("decode then encode gives back the input bytes, with and without framing and header", async () => {
    for (const [hex, args] of [
      [SIGN_ON_FRAMED, ["--framed"]],
      [IC_SALE, []],
      [IC_SALE.slice(22), ["--no-header"]],
      [IC_SALE_RESPONSE_FRAMED, ["--framed", "--dialect", "cup"]],
    ] as const) {
      const json = (await run(decode, [...args, hex])).out;
      expect((await run(encode, [...args, json])).out).toBe(hex);
    }
  });

  test("iso87ascii round trip", async () => {
    const hex = (await run(encode, ["--dialect", "iso87ascii", '{"mti":"0800","fields":{"7":"0911131411","11":"000124","70":"301"}}'])).out;
    expect(hex.startsWith("30383030")).toBe(true);
    const json = (await run(decode, ["--dialect", "iso87ascii", hex])).out;
    expect(JSON.parse(json)).toEqual({ mti: "0800", fields: { 7: "0911131411", 11: "000124", 70: "301" } });
  });

  test("bad input names the field and the byte offset", async () => {
    expect(await usageError(decode, ["--no-header", "0200" + "4000000000000000" + "20" + "00".repeat(10)])).toBe(
      "decode: field 2 at byte 10: lengthOverMaximum (20 > 19)",
    );
    expect(await usageError(decode, ["--framed", "005C" + SIGN_ON_FRAMED.slice(4)])).toContain("length prefix at byte 0: lengthMismatch");
    expect(await usageError(decode, ["ZZ"])).toContain("hex");
    expect(await usageError(decode, ["--dialect", "iso93", "00"])).toContain("--dialect");
    expect(await usageError(decode, [])).toContain("HEX");
  });
});

describe("xspos encode", () => {
  test("bad JSON and bad values exit through UsageError", async () => {
    expect(await usageError(encode, ["{"])).toContain("JSON does not parse");
    expect(await usageError(encode, ['{"fields":{}}'])).toContain('"mti" is required');
    expect(await usageError(encode, ['{"mti":"0800","fields":{"1":"00"}}'])).toContain("field key");
    expect(await usageError(encode, ['{"mti":"0800","fields":{"11":1}}'])).toContain("must be a string");
    expect(await usageError(encode, ['{"mti":"0800","extra":1}'])).toContain("unknown key");
    expect(await usageError(encode, ["--no-header", '{"mti":"0800","fields":{"11":"00001"}}'])).toBe(
      "encode: field 11 at byte 10: wrongLength (5 instead of 6)",
    );
  });

  test("tools/xspos exits 2 with one line on stderr naming the field and offset", () => {
    const result = spawnSync(path.join(REPO_ROOT, "tools/xspos"), ["decode", "--no-header", "0200" + "2000000000000000" + "00A000"], {
      encoding: "utf8",
    });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe("xspos: decode: field 3 at byte 11: badBcdNibble\n");
  });
});
