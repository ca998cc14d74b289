/** The page's ISO field and message names are the Wireshark dissector's: one vocabulary for both tools. */
import fs from "node:fs";
import { FIELD_NAMES, MTI_NAMES } from "../../../tools/sim/field-names";
import { CUP } from "../../../modules/iso8583/dialect";

const lua = fs.readFileSync("tools/wireshark/cup8583.lua", "utf8");

test("every field of the CUP dialect has the dissector's name", () => {
  const fromLua = Object.fromEntries(
    [...lua.matchAll(/\[(\d+)\] = \{ "[a-z]+", "\w+", \d+, "\w+", "([^"]+)" \}/g)].map((m) => [m[1], m[2]]),
  );
  expect(Object.fromEntries(Object.entries(FIELD_NAMES))).toEqual(fromLua);
  const defined = CUP.fields.flatMap((def, n) => (def === undefined || n < 2 ? [] : [String(n)]));
  expect(defined.filter((n) => FIELD_NAMES[Number(n)] === undefined)).toEqual([]);
});

test("message type names are the dissector's", () => {
  const fromLua = Object.fromEntries([...lua.matchAll(/\["(\d{4})"\] = "([^"]+)"/g)].map((m) => [m[1], m[2]]));
  expect({ ...MTI_NAMES }).toEqual(fromLua);
});
