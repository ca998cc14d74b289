/**
 * `xspos mac`, `pinblock`, `kcv` per docs/contracts.md: the §3.6 vectors,
 * exit code 2 with one stderr line on bad input, and no key, PIN, PAN or PIN
 * block in any error.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { UsageError, type Command } from "../../../tools/cli/command";
import { command as kcv } from "../../../tools/cli/commands/kcv";
import { command as mac } from "../../../tools/cli/commands/mac";
import { command as pinblock } from "../../../tools/cli/commands/pinblock";
import { REPO_ROOT } from "../../../tools/xs/suites";

/** Runs a command in-process with console.log captured. */
async function capture(command: Command, args: string[]): Promise<{ code?: number; lines: string[]; error?: unknown }> {
  const lines: string[] = [];
  const original = console.log;
  console.log = (line: string) => void lines.push(line);
  try {
    return { code: await command.run(args), lines };
  } catch (error) {
    return { lines, error };
  } finally {
    console.log = original;
  }
}

async function output(command: Command, args: string[]): Promise<string> {
  const result = await capture(command, args);
  expect(result.error).toBeUndefined();
  expect(result.code).toBe(0);
  return result.lines.join("\n");
}

async function usageError(command: Command, args: string[]): Promise<string> {
  const result = await capture(command, args);
  expect(result.error).toBeInstanceOf(UsageError);
  expect(result.lines).toEqual([]);
  return (result.error as Error).message;
}

const TDES_KEY = "0123456789ABCDEFFEDCBA9876543210";
const PAN = "5432101234567891";

describe("xspos mac", () => {
  test.each([
    [["--alg", "cup-ecb", "--key", "5CBE7E38A146FD5C", "--data", "010203"], "4631314632433237"],
    [
      ["--alg", "x99", "--key", "0123456789abcdef", "--data", "37363534333231204e6f77206973207468652074696d6520666f7220"],
      "F1D30F6849312CA4",
    ],
    [["--alg", "x919", "--key", "7CA110454A1A6E570131D9619DC1376E", "--data", "48656C6C6F20576F726C642021212121"], "F09B856213BAB83B"],
    [["--alg", "x919", "--key", "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB", "--data", "68656C6C6F20776F726C64"], "78DA3D3DEB48FD4D"],
  ])("%j -> %s", async (args, expected) => {
    expect(await output(mac, args)).toBe(expected);
  });
});

describe("xspos pinblock", () => {
  test("clear format 0 block", async () => {
    expect(await output(pinblock, ["--format", "0", "--pin", "1234", "--pan", PAN])).toBe("041215FEDCBA9876");
  });

  test("with --key: the 3DES-encrypted block", async () => {
    const encrypted = await output(pinblock, ["--format", "0", "--pin", "1234", "--pan", PAN, "--key", TDES_KEY]);
    expect(encrypted).toMatch(/^[0-9A-F]{16}$/);
    expect(encrypted).not.toBe("041215FEDCBA9876");
  });

  test("format 3 and the SM4 block", async () => {
    expect(await output(pinblock, ["--format", "3", "--pin", "1234", "--pan", PAN])).toMatch(/^3412[0-9A-F]{12}$/);
    expect(await output(pinblock, ["--format", "sm4", "--pin", "1234", "--pan", PAN])).toBe("041234FFFFFFFFFFFFFFDEFEDCBA9876");
  });
});

describe("xspos kcv", () => {
  test.each([
    [["--alg", "tdes", "--key", TDES_KEY], "08D7B4"],
    [["--alg", "tdes", "--key", TDES_KEY, "--bytes", "4"], "08D7B4FB"],
    [["--alg", "des", "--key", "0123456789ABCDEF"], "D5D44F"],
    [["--alg", "sm4", "--key", TDES_KEY, "--bytes", "4"], "2677F46B"],
  ])("%j -> %s", async (args, expected) => {
    expect(await output(kcv, args)).toBe(expected);
  });
});

describe("errors never echo a secret", () => {
  const SECRETS = [TDES_KEY, "0123456789ABCDEF", "1234", "12a4", PAN, "041215FEDCBA9876", "5CBE7E38A146FD5C"];

  test.each([
    [mac, ["--alg", "x919", "--key", "0123456789ABCDEF", "--data", "00"]],
    [mac, ["--alg", "cup-ecb", "--key", "0123456789ABCDEFX", "--data", "00"]],
    [mac, ["--alg", "md5", "--key", "5CBE7E38A146FD5C"]],
    [mac, ["--alg", "cup-ecb", "--key", "5CBE7E38A146FD5C", "5CBE7E38A146FD5C"]],
    [mac, ["--alg", "cup-ecb", "--key"]],
    [pinblock, ["--format", "0", "--pin", "12a4", "--pan", PAN]],
    [pinblock, ["--format", "0", "--pin", "1234", "--pan", PAN + "12345"]],
    [pinblock, ["--format", "0", "--pin", "1234", "--pan", PAN, "1234"]],
    [pinblock, ["--format", "0", "--pin", "1234", "--pan", PAN, "--key", "0123456789ABCDEF0123"]],
    [pinblock, ["--format", "1", "--pin", "1234", "--pan", PAN]],
    [pinblock, ["--format", "0", "--pan", PAN]],
    [kcv, ["--alg", "sm4", "--key", "0123456789ABCDEF"]],
    [kcv, ["--alg", "tdes", "--key", TDES_KEY, "--bytes", "5"]],
    [kcv, ["--alg", "tdes", "--kye", TDES_KEY]],
  ] as const)("%# refused with a message free of secrets", async (command, args) => {
    const message = await usageError(command, [...args]);
    expect(message.length).toBeGreaterThan(0);
    for (const secret of SECRETS) expect(message).not.toContain(secret);
  });

  test("through tools/xspos: exit 2, one line on stderr, nothing secret", () => {
    const xspos = path.join(REPO_ROOT, "tools/xspos");
    const result = spawnSync(xspos, ["pinblock", "--format", "0", "--pin", "9x87", "--pan", PAN, "--key", TDES_KEY], { encoding: "utf8" });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    for (const secret of [TDES_KEY, "9x87", PAN]) expect(result.stderr).not.toContain(secret);
    const good = spawnSync(xspos, ["kcv", "--alg", "tdes", "--key", TDES_KEY], { encoding: "utf8" });
    expect(good.status).toBe(0);
    expect(good.stdout).toBe("08D7B4\n");
  });
});
