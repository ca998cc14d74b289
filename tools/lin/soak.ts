/**
 * The kill soak of the Linux terminal (`tools/xspos soak --terminal native`):
 * the real binary against the host simulator over TLS, killed over and over.
 * Each life of the terminal process boots on the same flash file and NVS
 * directory, signs on, and runs a few operations drawn from the seed (sales,
 * voids, refunds, settlements) with host and network faults in front of
 * some; the life ends with SIGKILL at a random moment, or with a power cut
 * inside the k-th flash erase or program (file-flash.c, k from the seed).
 * After the last kill a clean life drains what is owed, and the ledger
 * oracle judges:
 *
 * - no reversal lost: nothing still owed (reversal due or 冲正失败) after the drain;
 * - no approval standing that the terminal did not complete, none missing:
 *   the host's approved sales and refunds of the open batch are exactly the
 *   terminal's approved log, and every batch settled balanced;
 * - no reversal or request taking effect twice: no STAN sent in two
 *   different requests (a STAN used again after a kill would let a late
 *   answer or a reversal hit the wrong transaction);
 * - only a valid signed image runs: the terminal has A/B slots (`--slots`)
 *   and the TEST release key; before some lives the host publishes an image
 *   (good, bad signature, corrupt, crashes on boot or older; a stream of its
 *   own), which the terminal fetches at its sign-on; a terminal that activates
 *   or rolls back exits 75 (hosts/lin: restart me) and the next life starts it
 *   again. Every boot runs 1.0.0 or an image whose slot verified (good, or one
 *   that crashes on boot: its self-test fails, hosts/lin/test-image.ts), never
 *   an older one than a version confirmed before; an image that crashes on
 *   boot is never confirmed, a good one never rolled back for its self-test.
 *
 * Timing is the machine's, so a seed fixes the plan (operations, faults,
 * kill moments, cut points), not the interleaving.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fromHex } from "../../modules/base/hex";
import { SeededRandom } from "../../modules/platform/random";
import { FIRMWARE_VERSION } from "../../modules/update/firmware-version";
import { versionCode } from "../../modules/update/manifest";
import { TEST_CARDS } from "../../modules/card/test-cards";
import { startHost, type HostApp } from "../host/app";
import { parseFault } from "../host/faults";
import { buildImage, TMS_TEST_PUBLIC_KEY_HEX, type ImageKind } from "../host/tms";
import { nodeImageSigner } from "../host/tms-signing";
import { type JournalListing, NATIVE_TID, NativeTerminal, provisionForHost, swipeBits, type Line } from "./native-terminal";
import { EXIT_RESTART } from "../../hosts/lin/protocol";

export interface SoakOptions {
  readonly kills: number;
  readonly seed: number;
  /** Progress lines (one per life) go here; nothing when absent. */
  readonly onLife?: (line: string) => void;
}

export interface SoakReport {
  readonly kills: number;
  readonly transactions: number;
  readonly reversals: number;
  readonly violations: number;
  readonly agree: boolean;
  readonly cuts: number;
  readonly findings: readonly string[];
  readonly seconds: number;
  /** Images published, and the outcomes the terminal reported (update events: each version counted once). */
  readonly updates: SoakUpdates;
}

export interface SoakUpdates {
  readonly published: number;
  readonly rejected: number;
  readonly confirmed: number;
  readonly rolledBack: number;
}

const RESPONSE_TIMEOUT_MS = 1500;
const OPERATIONS_PER_LIFE_MAX = 4;
/** A life's operations run at most this long before the kill comes anyway. */
const LIFE_MS_MAX = 8000;
const KILL_DELAY_MS_MAX = 1200;
const CUT_OPERATION_MAX = 40;
/** Chance before each life that the host publishes an image, of these kinds (each a new minor version; older below 1.0.0). */
const PUBLISH_CHANCE = 0.3;
const SOAK_IMAGE_KINDS: readonly ImageKind[] = Object.freeze(["good", "badSignature", "corrupt", "crashesOnBoot", "older"]);
/** Kinds whose image verifies in the slot (its signature and digest are good); only `good` may be confirmed. */
const VERIFYING_KINDS: readonly (ImageKind | undefined)[] = Object.freeze(["good", "crashesOnBoot"]);
/** Launches of the drain life: an activation or a rollback during it restarts the terminal. */
const DRAIN_LAUNCHES_MAX = 3;
const DRAIN_MS_MAX = 60_000;
const CUT_CHANCE = 0.4;
const FAULT_CHANCE = 0.35;
const SWIPE_CARDS = Object.freeze(TEST_CARDS.filter((c) => c.entry === "swipe" && c.hostResponse === "00" && c.scheme === "unionpay"));
const FAULTS = Object.freeze([
  { kind: "noResponse" },
  { kind: "closeAfterRead" },
  { kind: "closeMidResponse" },
  { kind: "closeBeforeRead" },
  { kind: "delay", ms: RESPONSE_TIMEOUT_MS + 700 },
  { kind: "badMac" },
  { kind: "refuseConnection" },
  { kind: "decline", code: "51" },
]);

