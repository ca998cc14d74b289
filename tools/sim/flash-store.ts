/**
 * The simulator terminal's non-volatile memory: the engine's journal
 * (reversal records and approved log) and its state record (STAN, batch,
 * settlement progress), kept on the emulated NOR flash as whole snapshots.
 *
 * This is an adapter of the simulator, not the device's format: the engine
 * talks to the TxnJournal port (modules/txn/ports.ts) and the flash journal
 * of modules/journal does not implement it yet. What it keeps of the
 * engine's rules: every call returns only once the new state is on flash
 * (so a reversal is durable before the request's first byte), and a power
 * cut inside a write leaves the previous snapshot readable:
 *
 * - two regions (halves of the partition) alternate; a write erases the
 *   older region and programs header + sealed body in one operation;
 * - header: magic, sequence, body length, CRC-32 of the body; load takes
 *   the valid region with the highest sequence;
 * - the body is AES-256-GCM sealed (the approved log carries PANs for voids;
 *   PCI DSS 3.5: never in clear at rest) under a key file in the var dir.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import { crc32 } from "../../modules/base/crc32";
import type { Flash } from "../../modules/platform/flash";
import { MemoryJournal } from "../../modules/txn/memory-journal";
import type {
  ApprovedRecord,
  ReversalReason,
  ReversalRecord,
  TerminalState,
  TerminalStateStore,
  TxnJournal,
} from "../../modules/txn/ports";

const MAGIC = 0x5853494d; // "XSIM"
const HEADER_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

interface Snapshot {
  readonly reversals: readonly ReversalRecord[];
  readonly approved: readonly ApprovedRecord[];
  readonly state: TerminalState | undefined;
}

/** The snapshot no longer fits its region: settle (closes the approved log) to make room. */
export class StoreFullError extends Error {
  override readonly name = "StoreFullError";
  constructor(
    readonly bytes: number,
    readonly capacityBytes: number,
  ) {
    super(`terminal storage full: ${bytes} bytes needed, ${capacityBytes} available; settle to close the batch`);
  }
}

/** The sealing key: 32 random bytes, created once (mode 0600), or held in RAM when there is no file. */
export function loadStoreKey(file: string | undefined): Uint8Array {
  if (file !== undefined && fs.existsSync(file)) {
    const bytes = new Uint8Array(fs.readFileSync(file));
    if (bytes.length === KEY_BYTES) return bytes;
  }
  const key = new Uint8Array(crypto.randomBytes(KEY_BYTES));
  if (file !== undefined) fs.writeFileSync(file, key, { mode: 0o600 });
  return key;
}

export class FlashStore implements TxnJournal, TerminalStateStore {
  /** Records closed by settlement since this process started (RAM only: for a run's reconcile). */
  readonly settled: ApprovedRecord[] = [];
  readonly #flash: Flash;
  readonly #key: Uint8Array;
  readonly #regionBytes: number;
  readonly #sectorsPerRegion: number;
  #journal = new MemoryJournal();
  #state: TerminalState | undefined;
  #sequence = 0;
  /** Region holding the newest snapshot (-1: none yet). */
  #current = -1;

  constructor(flash: Flash, key: Uint8Array) {
    const sectors = flash.byteLength / flash.blockSize;
    if (sectors < 2 || sectors % 2 !== 0) throw new RangeError("FlashStore needs an even number of sectors");
    this.#flash = flash;
    this.#key = key;
    this.#sectorsPerRegion = sectors / 2;
    this.#regionBytes = this.#sectorsPerRegion * flash.blockSize;
    this.#load();
  }

  /** Reads the newest valid snapshot again (after power comes back). */
  reload(): void {
    this.#load();
  }

  // ---------------------------------------------------------------- TxnJournal

  arm(record: ReversalRecord): void {
    this.#journal.arm(record);
    this.#persist();
  }

  complete(stan: string): void {
    this.#journal.complete(stan);
    this.#persist();
  }

  approve(record: ApprovedRecord): void {
    this.#journal.approve(record);
    this.#persist();
  }

  reversalDue(stan: string, reason: ReversalReason, f55?: string): void {
    this.#journal.reversalDue(stan, reason, f55);
    this.#persist();
  }

  reversed(stan: string): void {
    this.#journal.reversed(stan);
    this.#persist();
  }

  failed(stan: string): void {
    this.#journal.failed(stan);
    this.#persist();
  }

  pending(): readonly ReversalRecord[] {
    return this.#journal.pending();
  }

