/**
 * docs/transactions.md carries the reversal machine's table; this test holds it to the code's
 * (modules/txn/reversal-machine.ts): a transition added, removed or changed on one side fails here.
 */
import fs from "node:fs";
import path from "node:path";
import { REVERSAL_TRANSITIONS } from "../../../modules/txn/reversal-machine";

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), "../../..");

function documentedTransitions(): string[] {
  const doc = fs.readFileSync(path.join(root, "docs/transactions.md"), "utf8");
  const start = doc.indexOf("<!-- reversal-machine:start -->");
  const end = doc.indexOf("<!-- reversal-machine:end -->");
  if (start < 0 || end < start) throw new Error("docs/transactions.md has no reversal-machine table markers");
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
  expect(documentedTransitions()).toEqual(code);
});