interface Plan {
  readonly cutAt: number;
  readonly killAfterMs: number;
  readonly operations: readonly { readonly op: string; readonly fault?: Readonly<Record<string, unknown>> }[];
}

function planLife(random: SeededRandom): Plan {
  const cut = random.chance(CUT_CHANCE);
  const count = 1 + random.below(OPERATIONS_PER_LIFE_MAX);
  const operations = [];
  for (let i = 0; i < count; i++) {
    const roll = random.below(100);
    const op = roll < 60 ? "sale" : roll < 72 ? "void" : roll < 84 ? "refund" : roll < 92 ? "settle" : "echo";
    const fault = random.chance(FAULT_CHANCE) ? random.pick(FAULTS) : undefined;
    operations.push({ op, ...(fault !== undefined ? { fault } : {}) });
  }
  return { cutAt: cut ? 1 + random.below(CUT_OPERATION_MAX) : 0, killAfterMs: random.below(KILL_DELAY_MS_MAX), operations };
}

async function journalOf(terminal: NativeTerminal): Promise<JournalListing> {
  return terminal.journal(10_000);
}

/** One life: boot, sign on, the planned operations; it ends killed here (true) or cut inside a flash operation (false). */
async function live(
  terminal: NativeTerminal,
  host: HostApp,
  plan: Plan,
  random: SeededRandom,
  approvedStans: string[],
  findings: string[],
): Promise<boolean> {
  let killed = false;
  const kill = async () => {
    killed = terminal.running;
    await terminal.kill();
  };
  const lifeTimer = setTimeout(() => void kill(), LIFE_MS_MAX);
  try {
    await terminal.waitFor((l) => l.ev === "boot", 10_000, 0);
    let from = terminal.lines.length;
    terminal.send({ run: "signOn" });
    await terminal.waitFor((l) => l.ev === "result" && l.op === "signOn", 15_000, from);
    for (const [index, step] of plan.operations.entries()) {
      host.core.faults.clear();
      if (step.fault !== undefined) host.core.faults.add(parseFault({ ...step.fault, count: 1 }));
      const card = random.pick(SWIPE_CARDS);
      const amount = 100 + random.below(50_000);
      const command: Record<string, unknown> = { run: step.op };
      if (step.op === "sale" || step.op === "refund") Object.assign(command, { amount, swipe: swipeBits(card.name), pin: card.pin });
      if (step.op === "refund" && approvedStans.length > 0) command.stan = random.pick(approvedStans);
      if (step.op === "void") {
        if (approvedStans.length === 0) continue;
        command.stan = random.pick(approvedStans);
      }
      from = terminal.lines.length;
      terminal.send(command);
      // The last operation of a life that is not cut inside the flash is where the kill lands.
      if (plan.cutAt === 0 && index === plan.operations.length - 1) {
        await new Promise((resolve) => setTimeout(resolve, plan.killAfterMs));
        break;
      }
      const result = await terminal.waitFor((l) => (l.ev === "result" && l.op === step.op) || l.error !== undefined, 20_000, from);
      if (result.outcome === "approved" && step.op === "sale" && typeof result.stan === "string") approvedStans.push(result.stan);
      // A full batch refuses sales: the merchant settles.
      if (result.outcome === "refused" && (step.op === "sale" || step.op === "refund")) {
        from = terminal.lines.length;
        terminal.send({ run: "settle" });
        await terminal.waitFor((l) => l.ev === "result" && l.op === "settle", 20_000, from);
      }
    }
  } catch (error) {
    // A terminal cut inside the flash exits in the middle of a wait: that is the point. A live one that stopped answering is a finding.
    if (terminal.running && !killed) findings.push(`a terminal stopped answering: ${(error as Error).message.split("\n")[0]}`);
  } finally {
    clearTimeout(lifeTimer);
    host.core.faults.clear();
  }
  // Survived its plan (or the cut never came: fewer flash operations than k): the kill ends it.
  if (terminal.running) await kill();
  return killed;
}

