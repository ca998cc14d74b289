/**
 * 清洁和维护: how the card readers are doing. Every read a host attempts is
 * counted per reader (magstripe, contactless, contact chip), its failures by
 * reason (LRC, parity, no start sentinel, collision, timeout, chip reset…),
 * and a window of the last reads decides when to ask the merchant to clean
 * the slot or the reader: a dirty magstripe head or chip contact shows as a
 * run of failed reads long before it fails every card.
 *
 * Fixed size: three readers, a few reasons each (the rest fold into
 * "other"), a 20-read window as a bit mask. Hosts persist the counters (NVS on
 * the ESP32) through `store`; nothing here touches flash on every read.
 */
import { assert } from "../base/assert";

export type ReaderKind = "magstripe" | "contactless" | "contact";

export const READER_KINDS: readonly ReaderKind[] = Object.freeze(["magstripe", "contactless", "contact"]);

/** Reasons kept by name; any other folds into `other`. */
const REASONS_KEPT = 6;
/** Reads the window covers. */
export const READ_WINDOW = 20;
/** Cleaning is asked for when at least this many of the window's reads failed… */
export const CLEAN_AFTER_FAILURES = 6;
/** …and the window holds at least this many reads (a card swiped backwards twice is not dirt). */
const CLEAN_WINDOW_MIN = 10;
/** Counters are saved every this many reads (and at every failure), not on each read. */
const SAVE_EVERY_READS = 20;
const COUNT_MAX = 0x7fffffff;

export interface ReaderCounters {
  readonly reads: number;
  readonly failures: number;
  /** Failures by reason, the first REASONS_KEPT reasons seen by name, then `other`. */
  readonly reasons: Readonly<Record<string, number>>;
  /** The last READ_WINDOW reads, newest in bit 0: 1 = failed. */
  readonly window: number;
  /** Reads in the window (up to READ_WINDOW). */
  readonly windowReads: number;
}

export type ReaderCareState = Readonly<Record<ReaderKind, ReaderCounters>>;

export interface ReaderCareStore {
  load(): ReaderCareState | undefined;
  save(state: ReaderCareState): void;
}

export interface ReaderCareOptions {
  readonly store?: ReaderCareStore;
  /** The window of `reader` just crossed the threshold: ask the merchant to clean it (once per crossing). */
  readonly onCleaningDue?: (reader: ReaderKind) => void;
}

const EMPTY: ReaderCounters = Object.freeze({ reads: 0, failures: 0, reasons: Object.freeze({}), window: 0, windowReads: 0 });

export class ReaderCare {
  readonly #options: ReaderCareOptions;
  #state: ReaderCareState;
  #unsaved = 0;

  constructor(options: ReaderCareOptions = {}) {
    this.#options = options;
    this.#state = options.store?.load() ?? { magstripe: EMPTY, contactless: EMPTY, contact: EMPTY };
  }

  get state(): ReaderCareState {
    return this.#state;
  }

  /** A read that worked (`failure` undefined) or failed, with the reader's reason. */
  record(reader: ReaderKind, failure?: string): void {
    assert(READER_KINDS.includes(reader), `ReaderCare: unknown reader ${reader}`);
    const before = this.#state[reader];
    const failed = failure !== undefined;
    const mask = (1 << READ_WINDOW) - 1;
    const reasons = { ...before.reasons };
    if (failed) {
      const known = Object.hasOwn(reasons, failure) || Object.keys(reasons).filter((r) => r !== "other").length < REASONS_KEPT;
      const key = known ? failure : "other";
      reasons[key] = Math.min(COUNT_MAX, (reasons[key] ?? 0) + 1);
    }
    const after: ReaderCounters = {
      reads: Math.min(COUNT_MAX, before.reads + 1),
      failures: Math.min(COUNT_MAX, before.failures + (failed ? 1 : 0)),
      reasons,
      window: ((before.window << 1) | (failed ? 1 : 0)) & mask,
      windowReads: Math.min(READ_WINDOW, before.windowReads + 1),
    };
    this.#state = { ...this.#state, [reader]: after };
    if (cleaningDue(after) && !cleaningDue(before)) this.#options.onCleaningDue?.(reader);
    this.#unsaved++;
    if (failed || this.#unsaved >= SAVE_EVERY_READS) this.#save();
  }

  /** Readers whose recent reads fail often enough that cleaning them is the first remedy. */
  dueForCleaning(): ReaderKind[] {
    return READER_KINDS.filter((reader) => cleaningDue(this.#state[reader]));
  }

  /** After cleaning: the window starts again (the totals stay). */
  cleaned(reader: ReaderKind): void {
    this.#state = { ...this.#state, [reader]: { ...this.#state[reader], window: 0, windowReads: 0 } };
    this.#save();
  }

  #save(): void {
    this.#unsaved = 0;
    this.#options.store?.save(this.#state);
  }
}

function cleaningDue(counters: ReaderCounters): boolean {
  return counters.windowReads >= CLEAN_WINDOW_MIN && failedReads(counters.window) >= CLEAN_AFTER_FAILURES;
}

/** Failed reads in a window's bit mask. */
export function failedReads(window: number): number {
  let count = 0;
  for (let bits = window; bits !== 0; bits &= bits - 1) count++;
  return count;
}
