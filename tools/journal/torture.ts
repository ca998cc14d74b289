/**
 * Journal torture (VOPR-style): a seeded workload of arm, complete, approve,
 * reversalDue, attempt, failed, reversed, settle and reboots on small
 * partitions, with a flash fault scheduled every few operations (cuts before,
 * after and inside erases and programs, torn bits, torn erases, lost and
 * misdirected writes, I/O errors, bit rot, cuts during recovery). After every
 * reboot the journal's view is checked against a reference model updated only
 * when a call returned. Pure ES2022: runs in Node and in XS.
 */
import { NorFlash, PowerCut, type FlashFaultKind } from "../../modules/emulators/nor-flash";
import { JournalFullError, JournalStateError } from "../../modules/journal/errors";
import { BODY_BYTES, RECORD_MAGIC, readU32 } from "../../modules/journal/format";
import { Journal, type JournalAlarm, type JournalOptions } from "../../modules/journal/journal";
import type { ReversalReason } from "../../modules/journal/record";
import { SeededRandom } from "../../modules/platform/random";
import { randomTransaction, TEST_IDENTITY, TEST_PAN, testCipher } from "./fixtures";

type State = "armed" | "reversalDue" | "approved" | "settled" | "closed";

interface ModelRecord {
  readonly seq: number;
  readonly stan: string;
  readonly batch: number;
  state: State;
  /** The state an unacknowledged call (cut in flight) would have produced; allowed until resolved. */
  alt: State | undefined;
  authCode: string;
  rrn: string;
  attempts: number;
  attemptPending: boolean;
  failed: boolean;
  reasons: string[];
}

export interface SeedResult {
  readonly seed: number;
  readonly crashPoints: number;
  readonly faultClasses: Record<string, number>;
  readonly maxSectorErases: number;
  readonly steps: number;
  readonly violation?: { readonly step: number; readonly message: string };
}

export interface TortureOptions {
  /** Workload operations per seed. */
  readonly steps?: number;
}

const STEPS_DEFAULT = 3800;
const RECOVERY_CUTS_MAX = 6;
const FAULT_KINDS: readonly FlashFaultKind[] = Object.freeze([
  "cutBefore",
  "cutAfter",
  "cutInside",
  "tornBits",
  "lost",
  "misdirect",
  "ioError",
]);
const FAULT_WEIGHTS: readonly number[] = Object.freeze([5, 5, 6, 6, 2, 1, 2]);
const REASONS: readonly ReversalReason[] = Object.freeze(["98", "A0", "06"]);

class Violation extends Error {
  override readonly name = "Violation";
}

export function tortureSeed(seed: number, options: TortureOptions = {}): SeedResult {
  return new Run(seed, options.steps ?? STEPS_DEFAULT).run();
}

class Run {
  readonly #seed: number;
  readonly #steps: number;
  readonly #random: SeededRandom;
  readonly #flash: NorFlash;
  readonly #options: JournalOptions;
  readonly #model = new Map<number, ModelRecord>();
  readonly #classes: Record<string, number> = {};
  readonly #alarms: JournalAlarm[] = [];
  /** Every seq an alarm ever named: damage to it was reported, so a later difference is not silent. */
  readonly #alarmedSeqs = new Set<number>();
  readonly #alarmKeys = new Set<string>();
  /** Boot number of the latest alarm never seen before: damage shows its consequences at that boot or the next. */
  #freshAlarmAt = -10;
  #bootCount = 0;
  #journal: Journal | undefined;
  #crashPoints = 0;
  #step = 0;
  #stan = 1;
  #batch = 1;
  #maxSeq = 0;
  /** The seq an arm cut in flight had written into its slot, when it reads stable: never to be handed out again (its sealed PAN may be on flash under that seq's nonce). */
  #tornArmSeq = 0;
  /** Set while a fault that can corrupt data silently (rot, misdirect) happened since the last check. */
  #pendingArm: string | undefined;
  #corruptedEver = false;
  #firstCorruptionBoot = Number.MAX_SAFE_INTEGER;
  /** The last arm found the journal full: resolve or settle before arming again. */
  #full = false;
  readonly #armBody = (): undefined => this.#arm();

