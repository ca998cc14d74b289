/**
 * The scenario file format of docs/contracts.md (docs/schemas/scenario.schema.json), validated: anything that
 * does not fit is a ScenarioFileError naming where (exit 2). The CLI and the simulator page check a file
 * against the schema first (schema-check.ts, ajv); this parser types it and also runs where no schema file
 * can be read (the XS bench bundles it).
 */
import { ParameterError, resolveParameters, type TerminalParameters } from "../../modules/terminal/parameters";
import { parseVersion } from "../../modules/tms/manifest";
import { MAX_IMAGE_BYTES } from "../../modules/tms/source";
import { parseFault, FaultSpecError, type Fault } from "../host/faults";
import { checkPublishedParameters, IMAGE_KINDS, TmsPublishError, type ImageKind, type ImageSpec } from "../host/tms";

/** The emulated NOR flash (an extension of the contract's file): small journals make capacity limits reachable. */
export interface FlashGeometry {
  /** Erase sector size; default 4096 (the ESP32's). */
  readonly sectorBytes?: number;
  /** Sectors of the journal partition (3..64); default 8. Two more hold the state record. */
  readonly journalSectors?: number;
}

export type Step =
  | { readonly op: "powerOn" | "powerOff" | "signOn" | "signOff" | "echo" | "settle" | "networkCheck" | "drain" | "tmsCheck" }
  | { readonly op: "powerCut"; readonly atFlashOp?: number }
  | { readonly op: "balance"; readonly card: string; readonly pin?: string }
  | { readonly op: "sale"; readonly amount: number; readonly card: string; readonly pin?: string }
  | { readonly op: "refund"; readonly amount: number; readonly card: string; readonly pin?: string; readonly stan?: string }
  | { readonly op: "void"; readonly stan: string }
  | { readonly op: "advance"; readonly ms: number }
  | { readonly op: "hostFault"; readonly fault: Fault }
  | { readonly op: "network"; readonly state: "down" | "up"; readonly latencyMs?: number }
  | { readonly op: "tmsPublish"; readonly parameters: Readonly<Record<string, number | boolean | string>> }
  | { readonly op: "tmsPublish"; readonly image: ImageSpec };

export type Partial = Readonly<Record<string, unknown>>;
export type Expectation = { readonly has: Partial } | { readonly lacks: Partial } | { readonly count: Partial; readonly eq: number };

export interface Scenario {
  readonly name: string;
  readonly terminal: TerminalParameters;
  readonly flash?: FlashGeometry;
  readonly steps: readonly Step[];
  readonly expect: readonly Expectation[];
}

export class ScenarioFileError extends Error {
  override readonly name = "ScenarioFileError";
  constructor(
    readonly where: string,
    detail: string,
  ) {
    super(`${where}: ${detail}`);
  }
}

const STEPS_MAX = 10_000;
const MS_MAX = 24 * 60 * 60 * 1000;
const SIMPLE_OPS = Object.freeze(["powerOn", "powerOff", "signOn", "signOff", "echo", "settle", "networkCheck", "drain", "tmsCheck"]);

type Raw = Record<string, unknown>;

function object(value: unknown, where: string): Raw {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new ScenarioFileError(where, "must be a JSON object");
  return value as Raw;
}

function integer(raw: Raw, key: string, where: string, min: number, max: number): number {
  const value = raw[key];
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    throw new ScenarioFileError(`${where}.${key}`, `must be an integer from ${min} to ${max}`);
  return value;
}

function optionalInteger(raw: Raw, key: string, where: string, min: number, max: number): number | undefined {
  return raw[key] === undefined ? undefined : integer(raw, key, where, min, max);
}

function text(raw: Raw, key: string, where: string, pattern: RegExp): string {
  const value = raw[key];
  if (typeof value !== "string" || !pattern.test(value))
    throw new ScenarioFileError(`${where}.${key}`, `must be a string matching ${pattern}`);
  return value;
}

