/**
 * Entry of `tools/xspos`. Subcommands are the files in ./commands: adding a
 * command is adding a file there, nothing else.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { firstLine, UsageError, type Command } from "./command";

const COMMANDS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "commands");

function commandNames(): string[] {
  return fs
    .readdirSync(COMMANDS_DIR)
    .filter((f) => f.endsWith(".ts"))
    .map((f) => f.slice(0, -3))
    .sort();
}

async function loadCommand(name: string): Promise<Command | undefined> {
  if (!/^[a-z][a-z0-9-]*$/.test(name) || !commandNames().includes(name)) return undefined;
  const module = (await import(pathToFileURL(path.join(COMMANDS_DIR, `${name}.ts`)).href)) as { command: Command };
  return module.command;
}

async function help(topic: string | undefined): Promise<number> {
  if (topic !== undefined) {
    const command = await loadCommand(topic);
    if (command === undefined) throw new UsageError(`unknown command ${JSON.stringify(topic)}; try: tools/xspos help`);
    console.log(`${topic}: ${command.summary}\n\n${command.usage.map((u) => `  ${u}`).join("\n")}`);
    return 0;
  }
  const lines = ["xspos — payment terminal firmware tools", "", "usage: tools/xspos COMMAND [OPTIONS]", "", "commands:"];
  for (const name of commandNames()) {
    const command = await loadCommand(name);
    if (command) lines.push(`  ${name.padEnd(10)} ${command.summary}`);
  }
  lines.push("", "tools/xspos help COMMAND shows a command's usage.");
  console.log(lines.join("\n"));
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") return help(rest[0]);
  const command = await loadCommand(name);
  if (command === undefined) throw new UsageError(`unknown command ${JSON.stringify(name)}; try: tools/xspos help`);
  return command.run(rest);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`xspos: ${firstLine(error.message)}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`xspos: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    if (process.env.XSPOS_DEBUG) console.error(error);
    process.exitCode = 1;
  }
}