  constructor(seed: number, steps: number) {
    this.#seed = seed;
    this.#steps = steps;
    this.#random = new SeededRandom(seed);
    const blockSize = this.#random.pick([1024, 1024, 1024, 4096]);
    const sectorCount = blockSize === 4096 ? 3 + this.#random.below(2) : 4 + this.#random.below(3);
    this.#flash = new NorFlash({ sectorCount, blockSize, seed: this.#random.nextUint32() });
    this.#options = {
      flash: this.#flash,
      cipher: testCipher(),
      random: new SeededRandom(this.#random.nextUint32()),
      identity: TEST_IDENTITY,
      reversalsPendingMax: 1 + this.#random.below(4),
      onAlarm: (alarm) => {
        this.#alarms.push(alarm);
        if (alarm.seq !== undefined) this.#alarmedSeqs.add(alarm.seq);
        const key = `${alarm.kind} ${alarm.seq} ${alarm.sector} ${alarm.slot}`;
        if (!this.#alarmKeys.has(key)) {
          this.#alarmKeys.add(key);
          this.#freshAlarmAt = this.#bootCount;
        }
      },
    };
  }

  run(): SeedResult {
    try {
      this.#boot();
      for (this.#step = 0; this.#step < this.#steps; this.#step++) this.#operate();
      this.#checkWear();
      return this.#result();
    } catch (error) {
      if (!(error instanceof Violation)) throw error;
      const tag = this.#corruptedEver ? " [after injected rot or misdirected writes]" : "";
      return { ...this.#result(), violation: { step: this.#step, message: error.message + tag } };
    }
  }

  #result(): SeedResult {
    return {
      seed: this.#seed,
      crashPoints: this.#crashPoints,
      faultClasses: this.#classes,
      maxSectorErases: Math.max(...this.#flash.eraseCounts()),
      steps: this.#steps,
    };
  }

  #count(name: string): void {
    this.#classes[name] = (this.#classes[name] ?? 0) + 1;
  }

  #maybeScheduleFault(probability: number, window: number): void {
    if (!this.#random.chance(probability)) return;
    let pick = this.#random.below(FAULT_WEIGHTS.reduce((a, b) => a + b, 0));
    let kind = FAULT_KINDS[0];
    for (let i = 0; i < FAULT_KINDS.length; i++) {
      if (pick < FAULT_WEIGHTS[i]) {
        kind = FAULT_KINDS[i];
        break;
      }
      pick -= FAULT_WEIGHTS[i];
    }
    this.#flash.schedule({ atOperation: this.#flash.operations + this.#random.below(window), kind });
  }

  #noteFired(): void {
    const fired = this.#flash.fired;
    if (fired === undefined) return;
    this.#count(`${fired.kind}-${fired.operation}`);
    this.#crashPoints++;
    if (fired.kind === "misdirect") {
      this.#markCorrupted();
    }
    this.#flash.schedule(undefined);
  }