  /** Every reversal record, armed ones included (the page's journal panel). */
  records(): readonly ReversalRecord[] {
    return this.#journal.records();
  }

  approvedLog(): readonly ApprovedRecord[] {
    return this.#journal.approvedLog();
  }

  recover(): number {
    const due = this.#journal.recover();
    this.#persist();
    return due;
  }

  closeBatch(batch: string): void {
    this.settled.push(...this.#journal.approvedLog().filter((r) => r.batch === batch));
    this.#journal.closeBatch(batch);
    this.#persist();
  }

  // ---------------------------------------------------------------- TerminalStateStore

  load(): TerminalState | undefined {
    return this.#state;
  }

  save(state: TerminalState): void {
    this.#state = state;
    this.#persist();
  }

  // ---------------------------------------------------------------- flash

  #persist(): void {
    const snapshot: Snapshot = { reversals: this.#journal.records(), approved: this.#journal.approvedLog(), state: this.#state };
    const body = this.#seal(this.#sequence + 1, new TextEncoder().encode(JSON.stringify(snapshot)));
    if (HEADER_BYTES + body.length > this.#regionBytes) throw new StoreFullError(HEADER_BYTES + body.length, this.#regionBytes);
    const region = this.#current === 0 ? 1 : 0;
    const image = new Uint8Array(HEADER_BYTES + body.length);
    const view = new DataView(image.buffer);
    view.setUint32(0, MAGIC);
    view.setUint32(4, this.#sequence + 1);
    view.setUint32(8, body.length);
    view.setUint32(12, crc32(body));
    image.set(body, HEADER_BYTES);
    const first = region * this.#sectorsPerRegion;
    for (let s = first; s < first + this.#sectorsPerRegion; s++) this.#flash.erase(s);
    this.#flash.write(region * this.#regionBytes, image.length, image);
    this.#sequence++;
    this.#current = region;
  }

  #load(): void {
    this.#journal = new MemoryJournal();
    this.#state = undefined;
    this.#sequence = 0;
    this.#current = -1;
    let best: { region: number; sequence: number; snapshot: Snapshot } | undefined;
    for (let region = 0; region < 2; region++) {
      const found = this.#readRegion(region);
      if (found !== undefined && (best === undefined || found.sequence > best.sequence)) best = { region, ...found };
    }
    if (best === undefined) return;
    this.#sequence = best.sequence;
    this.#current = best.region;
    this.#state = best.snapshot.state;
    // Replay into RAM: arm, then the state each record had reached.
    for (const record of best.snapshot.reversals) {
      this.#journal.arm({ ...record, state: "armed", reason: undefined });
      if (record.state !== "armed") this.#journal.reversalDue(record.stan, record.reason ?? "98");
      if (record.state === "failed") this.#journal.failed(record.stan);
    }
    for (const record of best.snapshot.approved) this.#journal.approve(record);
  }

  #readRegion(region: number): { sequence: number; snapshot: Snapshot } | undefined {
    const base = region * this.#regionBytes;
    const header = new DataView(this.#flash.read(base, HEADER_BYTES));
    const length = header.getUint32(8);
    if (header.getUint32(0) !== MAGIC || length === 0 || length > this.#regionBytes - HEADER_BYTES) return undefined;
    const body = new Uint8Array(this.#flash.read(base + HEADER_BYTES, length));
    if (crc32(body) !== header.getUint32(12)) return undefined; // torn by a cut: the other region holds the previous state
    const sequence = header.getUint32(4);
    const plain = this.#open(sequence, body);
    if (plain === undefined) return undefined;
    return { sequence, snapshot: JSON.parse(new TextDecoder().decode(plain)) as Snapshot };
  }

  #seal(sequence: number, plain: Uint8Array): Uint8Array {
    const nonce = crypto.randomBytes(NONCE_BYTES);
    const cipher = crypto.createCipheriv("aes-256-gcm", this.#key, nonce);
    cipher.setAAD(aad(sequence));
    const sealed = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    plain.fill(0);
    return new Uint8Array(sealed);
  }

  #open(sequence: number, body: Uint8Array): Uint8Array | undefined {
    if (body.length < NONCE_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = crypto.createDecipheriv("aes-256-gcm", this.#key, body.subarray(0, NONCE_BYTES));
      decipher.setAAD(aad(sequence));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return new Uint8Array(Buffer.concat([decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES)), decipher.final()]));
    } catch {
      return undefined; // another key (a var dir from elsewhere) or damage: not ours to trust
    }
  }
}

function aad(sequence: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, sequence);
  return out;
}