export async function soakNative(options: SoakOptions): Promise<SoakReport> {
  const started = Date.now();
  const random = new SeededRandom(options.seed);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-native-soak-"));
  const host = await startHost({ varDir: path.join(work, "host"), db: ":memory:", port: 0, controlPort: 0 });
  const flash = path.join(work, "flash.bin");
  const nvs = path.join(work, "nvs");
  const slots = path.join(work, "slots.bin");
  const findings: string[] = [];
  const sentRequests = new Map<string, string>();
  const approvedStans: string[] = [];
  let transactions = 0;
  let reversals = 0;
  let cuts = 0;
  let restarts = 0;
  // Firmware: what the host published, the versions whose slot verified, the highest version confirmed.
  const updates = new SeededRandom(options.seed ^ 0x0da7e);
  const signer = nodeImageSigner();
  const kinds = new Map<string, ImageKind>();
  const verified = new Set<string>([FIRMWARE_VERSION]);
  let confirmedCode = versionCode(FIRMWARE_VERSION);
  let published = 0;
  /** Version → its final update state reported (rejected, confirmed, rolledBack). */
  const outcomes = new Map<string, string>();
  const publish = () => {
    const kind = updates.pick(SOAK_IMAGE_KINDS);
    published++;
    const version = kind === "older" ? `0.${published}.0` : `1.${published}.0`;
    kinds.set(version, kind);
    host.core.tms.publishImage(buildImage({ version, kind, sizeBytes: 2048 + updates.below(8192) }, signer));
    return `published ${version} (${kind})`;
  };
  const account = (terminal: NativeTerminal) => {
    for (const line of terminal.lines) {
      const version = typeof line.version === "string" ? line.version : "";
      const kind = kinds.get(version);
      if (line.ev === "update" && line.state === "verified") {
        if (!VERIFYING_KINDS.includes(kind)) findings.push(`image ${version} (${kind}) verified in its slot`);
        verified.add(version);
      }
      if (line.ev === "update" && line.state === "confirmed") {
        if (kind !== "good") findings.push(`image ${version} (${kind}) confirmed`);
        confirmedCode = Math.max(confirmedCode, versionCode(version));
      }
      if (line.ev === "update" && line.state === "rolledBack" && kind === "good" && line.reason === "selfTest")
        findings.push(`image ${version} (good) rolled back: its self-test failed`);
      if (line.ev === "update" && (line.state === "rejected" || line.state === "confirmed" || line.state === "rolledBack"))
        outcomes.set(version, String(line.state));
      if (line.ev === "boot" && !verified.has(version)) findings.push(`booted ${version}, an image that never verified`);
      else if (line.ev === "boot" && versionCode(version) < confirmedCode)
        findings.push(`booted ${version}, older than a version confirmed`);
      if (line.ev === "result" && line.op !== "signOn") transactions++;
      if (line.ev === "journal" && line.state === "reversed") reversals++;
      // A financial request is never sent again after a kill (an armed one is reversed instead): a STAN in two 0200s
      // means a reversal or a late answer could land on the wrong transaction.
      if (line.ev === "send" && line.mti === "0200" && typeof line.stan === "string") {
        if (sentRequests.has(line.stan)) findings.push(`STAN ${line.stan} sent in two 0200 requests`);
        sentRequests.set(line.stan, "0200");
      }
    }
  };
  try {
    provisionForHost(
      nvs,
      host,
      { responseTimeoutMs: RESPONSE_TIMEOUT_MS, connectTimeoutMs: RESPONSE_TIMEOUT_MS },
      { releaseKey: fromHex(TMS_TEST_PUBLIC_KEY_HEX) },
    );
    for (let life = 1; life <= options.kills; life++) {
      const plan = planLife(random);
      const publication = updates.chance(PUBLISH_CHANCE) ? `; ${publish()}` : "";
      const terminal = new NativeTerminal({ flash, nvs, slots, cutAtFlashOperation: plan.cutAt });
      const killedHere = await live(terminal, host, plan, random, approvedStans, findings);
      const exit = await terminal.exited;
      const restarted = exit.code === EXIT_RESTART;
      if (restarted) restarts++;
      else if (exit.signal !== "SIGKILL")
        findings.push(`life ${life}: the terminal ended by itself (${exit.signal ?? exit.code}): ${terminal.stderr.join("").trim()}`);
      const cut = !killedHere && exit.signal === "SIGKILL";
      if (cut) cuts++;
      account(terminal);
      const ops = plan.operations.map((o) => o.op + (o.fault ? `+${String(o.fault.kind)}` : "")).join(" ");
      const end = restarted ? "restarted (update)" : cut ? `cut inside flash operation ${plan.cutAt}` : "killed";
      options.onLife?.(`life ${life}: ${end}; ${ops}${publication}`);
    }
    // The drain: a life without faults or kills pays what is owed, then the books are compared (started again
    // when an activation or a rollback restarts it).
    let journal: JournalListing | undefined;
    let drainFailed = false;
    for (let launch = 1; launch <= DRAIN_LAUNCHES_MAX && journal === undefined && !drainFailed; launch++) {
      const terminal = new NativeTerminal({ flash, nvs, slots });
      try {
        await terminal.waitFor((l) => l.ev === "boot", 10_000, 0);
        terminal.send({ run: "signOn" });
        await terminal.waitFor((l) => l.ev === "result" && l.op === "signOn", 30_000, 0);
        const deadline = Date.now() + DRAIN_MS_MAX;
        let drained = await journalOf(terminal);
        while ((drained.pending.length > 0 || !drained.idle) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 500));
          if (drained.idle) terminal.send({ run: "echo" });
          drained = await journalOf(terminal);
        }
        await terminal.quit();
        journal = drained;
      } catch (error) {
        const exit = terminal.running ? undefined : await terminal.exited;
        if (exit?.code === EXIT_RESTART && launch < DRAIN_LAUNCHES_MAX) restarts++;
        else {
          drainFailed = true;
          findings.push(`the drain did not finish: ${(error as Error).message.split("\n")[0]} ${terminal.stderr.join("").trim()}`);
        }
      } finally {
        await terminal.kill();
      }
      account(terminal);
    }
    options.onLife?.(`drain: ${restarts} restart(s) for updates in all, ${published} image(s) published`);
    if (journal === undefined) {
      return {
        kills: options.kills,
        transactions,
        reversals,
        violations: findings.length,
        agree: false,
        cuts,
        findings,
        seconds: (Date.now() - started) / 1000,
        updates: updateCounts(published, outcomes),
      };
    }
    for (const owed of journal.pending) findings.push(`reversal of STAN ${owed.stan} still owed after the drain (${owed.state})`);
    const view = host.ledger.view(NATIVE_TID);
    const batch = journal.state.batch;
    const voided = new Set(journal.approved.filter((r) => r.op === "void").map((r) => r.originalStan));
    const key = (l: { batch: string; stan: string; kind: string; amount: number }) => `${l.batch}/${l.stan}/${l.kind}/${l.amount}`;
    const hostOpen = view.approved.transactions
      .filter((l) => l.batch === batch)
      .map(key)
      .sort();
    const terminalOpen = journal.approved
      .filter((r) => r.op !== "void" && !voided.has(r.stan))
      .map((r) => key({ batch: r.batch, stan: r.stan, kind: r.op, amount: r.amount }))
      .sort();
    const agree = hostOpen.length === terminalOpen.length && hostOpen.every((k, i) => k === terminalOpen[i]);
    if (!agree) {
      for (const k of hostOpen.filter((k) => !terminalOpen.includes(k)))
        findings.push(`host holds an approval the terminal did not complete: ${k}`);
      for (const k of terminalOpen.filter((k) => !hostOpen.includes(k)))
        findings.push(`terminal holds an approval the host does not: ${k}`);
    }
    for (const u of view.unresolved.filter((u) => u.reason === "unbalancedSettlement"))
      findings.push(`batch ${u.batch} settled unbalanced`);
    return {
      kills: options.kills,
      transactions,
      reversals,
      violations: findings.length,
      agree,
      cuts,
      findings,
      seconds: (Date.now() - started) / 1000,
      updates: updateCounts(published, outcomes),
    };
  } finally {
    await host.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function updateCounts(published: number, outcomes: ReadonlyMap<string, string>): SoakUpdates {
  const count = (state: string) => [...outcomes.values()].filter((s) => s === state).length;
  return { published, rejected: count("rejected"), confirmed: count("confirmed"), rolledBack: count("rolledBack") };
}

export type { Line };
