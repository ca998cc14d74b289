/**
 * The host's fault schedule: what to do wrong to the next messages or
 * connections. Shared by the network server (switched through the control
 * API) and by the scenario and chaos runners (switched by `hostFault` steps).
 * Kinds and parameters follow docs/contracts.md (`hostFault`); kinds after
 * the contract's are extensions (docs/host-simulator.md "Faults").
 */

export const FAULT_KINDS = Object.freeze([
  "delay",
  "noResponse",
  "closeBeforeRead",
  "closeAfterRead",
  "closeMidResponse",
  "badMac",
  "decline",
  "duplicateResponse",
  "wrongStan",
  "refuseConnection",
  "tlsHandshakeFail",
  // Extensions of the contract's kinds:
  "wrongMerchant",
  "stripMac",
  "wrongEcho",
  "dropFields",
  "oddReferences",
] as const);

export type FaultKind = (typeof FAULT_KINDS)[number];

/** Faults that act on a connection attempt, before any message exists. */
export const CONNECTION_FAULT_KINDS: readonly FaultKind[] = Object.freeze(["refuseConnection", "tlsHandshakeFail"]);

/** Faults after which the host never saw the request: no ledger effect. */
export const UNPROCESSED_FAULT_KINDS: readonly FaultKind[] = Object.freeze(["closeBeforeRead", "refuseConnection", "tlsHandshakeFail"]);

export interface Fault {
  readonly kind: FaultKind;
  /** `delay` only: how long the response is held back. */
  readonly ms?: number;
  /** `decline` only: the response code to answer with. */
  readonly code?: string;
  /** `decline` only, optional: the answer's MAC is spoilt too, as `badMac` spoils it (a decline the terminal acts on anyway). */
  readonly badMac?: boolean;
  /** `wrongEcho` only: the echoed field (3, 4 or 42) whose last digit the answer changes. */
  readonly field?: number;
  /**
   * `dropFields`: the fields (37, 38) the answer goes without; `oddReferences`: the fields it carries in characters valid
   * for ISO 8583 (an) but not for CUP references (F38 lower case, F37 with letters). Bitmap and MAC match what is sent.
   */
  readonly fields?: readonly number[];
  /** How many messages (connection faults: connection attempts) it applies to. */
  readonly count: number;
  /** Only messages of this type (e.g. "0200"); absent = any. Ignored by connection faults. */
  readonly mti?: string;
}

/** Fields of an answer that `wrongEcho` may change: the ones the terminal checks against its request (F3, F4, F42). */
export const ECHO_FIELDS: readonly number[] = Object.freeze([3, 4, 42]);
/** Fields of an answer that `dropFields` may leave out: an approval's references (F37 RRN, F38 auth code). */
export const DROPPABLE_FIELDS: readonly number[] = Object.freeze([37, 38]);

export const FAULT_COUNT_MAX = 1_000_000;
export const FAULT_DELAY_MS_MAX = 3_600_000;
/** Faults waiting at once; more is a mistake in a script. */
export const FAULTS_PENDING_MAX = 64;

export class FaultSpecError extends Error {
  override readonly name = "FaultSpecError";
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`fault ${field}: ${detail}`);
  }
}