function optionalText(raw: Raw, key: string, where: string, pattern: RegExp): string | undefined {
  return raw[key] === undefined ? undefined : text(raw, key, where, pattern);
}

function onlyKeys(raw: Raw, keys: readonly string[], where: string): void {
  for (const key of Object.keys(raw)) if (!keys.includes(key)) throw new ScenarioFileError(`${where}.${key}`, "unknown key");
}

/** The terminal parameters through the one table (modules/terminal/parameters.ts): `reversalRetries` still read as `reversalAttempts`. */
function terminal(value: unknown): TerminalParameters {
  const raw = object(value ?? {}, "terminal");
  try {
    return resolveParameters(raw);
  } catch (error) {
    if (error instanceof ParameterError) throw new ScenarioFileError(`terminal.${error.parameter}`, error.detail);
    throw error;
  }
}

const SECTOR_BYTES = Object.freeze([512, 1024, 2048, 4096]);

function flash(value: unknown): FlashGeometry | undefined {
  if (value === undefined) return undefined;
  const raw = object(value, "flash");
  onlyKeys(raw, ["sectorBytes", "journalSectors"], "flash");
  const sectorBytes = optionalInteger(raw, "sectorBytes", "flash", 512, 4096);
  if (sectorBytes !== undefined && !SECTOR_BYTES.includes(sectorBytes))
    throw new ScenarioFileError("flash.sectorBytes", `must be one of ${SECTOR_BYTES.join(", ")}`);
  return { sectorBytes, journalSectors: optionalInteger(raw, "journalSectors", "flash", 3, 64) };
}

const PIN = /^[0-9]{4,12}$/;
const STAN = /^[0-9]{6}$/;
const CARD = /^[a-z0-9-]{1,40}$/;

function step(value: unknown, index: number): Step {
  const where = `steps[${index}]`;
  const raw = object(value, where);
  const op = raw.op;
  if (typeof op !== "string") throw new ScenarioFileError(`${where}.op`, "missing");
  if (SIMPLE_OPS.includes(op)) {
    onlyKeys(raw, ["op"], where);
    return { op } as Step;
  }
  switch (op) {
    case "powerCut":
      onlyKeys(raw, ["op", "atFlashOp"], where);
      return { op, atFlashOp: optionalInteger(raw, "atFlashOp", where, 1, 1_000_000) };
    case "balance":
      onlyKeys(raw, ["op", "card", "pin"], where);
      return { op, card: text(raw, "card", where, CARD), pin: optionalText(raw, "pin", where, PIN) };
    case "sale":
      onlyKeys(raw, ["op", "amount", "card", "pin"], where);
      return {
        op,
        amount: integer(raw, "amount", where, 1, 99_999_999_999),
        card: text(raw, "card", where, CARD),
        pin: optionalText(raw, "pin", where, PIN),
      };
    case "refund":
      onlyKeys(raw, ["op", "amount", "card", "pin", "stan"], where);
      return {
        op,
        amount: integer(raw, "amount", where, 1, 99_999_999_999),
        card: text(raw, "card", where, CARD),
        pin: optionalText(raw, "pin", where, PIN),
        stan: optionalText(raw, "stan", where, STAN),
      };
    case "void":
      onlyKeys(raw, ["op", "stan"], where);
      return { op, stan: text(raw, "stan", where, STAN) };
    case "advance":
      onlyKeys(raw, ["op", "ms"], where);
      return { op, ms: integer(raw, "ms", where, 0, MS_MAX) };
    case "hostFault":
      onlyKeys(raw, ["op", "fault"], where);
      try {
        return { op, fault: parseFault(raw.fault) };
      } catch (error) {
        if (error instanceof FaultSpecError) throw new ScenarioFileError(`${where}.fault`, error.message);
        throw error;
      }
    case "network": {
      onlyKeys(raw, ["op", "state", "latencyMs"], where);
      const state = raw.state;
      if (state !== "down" && state !== "up") throw new ScenarioFileError(`${where}.state`, 'must be "down" or "up"');
      return { op, state, latencyMs: optionalInteger(raw, "latencyMs", where, 0, 600_000) };
    }
    case "tmsPublish":
      return tmsPublish(raw, where);
    default:
      throw new ScenarioFileError(`${where}.op`, `unknown op ${JSON.stringify(op)}`);
  }
}

