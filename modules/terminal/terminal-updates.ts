/**
 * The terminal's side of firmware updates (docs/update.md), built by the
 * Terminal only when the host gives it update slots: the updater over the
 * host's slots and record, the boot order around it (the slot reconciled, the
 * journal format looked at before recovery, a trial boot's self-test and
 * sign-ons), activation at idle moments, and the notices the merchant reads.
 * Its own class so that a terminal without updates carries one empty field.
 */
import { AssertionError } from "../base/assert";
import { JournalClosedError, JournalFormatError, JournalStateError, JournalWriteError } from "../journal/errors";
import type { Clock } from "../platform/clock";
import { FlashIoError } from "../platform/flash";
import type { Logger } from "../platform/log";
import type { TxnEngine } from "../txn/engine";
import type { TxnEvent } from "../txn/events";
import { StateWriteError } from "../txn/flash-state";
import type { NoticeId } from "../ui/terminal-ui";
import { JournalTooNewError } from "../update/journal-format";
import { updateSelfTest } from "../update/self-test";
import { Updater, type UpdaterOptions, type UpdateTraceEvent } from "../update/updater";

/**
 * Firmware updates: what the host binds (the A/B slots: ESP-IDF OTA partitions on the board, file-backed
 * elsewhere; the record: NVS on the board; the release key's public half; the restart: esp_restart on the
 * board, power off and on in the simulator); the terminal assembles the updater.
 */
export interface TerminalUpdateOptions extends Pick<
  UpdaterOptions,
  "slots" | "store" | "publicKey" | "verifySignature" | "restart" | "imageDigest"
> {
  /** The host's part of a new image's self-test (hardware, the image's own checks); true when it passes. */
  readonly selfTest?: () => boolean;
}

/** Sign-ons a new image's first boot tries before it rolls back, and the wait between them. */
export const TRIAL_SIGN_ON_ATTEMPTS = 3;
export const TRIAL_SIGN_ON_RETRY_MS = 30_000;

export interface TerminalUpdatesOptions {
  readonly update: TerminalUpdateOptions;
  readonly engine: TxnEngine;
  readonly clock: Clock;
  /** No reversal owed or 冲正失败 open. */
  readonly journalClean: () => boolean;
  readonly notify: (notice: NoticeId) => void;
  readonly trace: (event: UpdateTraceEvent) => void;
  readonly log?: Logger;
}

export class TerminalUpdates {
  readonly updater: Updater;
  readonly #options: TerminalUpdatesOptions;
  /** A trial boot: sign-ons tried so far. */
  #signOns = 0;

  constructor(options: TerminalUpdatesOptions) {
    this.#options = options;
    const { update } = options;
    this.updater = new Updater({
      slots: update.slots,
      store: update.store,
      publicKey: update.publicKey,
      verifySignature: update.verifySignature,
      restart: update.restart,
      journalClean: options.journalClean,
      idle: () => options.engine.idle,
      onEvent: (event) => {
        options.trace(event);
        const notice = UPDATE_NOTICE[event.state];
        if (notice !== undefined) options.notify(notice);
      },
      ...(options.log !== undefined ? { log: options.log } : {}),
      ...(update.imageDigest !== undefined ? { imageDigest: update.imageDigest } : {}),
    });
  }

  /**
   * Power-on: the slot that booted meets the update record; then, unless the terminal restarts at once,
   * the journal format is looked at before `bootJournal` runs recovery. A trial boot that fails either
   * rolls back; one that passes goes on to the self-test and a sign-on.
   */
  boot(journalTooNew: () => boolean, bootJournal: () => void): void {
    const updater = this.updater;
    if (!updater.powerOn()) return; // restarting into the activated slot
    const trial = updater.trial;
    if (journalTooNew()) {
      if (trial) return updater.bootFailed("journalFormat");
      throw new JournalTooNewError("the journal was written by a newer firmware: this image does not open it");
    }
    try {
      bootJournal();
    } catch (error) {
      if (!trial || !isRecoveryFailure(error)) throw error;
      return updater.bootFailed("journalRecovery");
    }
    if (!trial) return updater.activateWhenClean();
    if (!updateSelfTest(this.#options.update.verifySignature) || this.#options.update.selfTest?.() === false)
      return updater.bootFailed("selfTest");
    this.#signOns = 1;
    this.#options.engine.signOn();
  }

  /** Every engine event: a trial boot's sign-on result confirms or retries; an idle moment may activate a verified image. */
  onEngineEvent(event: TxnEvent): void {
    const updater = this.updater;
    if (event.ev === "idle") return updater.activateWhenClean();
    if (!updater.trial || event.ev !== "result" || event.op !== "signOn") return;
    if (event.outcome === "approved") return updater.bootPassed();
    if (this.#signOns >= TRIAL_SIGN_ON_ATTEMPTS) return updater.bootFailed("signOn");
    this.#options.clock.schedule(TRIAL_SIGN_ON_RETRY_MS, () => {
      if (!updater.trial) return;
      this.#signOns++;
      this.#options.engine.signOn();
    });
  }
}

/** Errors of a journal or state record that does not recover: a new image that meets them rolls back. */
function isRecoveryFailure(error: unknown): boolean {
  return (
    error instanceof JournalFormatError ||
    error instanceof JournalWriteError ||
    error instanceof JournalStateError ||
    error instanceof JournalClosedError ||
    error instanceof StateWriteError ||
    error instanceof FlashIoError ||
    error instanceof AssertionError
  );
}

/** What the merchant reads when an update moves (the trace has the details). */
const UPDATE_NOTICE: Readonly<Partial<Record<UpdateTraceEvent["state"], NoticeId>>> = Object.freeze({
  waiting: "noticeUpdateWaiting",
  rejected: "noticeUpdateRejected",
  activated: "noticeUpdateRestarting",
  confirmed: "noticeUpdateInstalled",
  rolledBack: "noticeUpdateRolledBack",
});