  /** An arm's body program cut after its seq landed (stable bytes, record magic): that seq is spent. */
  #noteTornArm(): void {
    const fired = this.#flash.fired;
    if (fired === undefined || fired.operation !== "write" || fired.length !== BODY_BYTES) return;
    if (fired.kind === "cutBefore" || fired.kind === "lost" || fired.kind === "misdirect" || fired.kind === "ioError") return;
    if (!this.#flash.isStable(fired.offset, 8)) return;
    const slot = this.#flash.exportImage().subarray(fired.offset, fired.offset + 8);
    if (slot[0] !== RECORD_MAGIC) return;
    const seq = readU32(slot, 4);
    if (seq > this.#maxSeq) this.#tornArmSeq = Math.max(this.#tornArmSeq, seq);
  }

  // ---------------------------------------------------------------- boot and check

  #boot(): void {
    this.#bootCount++;
    for (let cuts = 0; ; cuts++) {
      if (this.#flash.weakBitCount() > 0) this.#count("metastable");
      this.#flash.powerCycle();
      if (cuts < RECOVERY_CUTS_MAX) this.#maybeScheduleFault(0.3, 40);
      try {
        this.#journal = Journal.open(this.#options);
        this.#noteFired();
        this.#flash.schedule(undefined);
        break;
      } catch (error) {
        if (this.#flash.fired === undefined) throw error;
        this.#noteFired();
        this.#count("cut-during-recovery");
        this.#flash.cutPower();
      }
    }
    this.#check();
    if (this.#random.chance(0.15)) this.#checkIdempotent();
  }

  #check(): void {
    const journal = this.#journal!;
    const pending = journal.pendingReversals();
    const approved = journal.approvedLog();
    const seen = new Set<number>();
    const excuse = this.#excused();
    const fail = (message: string, seq?: number): void => {
      if (!excuse && !(this.#corruptedEver && seq !== undefined && this.#alarmedSeqs.has(seq))) throw new Violation(message);
    };
    for (const item of [...pending, ...approved]) {
      if (seen.has(item.seq)) fail(`duplicate identity: seq ${item.seq} listed twice`);
      seen.add(item.seq);
    }
    const pendingBySeq = new Map(pending.map((p) => [p.seq, p]));
    const approvedBySeq = new Map(approved.map((a) => [a.seq, a]));
    for (const record of this.#model.values()) {
      const after = (state: State | undefined): State | undefined => (state === "armed" ? "reversalDue" : state);
      const allowed = [after(record.state), after(record.alt)];
      const observed: State = pendingBySeq.has(record.seq)
        ? "reversalDue"
        : approvedBySeq.has(record.seq)
          ? "approved"
          : record.state === "settled" || record.alt === "settled"
            ? "settled"
            : "closed";
      if (!allowed.includes(observed)) {
        fail(`seq ${record.seq} (stan ${record.stan}) is ${observed}, model allows ${allowed.filter(Boolean).join("/")}`, record.seq);
        this.#resync(record, observed);
        continue;
      }
      if (observed === "reversalDue") {
        const p = pendingBySeq.get(record.seq)!;
        if (p.txn.stan !== record.stan) fail(`seq ${record.seq} carries stan ${p.txn.stan}, expected ${record.stan}`);
        const attemptsMax = record.attempts + (record.attemptPending ? 1 : 0);
        if (p.attempts < record.attempts || p.attempts > attemptsMax)
          fail(`seq ${record.seq} has ${p.attempts} attempts, model ${record.attempts}`);
        if (record.failed && !p.failed) fail(`seq ${record.seq} lost its 冲正失败 mark`);
        if (!record.reasons.includes(p.reason)) fail(`seq ${record.seq} reason ${p.reason}, model ${record.reasons.join("/")}`);
        // A cut attempt may leave a weak bit that reads 1 now and 0 later: keep allowing one more.
        if (p.attempts > record.attempts) record.attemptPending = false;
        record.attempts = p.attempts;
        record.failed = p.failed;
        record.reasons = [p.reason];
      }
      if (observed === "approved") {
        const a = approvedBySeq.get(record.seq)!;
        if (a.authCode !== record.authCode || a.rrn !== record.rrn)
          fail(`seq ${record.seq} approval ${a.authCode}/${a.rrn} differs from ${record.authCode}/${record.rrn}`);
        record.authCode = a.authCode;
        record.rrn = a.rrn;
      }
      if (observed === record.alt) record.alt = undefined;
      record.state = observed;
    }
    for (const item of [...pending, ...approved]) {
      if (this.#model.has(item.seq)) continue;
      // Only an arm cut in flight may appear unannounced, and only as reversal-due.
      if (this.#pendingArm !== undefined && item.txn.stan === this.#pendingArm && pendingBySeq.has(item.seq) && item.seq > this.#maxSeq) {
        this.#model.set(item.seq, this.#newRecord(item.seq, item.txn.stan, Number(item.txn.batch), "reversalDue"));
        this.#maxSeq = item.seq;
        this.#pendingArm = undefined;
        continue;
      }
      fail(`resurrection: seq ${item.seq} (stan ${item.txn.stan}) is not in the model`, item.seq);
      const adopted = this.#newRecord(
        item.seq,
        item.txn.stan,
        Number(item.txn.batch),
        pendingBySeq.has(item.seq) ? "reversalDue" : "approved",
      );
      if ("authCode" in item && "rrn" in item) {
        adopted.authCode = item.authCode ?? "";
        adopted.rrn = item.rrn;
      }
      this.#model.set(item.seq, adopted);
    }
    this.#pendingArm = undefined;
    this.#alarms.length = 0;
    for (const record of [...this.#model.values()])
      if (record.state === "closed" || record.state === "settled") if (record.alt === undefined) this.#model.delete(record.seq);
  }

  /** Silent-corruption faults (rot, misdirect) excuse differences only when a new alarm reported damage. */
  #excused(): boolean {
    // Single-copy storage can detect rot and misdirected writes, not undo them: after an alarm has
    // reported such damage the seed runs degraded (the model follows the journal), but damage that
    // shows before any alarm is still a violation: it would be silent.
    return this.#corruptedEver && this.#freshAlarmAt >= this.#firstCorruptionBoot;
  }

  #markCorrupted(): void {
    if (!this.#corruptedEver) this.#firstCorruptionBoot = this.#bootCount;
    this.#corruptedEver = true;
  }

  #resync(record: ModelRecord, observed: State): void {
    record.state = observed;
    record.alt = undefined;
  }

  /** Recovery twice gives the same view (apart from records an alarm already named as damaged). */
  #checkIdempotent(): void {
    const before = this.#snapshot();
    this.#flash.cutPower();
    this.#flash.powerCycle();
    this.#bootCount++;
    this.#journal = Journal.open(this.#options);
    this.#crashPoints++;
    this.#count("cut-between-ops");
    const after = this.#snapshot();
    for (const [seq, line] of before) {
      if (after.get(seq) === line || this.#excused() || (this.#corruptedEver && this.#alarmedSeqs.has(seq))) continue;
      throw new Violation(`recovery is not idempotent: seq ${seq} was ${line}, now ${after.get(seq) ?? "absent"}`);
    }
    for (const [seq, line] of after) {
      if (before.has(seq) || this.#excused() || (this.#corruptedEver && this.#alarmedSeqs.has(seq))) continue;
      throw new Violation(`recovery is not idempotent: seq ${seq} appeared as ${line}`);
    }
    this.#check();
  }

  #snapshot(): Map<number, string> {
    const journal = this.#journal!;
    const out = new Map<number, string>();
    for (const p of journal.pendingReversals()) out.set(p.seq, `due ${p.reason} ${p.failed}`);
    for (const a of journal.approvedLog()) out.set(a.seq, `approved ${a.authCode} ${a.rrn}`);
    return out;
  }

  #checkWear(): void {
    const counts = this.#flash.eraseCounts();
    const total = counts.reduce((a, b) => a + b, 0);
    const max = Math.max(...counts);
    // Rotation is round-robin: no sector takes much more than its share.
    if (max > (2 * total) / counts.length + 8)
      throw new Violation(`wear: sector erased ${max} times of ${total} over ${counts.length} sectors`);
  }

  #newRecord(seq: number, stan: string, batch: number, state: State): ModelRecord {
    return {
      seq,
      stan,
      batch,
      state,
      alt: undefined,
      authCode: "",
      rrn: "",
      attempts: 0,
      attemptPending: false,
      failed: false,
      reasons: ["98"],
    };
  }

  // ---------------------------------------------------------------- workload

  #operate(): void {
    this.#maybeScheduleFault(0.6, 8);
    const r = this.#random.below(100);
    if (r < 3) return this.#reboot("clean");
    if (r < 5) {
      const hit = this.#flash.rot(1 + this.#random.below(2));
      if (hit.length > 0) {
        this.#count("bit-rot");
        this.#crashPoints++;
        this.#markCorrupted();
      }
      return this.#reboot("rot");
    }
    const armed = this.#pick("armed");
    const due = this.#pick("reversalDue");
    if (r < 30 && !this.#full) return this.#call(undefined, this.#armBody);
    if (r < 45 && armed) return this.#call(armed, () => this.#approve(armed));
    if (r < 52 && armed) return this.#call(armed, () => this.#complete(armed));
    if (r < 62 && (armed || due)) return this.#call(armed ?? due, () => this.#reversalDue((armed ?? due)!));
    if (r < 72 && due) return this.#call(due, () => this.#attempt(due));
    if (r < 76 && due) return this.#call(due, () => this.#failed(due));
    if (r < 88 && due) return this.#call(due, () => this.#reversed(due));
    if (r < 95 && ![...this.#model.values()].some((m) => m.batch === this.#batch && (m.state === "armed" || m.alt === "approved")))
      return this.#call(undefined, () => this.#settle());
    if (!this.#full) this.#call(undefined, this.#armBody);
  }

  #pick(state: State): ModelRecord | undefined {
    const candidates = [...this.#model.values()].filter((m) => m.state === state && (m.alt === undefined || m.alt === "closed"));
    return candidates.length === 0 ? undefined : this.#random.pick(candidates);
  }

  /** Runs one call; a cut or flash failure in flight leaves the target with both outcomes allowed, then reboots. */
  #call(target: ModelRecord | undefined, body: () => (() => void) | undefined): void {
    let commit: (() => void) | undefined;
    try {
      commit = body();
      this.#noteFired();
    } catch (error) {
      if (error instanceof JournalFullError) {
        this.#full = true;
        return this.#noteFired();
      }
      if (error instanceof JournalStateError) throw new Violation(`journal refused a valid call: ${error.message}`);
      if (this.#flash.fired === undefined && !(error instanceof PowerCut)) throw error;
      if (body === this.#armBody) this.#noteTornArm();
      this.#noteFired();
      void target;
      return this.#reboot("crash");
    }
    commit?.();
    if (target !== undefined || body !== this.#armBody) this.#full = false;
  }

  #reboot(why: "clean" | "crash" | "rot"): void {
    this.#flash.schedule(undefined);
    this.#flash.cutPower();
    if (why === "clean") {
      this.#crashPoints++;
      this.#count("cut-between-ops");
    }
    this.#boot();
  }

  #arm(): undefined {
    const stan = this.#stan++;
    const txn = randomTransaction(this.#random, stan, this.#batch);
    this.#pendingArm = txn.stan;
    const seq = this.#journal!.arm(txn, txn.entryMode === "051" ? TEST_PAN : undefined);
    this.#pendingArm = undefined;
    // Rot on every header that remembered a seq floor can roll seq back; that is alarmed (orphan, damaged).
    if (seq <= this.#maxSeq && !this.#excused()) throw new Violation(`seq ${seq} reused (max so far ${this.#maxSeq})`);
    if (seq <= this.#tornArmSeq && !this.#excused()) throw new Violation(`seq ${seq} of an append a cut tore handed out again`);
    this.#maxSeq = seq;
    this.#model.set(seq, this.#newRecord(seq, txn.stan, this.#batch, "armed"));
    return undefined;
  }

  #approve(m: ModelRecord): () => void {
    const authCode = String(100000 + this.#random.below(900000)).replace(/^1/, "A");
    const rrn = String(this.#random.below(1e9)).padStart(12, "0");
    m.alt = "approved";
    m.authCode = authCode;
    m.rrn = rrn;
    this.#journal!.approve(m.seq, authCode, rrn);
    return () => {
      m.state = "approved";
      m.alt = undefined;
    };
  }

  #complete(m: ModelRecord): () => void {
    m.alt = "closed";
    this.#journal!.complete(m.seq);
    return () => this.#resolve(m, "closed");
  }

  #reversalDue(m: ModelRecord): () => void {
    const reason = this.#random.pick(REASONS);
    // No alternative state to allow: after any boot an armed record is reversal-due anyway.
    m.reasons = [...m.reasons, reason];
    // A new REVERSAL starts a new episode: its 冲正失败 mark starts clear.
    m.failed = false;
    const f55 = this.#random.chance(0.5) ? new Uint8Array([0x9f, 0x36, 0x02, 0, m.seq & 0xff]) : undefined;
    this.#journal!.reversalDue(m.seq, reason, f55 === undefined ? {} : { f55 });
    return () => {
      m.state = "reversalDue";
      // A CLOSED marker cut mid-program (complete or reversed in flight) may read unset now and set at a
      // later boot; both calls that program it mean "no reversal needed", so that late flip stays allowed.
      if (m.alt !== "closed") m.alt = undefined;
      m.reasons = [reason];
    };
  }

  #attempt(m: ModelRecord): () => void {
    m.attemptPending = true;
    const n = this.#journal!.attempt(m.seq);
    if (n !== Math.min(96, m.attempts + 1) && !this.#excused()) throw new Violation(`attempt returned ${n}, model ${m.attempts + 1}`);
    return () => {
      m.attempts = n;
      m.attemptPending = false;
    };
  }

  #failed(m: ModelRecord): () => void {
    this.#journal!.failed(m.seq);
    return () => {
      m.failed = true;
    };
  }

  #reversed(m: ModelRecord): () => void {
    m.alt = "closed";
    this.#journal!.reversed(m.seq);
    return () => this.#resolve(m, "closed");
  }

  #settle(): () => void {
    const batch = this.#batch;
    const affected = [...this.#model.values()].filter((m) => m.batch === batch && m.state === "approved");
    for (const m of affected) m.alt = "settled";
    this.#journal!.settle(String(batch).padStart(6, "0"));
    this.#batch++;
    return () => {
      for (const m of affected) this.#resolve(m, "settled");
    };
  }

  #resolve(m: ModelRecord, state: State): void {
    m.state = state;
    m.alt = undefined;
    this.#model.delete(m.seq);
  }
}
