/**
 * Drives the Linux terminal (hosts/lin, var/build/bin/lin/release/xspos)
 * from Node: provisions its NVS directory the way hosts/lin/moddable/
 * preference.ts stores values (what a key-injection station does for the
 * ESP32), starts the process on a flash file, writes JSON commands to its
 * stdin and collects the JSON lines it prints.
 */
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { TEST_CARDS, track2Text } from "../../modules/card/test-cards";
import { CIPHER_ALGORITHMS } from "../../modules/crypto/block-cipher";
import { encodeTrack } from "../../modules/emulators/msr-reader";
import { PARAMETER_TABLE, type TerminalParameters } from "../../modules/terminal/parameters";
import { NVS_KEYS, PARAMETERS_DOMAIN } from "../../hosts/esp32/nvs-keys";
import type { HostApp } from "../host/app";
import { DEFAULT_TERMINALS } from "../host/terminals";
import { REPO_ROOT } from "./mc-config";

export const NATIVE_TERMINAL = path.join(REPO_ROOT, "var/build/bin/lin/release/xspos");
const LINES_KEPT_MAX = 100_000;
/** Approvals one journal listing keeps: more than a journal partition holds. */
const LISTED_MAX = 10_000;
const WAIT_MS_DEFAULT = 30_000;

/** preference.ts's value encoding: one type byte, then the value. */
function nvsValue(value: string | number | boolean | Uint8Array): Buffer {
  if (typeof value === "string") return Buffer.concat([Buffer.from("s"), Buffer.from(value, "utf8")]);
  if (typeof value === "boolean") return Buffer.from([0x62, value ? 1 : 0]);
  if (typeof value === "number") {
    const out = Buffer.alloc(5);
    out[0] = 0x69;
    out.writeInt32LE(value, 1);
    return out;
  }
  return Buffer.concat([Buffer.from("a"), Buffer.from(value)]);
}

export interface Provisioning {
  readonly host: string;
  readonly port: number;
  readonly tid: string;
  readonly mid: string;
  readonly serverName: string;
  /** The TMK in clear, as a key-injection station loads it (3DES, 16 bytes). */
  readonly tmk: Uint8Array;
  /** The pinned CA, PEM (stored as DER, as on the device). */
  readonly caPem: string;
  /** Terminal parameters, stored under their NVS keys (hosts/esp32/nvs-keys.ts). */
  readonly parameters?: Partial<TerminalParameters>;
  /** The firmware release key's public half (04 || X || Y), as hosts/esp32/update-store.ts reads it; none: no updates. */
  readonly releaseKey?: Uint8Array;
}

export function provisionNvs(dir: string, p: Provisioning): void {
  const put = (domain: string, key: string, value: string | number | boolean | Uint8Array) => {
    fs.mkdirSync(path.join(dir, domain), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(dir, domain, key), nvsValue(value), { mode: 0o600 });
  };
  // Only what differs from the table's defaults: NVS integers are 32-bit, and batchAmountMaxMinor's default is not.
  const changed = Object.entries(p.parameters ?? {}).filter(([name, value]) => {
    const spec = PARAMETER_TABLE.find((s) => s.name === name);
    return spec === undefined || (typeof value === "string" ? value : Number(value)) !== spec.defaultValue;
  });
  const settings = { host: p.host, port: p.port, tid: p.tid, mid: p.mid, serverName: p.serverName, ...Object.fromEntries(changed) };
  for (const [name, value] of Object.entries(settings)) put(PARAMETERS_DOMAIN, NVS_KEYS[name as keyof typeof NVS_KEYS], value);
  put("xspos-keys", "tmk", Uint8Array.from([CIPHER_ALGORITHMS.indexOf("tdes"), ...p.tmk]));
  put("xspos-tls", "ca", new Uint8Array(new crypto.X509Certificate(p.caPem).raw));
  if (p.releaseKey !== undefined) put("xspos-update", "releaseKey", p.releaseKey);
}

/** The host simulator's first registered terminal, the one the tools' native terminals are. */
export const NATIVE_TID = DEFAULT_TERMINALS[0]!.tid;

/**
 * Provisions a terminal of `host` (its first registered TID, its TMK and test CA, loopback, server name localhost),
 * connecting to `port` (the host's own by default; the simulator page puts its network switch in between), with the
 * firmware release key when updates are on.
 */
export function provisionForHost(
  dir: string,
  host: HostApp,
  parameters?: Partial<TerminalParameters>,
  options: { readonly port?: number; readonly releaseKey?: Uint8Array } = {},
): void {
  const port = options.port ?? host.address.port;
  const releaseKey = options.releaseKey;
  const registered = DEFAULT_TERMINALS[0]!;
  provisionNvs(dir, {
    host: "127.0.0.1",
    port,
    tid: registered.tid,
    mid: registered.mid,
    serverName: "localhost",
    tmk: registered.tmk,
    caPem: fs.readFileSync(host.pki!.ca.cert, "utf8"),
    ...(parameters !== undefined ? { parameters } : {}),
    ...(releaseKey !== undefined ? { releaseKey } : {}),
  });
}

/** A test card's swipe as the strobe capture hands it over: one 0/1 character per bit. */
export function swipeBits(cardName: string): string {
  const card = TEST_CARDS.find((c) => c.name === cardName);
  if (card === undefined || card.entry !== "swipe") throw new Error(`no swipe test card ${cardName}`);
  return Array.from(encodeTrack(track2Text(card)), (b) => (b === 1 ? "1" : "0")).join("");
}