/** `{"op":"tmsPublish","parameters":{...}}` or `{"op":"tmsPublish","image":{"version","kind"[,"sizeBytes"]}}`. */
function tmsPublish(raw: Raw, where: string): Step {
  onlyKeys(raw, ["op", "parameters", "image"], where);
  if ((raw.parameters === undefined) === (raw.image === undefined))
    throw new ScenarioFileError(where, "tmsPublish needs exactly one of parameters and image");
  if (raw.parameters !== undefined) return { op: "tmsPublish", parameters: publishedParameters(raw.parameters, `${where}.parameters`) };
  const image = object(raw.image, `${where}.image`);
  onlyKeys(image, ["version", "kind", "sizeBytes"], `${where}.image`);
  const version = image.version;
  if (typeof version !== "string" || parseVersion(version) === undefined)
    throw new ScenarioFileError(`${where}.image.version`, "must be major.minor.patch, each 0..65535");
  const kind = image.kind;
  if (typeof kind !== "string" || !(IMAGE_KINDS as readonly string[]).includes(kind))
    throw new ScenarioFileError(`${where}.image.kind`, `must be one of ${IMAGE_KINDS.join(", ")}`);
  const sizeBytes = optionalInteger(image, "sizeBytes", `${where}.image`, 1, MAX_IMAGE_BYTES);
  return { op: "tmsPublish", image: { version, kind: kind as ImageKind, ...(sizeBytes !== undefined ? { sizeBytes } : {}) } };
}

function publishedParameters(value: unknown, where: string): Readonly<Record<string, number | boolean | string>> {
  try {
    return checkPublishedParameters(value);
  } catch (error) {
    if (error instanceof TmsPublishError) throw new ScenarioFileError(where, error.message);
    throw error;
  }
}

function expectation(value: unknown, index: number): Expectation {
  const where = `expect[${index}]`;
  const raw = object(value, where);
  if (raw.has !== undefined) return (onlyKeys(raw, ["has"], where), { has: object(raw.has, `${where}.has`) });
  if (raw.lacks !== undefined) return (onlyKeys(raw, ["lacks"], where), { lacks: object(raw.lacks, `${where}.lacks`) });
  if (raw.count !== undefined) {
    onlyKeys(raw, ["count", "eq"], where);
    return { count: object(raw.count, `${where}.count`), eq: integer(raw, "eq", where, 0, 1_000_000) };
  }
  throw new ScenarioFileError(where, "needs has, lacks or count");
}

/** Validates parsed JSON as a scenario. */
export function parseScenario(value: unknown): Scenario {
  const raw = object(value, "scenario");
  onlyKeys(raw, ["name", "terminal", "flash", "steps", "expect"], "scenario");
  const name = raw.name ?? "";
  if (typeof name !== "string") throw new ScenarioFileError("name", "must be a string");
  if (!Array.isArray(raw.steps) || raw.steps.length > STEPS_MAX)
    throw new ScenarioFileError("steps", `must be an array of at most ${STEPS_MAX} steps`);
  const expect = raw.expect ?? [];
  if (!Array.isArray(expect)) throw new ScenarioFileError("expect", "must be an array");
  const geometry = flash(raw.flash);
  const scenario = { name, terminal: terminal(raw.terminal), steps: raw.steps.map(step), expect: expect.map(expectation) };
  return geometry === undefined ? scenario : { ...scenario, flash: geometry };
}
