/**
 * The docs carry the machines' tables: docs/transactions.md the reversal machine's
 * (modules/txn/reversal-machine.ts), docs/update.md the update machine's (modules/update/update-machine.ts).
 * These tests hold each to the code's: a transition added, removed or changed on one side fails here.
 */
import fs from "node:fs";
import path from "node:path";
import { REVERSAL_TRANSITIONS } from "../../../modules/txn/reversal-machine";
import { UPDATE_TRANSITIONS } from "../../../modules/update/update-machine";

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), "../../..");

function documentedTransitions(file: string, marker: string): string[] {
  const doc = fs.readFileSync(path.join(root, file), "utf8");
  const start = doc.indexOf(`<!-- ${marker}:start -->`);
  const end = doc.indexOf(`<!-- ${marker}:end -->`);
  if (start < 0 || end < start) throw new Error(`${file} has no ${marker} table markers`);
  return doc
    .slice(start, end)
    .split("\n")
    .filter((line) => /^\| `/.test(line))
    .map((line) => {
      const cells = line.split("|").map((c) => c.trim().replace(/`/g, ""));
      return `${cells[1]} --${cells[2]}--> ${cells[3]}`;
    });
}

test("the documented reversal machine is the code's, row for row", () => {
  const code = REVERSAL_TRANSITIONS.map((t) => `${t.from} --${t.on}--> ${t.to}`);
  expect(documentedTransitions("docs/transactions.md", "reversal-machine")).toEqual(code);
});

test("the documented update machine is the code's, row for row", () => {
  const code = UPDATE_TRANSITIONS.map((t) => `${t.from} --${t.on}--> ${t.to}`);
  expect(documentedTransitions("docs/update.md", "update-machine")).toEqual(code);
});
