/**
 * The terminal's side of a firmware update (docs/update.md), moved through
 * the update machine's table (update-machine.ts):
 *
 * - check: the source's manifest is judged (signature against the key
 *   provisioned at manufacture, version against the running image and the
 *   anti-rollback floor, size against the slot), then the image is written
 *   into the inactive slot block by block; the record says how many blocks are
 *   in, so a power cut at any byte resumes from the last whole block;
 * - the SHA-256 of what the slot holds (read back, not what came over the
 *   wire) must be the manifest's before the image is verified;
 * - activation waits while a reversal is owed, 冲正失败 is open or an
 *   operation runs (the terminal says why), then the slot boots next;
 * - the new image's first boot is a trial: the terminal confirms it after
 *   journal recovery, the self-test and a sign-on, else rolls it back.
 *
 * Every durable step is saved before the action it announces, so a power cut
 * between the two repeats the action, never skips it (docs/update.md "Power cuts").
 */
import { assert } from "../base/assert";
import { bytesEqual } from "../base/hex";
import type { P256Check } from "../crypto/p256";
import { Sha256 } from "../crypto/sha256";
import { FlashIoError } from "../platform/flash";
import type { ImageSlots, RecordStore } from "../platform/image-slots";
import type { Logger } from "../platform/log";
import { MAX_IMAGE_CHUNK_BYTES, type ImageFeed, type ImageManifest } from "../tms/source";
import { ManifestError, checkManifest, verifyManifest, versionCode } from "./manifest";
import { nextUpdateState, type UpdateEvent, type UpdateState } from "./update-machine";
import { decodeUpdateRecord, encodeUpdateRecord, type UpdateReason, type UpdateRecord } from "./update-record";

export type { ImageFeed };

/** What the trace hears of an update (docs/contracts.md "Events"). */
export interface UpdateTraceEvent {
  readonly ev: "update";
  readonly state: UpdateState;
  readonly version: string;
  readonly reason?: UpdateReason;
}

/** One download under way: where the bytes come from, the block being filled, the chunk's failed attempts. */
interface Download {
  readonly feed: ImageFeed;
  readonly manifest: ImageManifest;
  readonly finish: () => void;
  readonly block: Uint8Array;
  readonly blocks: number;
  /** Bytes of the current block received so far. */
  filled: number;
  attempts: number;
}

export interface UpdaterOptions {
  readonly slots: ImageSlots;
  readonly store: RecordStore;
  /** The P-256 public key provisioned at manufacture (SEC 1 uncompressed, 65 bytes). */
  readonly publicKey: Uint8Array;
  /** The signature check (default the core's BigInt one; a V8 host may hand OpenSSL's, same verdicts: modules/crypto/p256.ts). */
  readonly verifySignature?: P256Check;
  /** No reversal owed and no 冲正失败 open: an activation may go. */
  readonly journalClean: () => boolean;
  /**
   * No operation running (default: always): an activation restarts the terminal, so it waits for the end of
   * the operation under way without calling it a wait (the next idle moment calls activateWhenClean again).
   */
  readonly idle?: () => boolean;
  /** The terminal restarts into the slot that boots next (after an activation or a rollback). */
  readonly restart: () => void;
  readonly onEvent?: (event: UpdateTraceEvent) => void;
  readonly log?: Logger;
  /**
   * A fresh SHA-256 for the image read back from its slot (default: modules/crypto's, in TypeScript). The ESP32
   * hands its hardware one: in XS a 1.9 MB image would cost tens of seconds. The manifest's digest, which the
   * signature covers, stays in TypeScript (a few hundred bytes).
   */
  readonly imageDigest?: () => ImageDigest;
}

/** An incremental SHA-256: bytes in, then the 32-byte digest once. */
export interface ImageDigest {
  update(bytes: Uint8Array): unknown;
  digest(): Uint8Array;
}

/** Attempts at one chunk before the download counts as interrupted (the next check resumes). */
export const CHUNK_ATTEMPTS_MAX = 3;
/** Whole downloads of one manifest: a digest mismatch gets one more (a torn slot write), then the image is rejected. */
export const DOWNLOAD_PASSES_MAX = 2;
/** A manifest's version text in events is cut to this (a malformed one may be anything). */
const VERSION_TEXT_MAX = 17;

