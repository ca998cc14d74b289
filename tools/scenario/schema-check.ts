/**
 * Scenario files and host fault specs checked against the project's JSON
 * Schemas (docs/schemas, draft-07) with ajv before the hand-written parsers
 * (scenario-file.ts, faults.ts) build them: the schema is the contract, and a
 * refusal names the JSON path (`steps[3].fault.ms: …`). The parsers still run
 * after: they type the result and keep the checks the schema cannot say (the
 * parameter table's aliases read as one parameter). Node only: it reads the
 * schema files.
 */
import Ajv from "ajv";
import fs from "node:fs";
import { FaultSpecError } from "../host/faults";
import { ScenarioFileError } from "./scenario-file";

const read = (name: string): object =>
  JSON.parse(fs.readFileSync(new URL(`../../docs/schemas/${name}`, import.meta.url), "utf8")) as object;

// One error is enough to name; the scenario schema refers to the fault schema by its $id.
// verbose: an error carries its schema, so a `not` can say what it excludes.
const ajv = new Ajv({ allErrors: false, jsonPointers: false, verbose: true });
ajv.addSchema(read("fault.schema.json"));
const validateScenario = ajv.compile(read("scenario.schema.json"));
const validateFault = ajv.getSchema("https://xspos.invalid/schemas/fault.schema.json")!;

type SchemaError = NonNullable<typeof validateScenario.errors>[number];

const COMBINATORS = Object.freeze(["if", "oneOf", "anyOf", "allOf"]);

/** `.steps[1].amount` → `steps[1].amount`. */
function pathOf(error: SchemaError): string {
  return error.dataPath.replace(/^\./, "");
}

/** The error that says most: the deepest path; a oneOf (the expectation forms) only where no branch went deeper. */
function explain(errors: readonly SchemaError[]): { where: string; detail: string } {
  const depth = (e: SchemaError) => pathOf(e).length;
  const plain = errors.filter((e) => !COMBINATORS.includes(e.keyword));
  const oneOf = errors.find((e) => e.keyword === "oneOf");
  const deepest = plain.reduce<SchemaError | undefined>((best, e) => (best === undefined || depth(e) > depth(best) ? e : best), undefined);
  if (deepest === undefined || (oneOf !== undefined && depth(oneOf) >= depth(deepest)))
    return { where: pathOf(oneOf ?? errors[0]), detail: "must be exactly one of the forms the schema allows" };
  const where = pathOf(deepest);
  const params = deepest.params as Record<string, unknown>;
  switch (deepest.keyword) {
    case "additionalProperties":
      return { where: joinPath(where, String(params.additionalProperty)), detail: "unknown key" };
    case "required":
      return { where: joinPath(where, String(params.missingProperty).replace(/^\./, "")), detail: "missing" };
    case "enum":
      return { where, detail: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}` };
    case "not": {
      const excluded = (deepest.parentSchema as { not?: { const?: unknown; required?: string[] } }).not;
      if (excluded?.required !== undefined) return { where: joinPath(where, excluded.required[0]), detail: "not allowed with this kind" };
      if (excluded?.const !== undefined) return { where, detail: `must not be ${JSON.stringify(excluded.const)}` };
      return { where, detail: "has a value the schema excludes" };
    }
    default:
      return { where, detail: (deepest.message ?? "is invalid").replace(/^should /, "must ") };
  }
}

function joinPath(where: string, key: string): string {
  const part = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `[${JSON.stringify(key)}]`;
  return where === "" ? part : part.startsWith("[") ? `${where}${part}` : `${where}.${part}`;
}

/** Refuses parsed JSON that is not a scenario file by docs/schemas/scenario.schema.json (ScenarioFileError, exit 2). */
export function checkScenarioSchema(value: unknown): void {
  if (validateScenario(value) === true) return;
  const { where, detail } = explain(validateScenario.errors ?? []);
  throw new ScenarioFileError(where === "" ? "scenario" : where, detail);
}

/** Refuses a fault spec that does not fit docs/schemas/fault.schema.json (FaultSpecError naming the key). */
export function checkFaultSchema(value: unknown): void {
  if (validateFault(value) === true) return;
  const { where, detail } = explain(validateFault.errors ?? []);
  throw new FaultSpecError(where, detail);
}
