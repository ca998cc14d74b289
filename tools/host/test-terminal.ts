/**
 * A minimal terminal for driving the host from tests and the bench: builds
 * CUP requests with correct MACs and PIN blocks, takes working keys from the
 * 0810, and talks to the host over node:tls (or plain TCP) with framing.
 * It is a test driver, not the firmware: no journal, no retries.
 */
import net from "node:net";
import tls from "node:tls";
import { fromHex, toHex } from "../../modules/base/hex";
import { ecbDecrypt } from "../../modules/crypto/block-cipher";
import { Des, TripleDes } from "../../modules/crypto/des";
import { cupEcbMac, macEqual } from "../../modules/crypto/mac";
import { pinBlockFormat0 } from "../../modules/crypto/pin-block";
import { Iso8583Codec, type IsoFields, type IsoMessage } from "../../modules/iso8583/codec";
import { CUP } from "../../modules/iso8583/dialect";
import { frame, FrameReader } from "./decision";
import type { RegisteredTerminal } from "./terminals";

export const TPDU = "6000030000";
export const HEADER = "603100311312";

export interface SaleInput {
  readonly stan: string;
  readonly amount: number;
  readonly pan: string;
  readonly expiry: string;
  readonly pin?: string;
}

export class TestTerminal {
  readonly terminal: RegisteredTerminal;
  batch = "000001";
  readonly #codec = new Iso8583Codec({ dialect: CUP });
  #pik: TripleDes | undefined;
  #mak: Des | undefined;

  constructor(terminal: RegisteredTerminal) {
    this.terminal = terminal;
  }

  get signedOn(): boolean {
    return this.#mak !== undefined;
  }

  encode(mti: string, fields: IsoFields, mac: boolean): Uint8Array {
    const all: IsoFields = { ...fields, 41: this.terminal.tid, 42: this.terminal.mid };
    if (mac) all[64] = "0000000000000000";
    const bytes = this.#codec.encode({ tpdu: TPDU, header: HEADER, mti, fields: all }).slice();
    if (mac) this.#codec.writeMac(bytes, cupEcbMac(this.#mak!, this.#codec.macInput(bytes)));
    return bytes;
  }

  decode(bytes: Uint8Array): IsoMessage {
    return this.#codec.decode(bytes);
  }

  /** True when the response's F64 is the MAC of its content under the current MAK. */
  macValid(bytes: Uint8Array): boolean {
    return this.#mak !== undefined && macEqual(cupEcbMac(this.#mak, this.#codec.macInput(bytes)), this.#codec.macField(bytes));
  }

  signOn(stan: string): Uint8Array {
    return this.encode("0800", { 11: stan, 60: `00${this.batch}003` }, false);
  }