const NO_UPDATE: UpdateRecord = Object.freeze({
  state: "confirmed",
  manifest: undefined,
  blocksWritten: 0,
  passes: 0,
  reason: undefined,
  reported: true,
  floorCode: 0,
});

export class Updater {
  readonly #options: UpdaterOptions;
  #record: UpdateRecord;
  #trial = false;
  #checking = false;

  constructor(options: UpdaterOptions) {
    assert(options.publicKey.length === 65, "Updater: the provisioned public key is 65 bytes");
    this.#options = options;
    this.#record = decodeUpdateRecord(options.store.load()) ?? NO_UPDATE;
  }

  /** The version of the image that runs. */
  get runningVersion(): string {
    return this.#options.slots.running.version;
  }

  /** This powered period is the new image's first boot: confirm or roll back before anything else updates. */
  get trial(): boolean {
    return this.#trial;
  }

  /** Where the last update stands (NO_UPDATE reads "confirmed"). */
  get state(): UpdateState {
    return this.#record.state;
  }

  /**
   * Power-on, before the journal opens: the record meets the slot that booted. Returns false when the
   * terminal restarts at once (an activation cut before it reached the slots is done again).
   */
  powerOn(): boolean {
    const { slots } = this.#options;
    const running = slots.running;
    const record = this.#record;
    const runningCode = versionCode(running.version);
    if (!running.pendingVerification && runningCode > record.floorCode) this.#save({ ...this.#record, floorCode: runningCode });
    const manifest = record.manifest;
    // A pending image is always judged, whatever the record says (one an older firmware activated has no record).
    if (running.pendingVerification) {
      if (record.state === "activated") nextUpdateState("activated", "boot");
      this.#trial = true;
      return true;
    }
    if (record.state === "activated" && manifest !== undefined) {
      if (running.version === manifest.version) {
        // Confirmed on the slots, cut before the record said so.
        this.#confirmed(manifest);
        return true;
      }
      if (slots.trialFailed) {
        this.#move("bootFailed", { reason: "bootFailed", reported: true });
        this.#emit("rolledBack", manifest.version, "bootFailed");
        return true;
      }
      // The activation never reached the slots: the journal was clean when it was decided and nothing ran since.
      nextUpdateState("activated", "boot");
      this.#activate(manifest);
      return false;
    }
    if (record.state === "rolledBack" && !record.reported && manifest !== undefined) {
      this.#save({ ...record, reported: true });
      this.#emit("rolledBack", manifest.version, record.reason);
    }
    // Durable mid-update states stay as they are: the next check resumes a download, the next idle moment activates.
    if (record.state === "downloading" || record.state === "verified" || record.state === "waiting") nextUpdateState(record.state, "boot");
    return true;
  }