/** Validates an untrusted fault description (JSON from the control API or a scenario). */
export function parseFault(input: unknown): Fault {
  if (typeof input !== "object" || input === null || Array.isArray(input)) throw new FaultSpecError("", "must be a JSON object");
  const raw = input as Record<string, unknown>;
  for (const key of Object.keys(raw))
    if (!["kind", "ms", "code", "badMac", "field", "fields", "count", "mti"].includes(key))
      throw new FaultSpecError(key, "unknown parameter");
  const kind = raw.kind;
  if (typeof kind !== "string" || !(FAULT_KINDS as readonly string[]).includes(kind))
    throw new FaultSpecError("kind", `must be one of ${FAULT_KINDS.join(", ")}, got ${JSON.stringify(kind)}`);
  const count = raw.count ?? 1;
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > FAULT_COUNT_MAX)
    throw new FaultSpecError("count", `must be an integer from 1 to ${FAULT_COUNT_MAX}`);
  const fault: { -readonly [K in keyof Fault]: Fault[K] } = { kind: kind as FaultKind, count };
  if (raw.mti !== undefined) {
    if (typeof raw.mti !== "string" || !/^[0-9]{4}$/.test(raw.mti)) throw new FaultSpecError("mti", "must be 4 digits");
    fault.mti = raw.mti;
  }
  if (kind === "delay") {
    if (typeof raw.ms !== "number" || !Number.isInteger(raw.ms) || raw.ms < 0 || raw.ms > FAULT_DELAY_MS_MAX)
      throw new FaultSpecError("ms", `delay needs ms, an integer from 0 to ${FAULT_DELAY_MS_MAX}`);
    fault.ms = raw.ms;
  } else if (raw.ms !== undefined) throw new FaultSpecError("ms", `only for delay, not ${kind}`);
  if (kind === "decline") {
    if (typeof raw.code !== "string" || !/^[0-9A-Z]{2}$/.test(raw.code) || raw.code === "00")
      throw new FaultSpecError("code", "decline needs code, two digits or capitals other than 00");
    fault.code = raw.code;
    if (raw.badMac !== undefined) {
      if (typeof raw.badMac !== "boolean") throw new FaultSpecError("badMac", "must be true or false");
      fault.badMac = raw.badMac;
    }
  } else {
    if (raw.code !== undefined) throw new FaultSpecError("code", `only for decline, not ${kind}`);
    if (raw.badMac !== undefined) throw new FaultSpecError("badMac", `only for decline, not ${kind}`);
  }
  if (kind === "wrongEcho") {
    if (typeof raw.field !== "number" || !ECHO_FIELDS.includes(raw.field))
      throw new FaultSpecError("field", `wrongEcho needs field, one of ${ECHO_FIELDS.join(", ")}`);
    fault.field = raw.field;
  } else if (raw.field !== undefined) throw new FaultSpecError("field", `only for wrongEcho, not ${kind}`);
  if (kind === "dropFields" || kind === "oddReferences") {
    const fields = raw.fields;
    if (
      !Array.isArray(fields) ||
      fields.length === 0 ||
      fields.some((n, i) => typeof n !== "number" || !DROPPABLE_FIELDS.includes(n) || fields.indexOf(n) !== i)
    )
      throw new FaultSpecError("fields", `${kind} needs fields, a list of distinct numbers among ${DROPPABLE_FIELDS.join(", ")}`);
    fault.fields = Object.freeze((fields as number[]).slice());
  } else if (raw.fields !== undefined) throw new FaultSpecError("fields", `only for dropFields and oddReferences, not ${kind}`);
  return Object.freeze(fault);
}

/**
 * Pending faults in arrival order. Each message (or connection attempt) takes
 * the first pending fault that applies to it and uses up one of its count.
 */
export class FaultSchedule {
  readonly #pending: { fault: Fault; remaining: number }[] = [];

  add(fault: Fault): void {
    if (this.#pending.length >= FAULTS_PENDING_MAX)
      throw new FaultSpecError("count", `at most ${FAULTS_PENDING_MAX} faults may be pending`);
    this.#pending.push({ fault, remaining: fault.count });
  }

  clear(): void {
    this.#pending.length = 0;
  }

  /** Pending faults with what is left of their count. */
  list(): Fault[] {
    return this.#pending.map(({ fault, remaining }) => ({ ...fault, count: remaining }));
  }

  /** The message fault for a message of type `mti`, if any; uses it up. */
  takeForMessage(mti: string): Fault | undefined {
    return this.#take((f) => !CONNECTION_FAULT_KINDS.includes(f.kind) && (f.mti === undefined || f.mti === mti));
  }

  /** The connection fault for a new connection attempt, if any; uses it up. */
  takeForConnection(): Fault | undefined {
    return this.#take((f) => CONNECTION_FAULT_KINDS.includes(f.kind));
  }

  #take(applies: (fault: Fault) => boolean): Fault | undefined {
    const index = this.#pending.findIndex((entry) => applies(entry.fault));
    if (index < 0) return undefined;
    const entry = this.#pending[index];
    entry.remaining -= 1;
    if (entry.remaining === 0) this.#pending.splice(index, 1);
    return entry.fault;
  }
}