  /** Loads the working keys of an 0810 (3DES layout), checking both check values. */
  acceptSignOn(bytes: Uint8Array): IsoMessage {
    const message = this.decode(bytes);
    if (message.fields[39] !== "00") throw new Error(`sign-on declined ${message.fields[39]}`);
    const f62 = fromHex(message.fields[62] ?? "");
    if (f62.length !== 40 && f62.length !== 60) throw new Error(`F62 of ${f62.length} bytes`);
    const tmk = new TripleDes(this.terminal.tmk);
    const pik = ecbDecrypt(tmk, f62.subarray(0, 16));
    const mak = ecbDecrypt(tmk, f62.subarray(20, 36));
    this.#pik = new TripleDes(pik);
    this.#mak = new Des(mak.subarray(0, 8));
    const cv = (cipher: Des | TripleDes): string => {
      const block = new Uint8Array(8);
      cipher.encryptBlock(block, 0, block, 0);
      return toHex(block, 0, 4);
    };
    if (cv(this.#pik) !== toHex(f62, 16, 20) || cv(new TripleDes(mak)) !== toHex(f62, 36, 40))
      throw new Error("working key check value mismatch");
    this.batch = message.fields[60]!.slice(2, 8);
    return message;
  }

  saleFields(input: SaleInput): IsoFields {
    const fields: IsoFields = {
      2: input.pan,
      3: "000000",
      4: String(input.amount).padStart(12, "0"),
      11: input.stan,
      14: input.expiry,
      22: input.pin === undefined ? "022" : "021",
      25: "00",
      49: "156",
      60: `22${this.batch}000`,
    };
    if (input.pin !== undefined) {
      const block = pinBlockFormat0(input.pin, input.pan);
      this.#pik!.encryptBlock(block, 0, block, 0);
      fields[26] = "06";
      fields[52] = toHex(block);
      fields[53] = "2600000000000000";
    }
    return fields;
  }

  sale(input: SaleInput): Uint8Array {
    return this.encode("0200", this.saleFields(input), true);
  }

  /** The 0400 for an original request: same STAN, reason in F39, no PIN data (C-newpos rule). */
  reversal(original: IsoFields, reason: string): Uint8Array {
    const fields: IsoFields = { 39: reason };
    for (const [n, value] of Object.entries(original)) if (![26, 35, 36, 52, 53, 64].includes(Number(n))) fields[Number(n)] = value;
    return this.encode("0400", fields, true);
  }

  voidSale(stan: string, original: Omit<SaleInput, "stan">, originalStan: string): Uint8Array {
    const fields = { ...this.saleFields({ ...original, stan }), 3: "200000", 60: `23${this.batch}000`, 61: `${this.batch}${originalStan}` };
    return this.encode("0200", fields, true);
  }

  refund(input: SaleInput): Uint8Array {
    return this.encode("0220", { ...this.saleFields({ ...input, pin: undefined }), 3: "200000", 60: `25${this.batch}000` }, true);
  }

  /** 0500 with the terminal's totals: domestic then foreign, each debit n12 n3, credit n12 n3, flag. */
  settlement(stan: string, domestic: { debit: number; debits: number }, foreign = { debit: 0, debits: 0 }): Uint8Array {
    const part = (t: { debit: number; debits: number }): string =>
      `${String(t.debit).padStart(12, "0")}${String(t.debits).padStart(3, "0")}${"0".repeat(15)}0`;
    return this.encode("0500", { 11: stan, 48: part(domestic) + part(foreign), 49: "156", 60: `00${this.batch}201` }, true);
  }
}

export interface Link {
  /** Sends one framed request and resolves with the next whole message, or undefined when the host closed first. */
  exchange(request: Uint8Array, timeoutMs?: number): Promise<Uint8Array | undefined>;
  /** The next message already received or arriving within `timeoutMs`. */
  next(timeoutMs: number): Promise<Uint8Array | undefined>;
  send(bytes: Uint8Array): void;
  readonly closed: Promise<void>;
  close(): void;
}

export interface LinkOptions {
  readonly port: number;
  readonly host?: string;
  /** Pinned CA (PEM); absent = plain TCP. */
  readonly ca?: string | Buffer;
  readonly servername?: string;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

const EXCHANGE_TIMEOUT_MS = 10_000;
const QUEUED_MESSAGES_MAX = 16;

/** Connects (TLS when `ca` is given) and resolves once the handshake verified the server. */
export function connectLink(options: LinkOptions): Promise<Link> {
  return new Promise((resolve, reject) => {
    const host = options.host ?? "127.0.0.1";
    const socket: net.Socket =
      options.ca === undefined
        ? net.connect({ host, port: options.port })
        : tls.connect({
            host,
            port: options.port,
            ca: options.ca,
            servername: options.servername ?? "localhost",
            cert: options.cert,
            key: options.key,
            rejectUnauthorized: true,
            minVersion: "TLSv1.2",
          });
    socket.setNoDelay(true);
    const reader = new FrameReader();
    const queue: Uint8Array[] = [];
    let waiter: ((message: Uint8Array | undefined) => void) | undefined;
    let isClosed = false;
    let markClosed: () => void = () => undefined;
    const closed = new Promise<void>((done) => (markClosed = done));
    const deliver = (message: Uint8Array | undefined): void => {
      const w = waiter;
      waiter = undefined;
      if (w !== undefined) w(message);
      else if (message !== undefined && queue.length < QUEUED_MESSAGES_MAX) queue.push(message);
    };
    socket.on("data", (chunk: Buffer) => {
      if (reader.push(new Uint8Array(chunk), deliver) !== undefined) socket.destroy();
    });
    socket.on("error", (error) => {
      if (!isClosed && waiter === undefined && !connected) reject(error);
    });
    socket.on("close", () => {
      if (!connected) reject(new Error("connection closed before it was established"));
      isClosed = true;
      markClosed();
      deliver(undefined);
    });
    let connected = false;
    const link: Link = {
      next(timeoutMs) {
        const queued = queue.shift();
        if (queued !== undefined || isClosed) return Promise.resolve(queued);
        return new Promise((done) => {
          const timer = setTimeout(() => {
            waiter = undefined;
            done(undefined);
          }, timeoutMs);
          waiter = (message) => {
            clearTimeout(timer);
            done(message);
          };
        });
      },
      send(bytes) {
        socket.write(frame(bytes));
      },
      exchange(request, timeoutMs = EXCHANGE_TIMEOUT_MS) {
        link.send(request);
        return link.next(timeoutMs);
      },
      closed,
      close() {
        socket.destroy();
      },
    };
    socket.once(options.ca === undefined ? "connect" : "secureConnect", () => {
      connected = true;
      resolve(link);
    });
  });
}