  /** The trial image passed journal recovery, the self-test and a sign-on: it is valid. */
  bootPassed(): void {
    assert(this.#trial, "Updater: bootPassed outside a trial boot");
    this.#trial = false;
    this.#options.slots.confirm();
    this.#confirmed(this.#record.manifest);
  }

  /** The trial image failed `reason`: the previous slot boots next, and the terminal restarts into it. */
  bootFailed(reason: UpdateReason): void {
    assert(this.#trial, "Updater: bootFailed outside a trial boot");
    this.#trial = false;
    const version = this.runningVersion;
    this.#options.log?.error("update: the new image failed its first boot, rolling back", { version, reason });
    if (this.#record.state === "activated") this.#move("bootFailed", { reason, reported: false });
    this.#options.slots.rollback();
    this.#options.restart();
  }

  /**
   * Asks `feed` for its manifest and takes the update as far as it can go now; `done` when this check is
   * over (nothing to do, rejected, interrupted, verified, waiting or activated). One check at a time.
   */
  check(feed: ImageFeed, done?: () => void): void {
    if (this.#checking || this.#trial || this.#record.state === "activated") return done?.();
    this.#checking = true;
    const finish = () => {
      this.#checking = false;
      done?.();
    };
    feed.requestManifest((result) => {
      if (result instanceof Error) {
        this.#options.log?.warn("update: no manifest", { error: result.name });
        return finish();
      }
      if (result === undefined) return finish();
      this.#judge(feed, result, finish);
    });
  }

  /** A verified image waiting for a clean journal activates now if it is clean (the terminal calls this when it idles). */
  activateWhenClean(): void {
    const { state, manifest } = this.#record;
    if ((state !== "verified" && state !== "waiting") || manifest === undefined || this.#trial) return;
    if (this.#options.idle?.() === false) return;
    if (!this.#options.journalClean()) {
      if (state === "waiting") return;
      this.#move("journalBusy", { reason: "reversalPending" });
      this.#emit("waiting", manifest.version, "reversalPending");
      return;
    }
    // The slots still remember an earlier rollback (reported at its power-on): forgotten before this activation
    // is recorded, so a cut before the slots change is done again at power-on, not reported as a rollback of it.
    if (this.#options.slots.trialFailed) this.#options.slots.forgetFailedTrial();
    this.#move("journalClean", { reason: undefined });
    this.#activate(manifest);
  }

  #judge(feed: ImageFeed, manifest: ImageManifest, finish: () => void): void {
    const record = this.#record;
    if (record.manifest !== undefined && sameManifest(record.manifest, manifest)) {
      switch (record.state) {
        case "downloading":
          this.#emit("downloading", manifest.version);
          return this.#download(feed, manifest, finish);
        case "verified":
        case "waiting":
          this.activateWhenClean();
          return finish();
        default:
          return finish(); // its outcome was reported once
      }
    }
    const version = manifest.version.slice(0, VERSION_TEXT_MAX);
    try {
      checkManifest(manifest);
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      this.#refuse({ ...record, state: "available", manifest: undefined }, version, "malformed");
      return finish();
    }
    const code = versionCode(manifest.version);
    if (code === versionCode(this.runningVersion)) return finish(); // it runs already
    this.#record = { ...record, state: "available", manifest, blocksWritten: 0, passes: 0, reason: undefined, reported: true };
    this.#emit("available", version);
    let refusal: UpdateReason | undefined;
    if (!verifyManifest(manifest, this.#options.publicKey, this.#options.verifySignature)) refusal = "badSignature";
    else if (code < Math.max(versionCode(this.runningVersion), record.floorCode)) refusal = "older";
    else if (manifest.sizeBytes > this.#options.slots.slotBytes) refusal = "tooLarge";
    if (refusal !== undefined) {
      this.#refuse(this.#record, version, refusal);
      return finish();
    }
    this.#move("accept", { passes: 1 });
    this.#emit("downloading", version);
    this.#download(feed, manifest, finish);
  }

  #refuse(record: UpdateRecord, version: string, reason: UpdateReason): void {
    this.#record = record;
    this.#move("refuse", { reason });
    this.#emit("rejected", version, reason);
  }

  #download(feed: ImageFeed, manifest: ImageManifest, finish: () => void): void {
    const blockSize = this.#options.slots.blockSize;
    this.#pump({
      feed,
      manifest,
      finish,
      block: new Uint8Array(blockSize),
      blocks: Math.ceil(manifest.sizeBytes / blockSize),
      filled: 0,
      attempts: 0,
    });
  }

  /**
   * Moves the download on until it waits for a chunk that has not arrived, or ends. A feed that answers at
   * once (inside the request) is handled by this loop, not by recursion, so a 2 MiB image of small chunks
   * never deepens the stack.
   */
  #pump(d: Download): void {
    const { slots } = this.#options;
    const blockSize = slots.blockSize;
    for (;;) {
      const index = this.#record.blocksWritten;
      if (index >= d.blocks) return this.#downloaded(d);
      const start = index * blockSize;
      const length = Math.min(blockSize, d.manifest.sizeBytes - start);
      if (d.filled === length) {
        try {
          slots.writeBlock(index, d.block, length);
        } catch (error) {
          if (!(error instanceof FlashIoError)) throw error;
          this.#options.log?.error("update: slot write failed", { block: index });
          return this.#interrupted(d);
        }
        this.#save({ ...this.#record, blocksWritten: index + 1 });
        d.filled = 0;
        continue;
      }
      const want = Math.min(MAX_IMAGE_CHUNK_BYTES, length - d.filled);
      let inside = true;
      let answered = false;
      let result: Uint8Array | Error | undefined;
      d.feed.requestChunk(start + d.filled, want, (chunk) => {
        if (inside) {
          answered = true;
          result = chunk;
        } else if (this.#take(d, chunk, want)) this.#pump(d);
      });
      inside = false;
      if (!answered || !this.#take(d, result, want)) return;
    }
  }

  /** Takes a chunk into the block; false when the download stops here (interrupted, or the record moved on). */
  #take(d: Download, chunk: Uint8Array | Error | undefined, want: number): boolean {
    const current = this.#record.manifest;
    // The record may have moved on while the chunk was on its way.
    if (this.#record.state !== "downloading" || current === undefined || !sameManifest(current, d.manifest)) {
      d.finish();
      return false;
    }
    if (chunk instanceof Uint8Array && chunk.length === want) {
      d.block.set(chunk, d.filled);
      d.filled += want;
      d.attempts = 0;
      return true;
    }
    this.#options.log?.warn("update: chunk failed", {
      filled: d.filled,
      error: chunk instanceof Error ? chunk.name : `length ${chunk?.length ?? 0}`,
    });
    if (++d.attempts < CHUNK_ATTEMPTS_MAX) return true;
    this.#interrupted(d);
    return false;
  }

  /** The last block is in: the slot's digest decides; a mismatch gets one more whole download. */
  #downloaded(d: Download): void {
    const { manifest } = d;
    if (this.#slotDigestMatches(manifest, d.block)) {
      this.#move("digestMatch", { reason: undefined });
      this.#emit("verified", manifest.version);
      this.activateWhenClean();
      return d.finish();
    }
    if (this.#record.passes >= DOWNLOAD_PASSES_MAX) {
      this.#move("digestMismatch", { reason: "digestMismatch" });
      this.#emit("rejected", manifest.version, "digestMismatch");
      return d.finish();
    }
    this.#options.log?.warn("update: the slot's digest does not match, downloading again", { version: manifest.version });
    this.#save({ ...this.#record, blocksWritten: 0, passes: this.#record.passes + 1 });
    d.filled = 0;
    this.#pump(d);
  }

  #interrupted(d: Download): void {
    this.#move("interrupted");
    this.#emit("downloading", d.manifest.version, "interrupted");
    d.finish();
  }

  /** SHA-256 of what the inactive slot holds, read back block by block through `block`. */
  #slotDigestMatches(manifest: ImageManifest, block: Uint8Array): boolean {
    const hash = this.#options.imageDigest?.() ?? new Sha256();
    for (let offset = 0; offset < manifest.sizeBytes; offset += block.length) {
      const piece = block.subarray(0, Math.min(block.length, manifest.sizeBytes - offset));
      this.#options.slots.read(offset, piece);
      hash.update(piece);
    }
    return bytesEqual(hash.digest(), manifest.sha256);
  }