export type Line = Readonly<Record<string, unknown>>;

/** One approval of the open batch as the terminal lists it (`{"journal":true}`). */
export interface ListedApproval {
  readonly stan: string;
  readonly batch: string;
  readonly op: "sale" | "void" | "refund";
  readonly amount: number;
  readonly originalStan?: string;
}

/** The terminal's answer to `{"journal":true}`: its approvals (one line each before the summary) and the summary. */
export interface JournalListing {
  readonly approved: ListedApproval[];
  readonly approvedCount: number;
  readonly pending: { readonly stan: string; readonly state: string }[];
  readonly idle: boolean;
  readonly state: { readonly batch: string };
  readonly flashOperations: number;
}

export interface NativeTerminalOptions {
  readonly flash: string;
  readonly nvs: string;
  /** Cut the power inside the k-th flash erase or program (0: never). */
  readonly cutAtFlashOperation?: number;
  /** The A/B slots file (`--slots`): firmware updates on (with a release key in NVS). */
  readonly slots?: string;
  readonly binary?: string;
  /** Every line as it comes (the simulator page follows the terminal live). */
  readonly onLine?: (line: Line) => void;
}

export class NativeTerminal {
  readonly lines: Line[] = [];
  readonly stderr: string[] = [];
  readonly #child: ChildProcess;
  readonly #exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #waiters: { predicate: (line: Line) => boolean; resolve: (line: Line) => void }[] = [];
  /** Approval lines of the journal listing being read: kept apart from `lines` (a full batch is hundreds a listing). */
  #listing: ListedApproval[] = [];
  #pending = "";
  readonly #onLine: ((line: Line) => void) | undefined;

  constructor(options: NativeTerminalOptions) {
    this.#onLine = options.onLine;
    const args = ["--flash", options.flash, "--nvs", options.nvs];
    if (options.cutAtFlashOperation) args.push("--cut-at-flash-op", String(options.cutAtFlashOperation));
    if (options.slots !== undefined) args.push("--slots", options.slots);
    this.#child = spawn(options.binary ?? NATIVE_TERMINAL, args, { stdio: ["pipe", "pipe", "pipe"] });
    this.#child.stdout!.setEncoding("utf8");
    this.#child.stdout!.on("data", (chunk: string) => this.#onData(chunk));
    this.#child.stderr!.setEncoding("utf8");
    this.#child.stderr!.on("data", (chunk: string) => this.stderr.push(chunk));
    this.#child.stdin!.on("error", () => undefined);
    this.#exited = new Promise((resolve) => this.#child.once("exit", (code, signal) => resolve({ code, signal })));
  }

  get exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.#exited;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  send(command: Readonly<Record<string, unknown>>): void {
    this.#child.stdin!.write(JSON.stringify(command) + "\n");
  }

  /** The first line from now on (or already seen after `fromIndex`) that matches; rejects on timeout or exit. */
  waitFor(predicate: (line: Line) => boolean, timeoutMs = WAIT_MS_DEFAULT, fromIndex = this.lines.length): Promise<Line> {
    const seen = this.lines.slice(fromIndex).find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`native terminal: no matching line within ${timeoutMs} ms; last lines:\n${this.tail()}`));
      }, timeoutMs);
      const waiter = {
        predicate,
        resolve: (line: Line) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      this.#waiters.push(waiter);
      void this.#exited.then(({ code, signal }) => {
        if (!this.#waiters.includes(waiter)) return;
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`native terminal exited (${signal ?? code}) before a matching line; last lines:\n${this.tail()}`));
      });
    });
  }

  /** The journal listing: the terminal prints each approval on its own line, then the summary (`approvedCount` checks the lines). */
  async journal(timeoutMs = WAIT_MS_DEFAULT): Promise<JournalListing> {
    this.#listing = [];
    const from = this.lines.length;
    this.send({ journal: true });
    const summary = (await this.waitFor((l) => l.journal !== undefined, timeoutMs, from)).journal as Omit<JournalListing, "approved">;
    const approved = this.#listing;
    this.#listing = [];
    if (approved.length !== summary.approvedCount)
      throw new Error(`native terminal: journal listed ${approved.length} approvals, its summary says ${summary.approvedCount}`);
    return { ...summary, approved };
  }

  tail(count = 12): string {
    return [...this.lines.slice(-count).map((l) => JSON.stringify(l)), ...this.stderr.slice(-3)].join("\n");
  }

  async quit(): Promise<void> {
    if (this.running) this.send({ quit: true });
    const exit = await this.#exited;
    if (exit.code !== 0) throw new Error(`native terminal exited ${exit.signal ?? exit.code}: ${this.stderr.join("")}`);
  }

  kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.#child.kill("SIGKILL");
    return this.#exited;
  }

  #onData(chunk: string): void {
    this.#pending += chunk;
    let newline: number;
    while ((newline = this.#pending.indexOf("\n")) >= 0) {
      const text = this.#pending.slice(0, newline);
      this.#pending = this.#pending.slice(newline + 1);
      if (text.trim() === "") continue;
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        line = { unparsed: text };
      }
      if (line.approved !== undefined) {
        if (this.#listing.length < LISTED_MAX) this.#listing.push(line.approved as ListedApproval);
        continue;
      }
      if (this.lines.length < LINES_KEPT_MAX) this.lines.push(line);
      this.#onLine?.(line);
      for (const waiter of this.#waiters.filter((w) => w.predicate(line))) {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        waiter.resolve(line);
      }
    }
  }
}