  #activate(manifest: ImageManifest): void {
    this.#emit("activated", manifest.version);
    this.#options.slots.activate(manifest.version, manifest.sizeBytes);
    this.#options.restart();
  }

  #confirmed(manifest: ImageManifest | undefined): void {
    const code = versionCode(this.runningVersion);
    const floorCode = Math.max(this.#record.floorCode, code);
    if (this.#record.state === "activated") this.#move("bootPassed", { floorCode, reason: undefined });
    else this.#save({ ...this.#record, floorCode });
    this.#emit("confirmed", manifest?.version ?? this.runningVersion);
  }

  /** Moves the record through the table and saves it (durable before what it announces). */
  #move(event: UpdateEvent, changes: Partial<UpdateRecord> = {}): void {
    const state = nextUpdateState(this.#record.state, event);
    this.#save({ ...this.#record, ...changes, state });
  }

  #save(record: UpdateRecord): void {
    this.#options.store.save(encodeUpdateRecord(record));
    this.#record = record;
  }

  #emit(state: UpdateState, version: string, reason?: UpdateReason): void {
    this.#options.onEvent?.({ ev: "update", state, version, ...(reason !== undefined ? { reason } : {}) });
  }
}

function sameManifest(a: ImageManifest, b: ImageManifest): boolean {
  return a.version === b.version && a.sizeBytes === b.sizeBytes && bytesEqual(a.sha256, b.sha256) && bytesEqual(a.signature, b.signature);
}
